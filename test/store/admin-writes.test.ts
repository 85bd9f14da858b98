// Admin API writes against a real redis-server with two dialgate instances: a user, a dial
// plan, a voice route, a policy and a gateway created, replaced and deleted through one
// instance's HTTP API are validated like the file, switch both instances, evict only the users
// they touch, and are refused with 503 (nothing changed) while Redis is down.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, startInstance } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";

const TOKEN = "admin-secret-for-tests";
let redis: RedisServerProcess;
let client: RedisClient;
let store: RedisRoutingStore;
let a: { dialgate: Dialgate; port: number };
let b: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  redis = await RedisServerProcess.start({ persistent: true });
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  await pushRouting(store, { gatewayPort: await freeSipPort() });
  a = await startInstance({ url: redis.url, versionCheckSeconds: 3600 }, TOKEN);
  b = await startInstance({ url: redis.url, versionCheckSeconds: 3600 }, TOKEN);
});

afterAll(async () => {
  await a?.dialgate.stop();
  await b?.dialgate.stop();
  client?.disconnect();
  await redis?.cleanup();
});

async function api(
  who: { dialgate: Dialgate },
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const r = await fetch(`http://127.0.0.1:${who.dialgate.http.address.port}${path}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, json: text === "" ? null : (JSON.parse(text) as Record<string, unknown>) };
}

async function translated(who: { dialgate: Dialgate }, user: string, number: string): Promise<unknown> {
  const r = await api(who, "POST", "/v1/admin/dialplan/test", { user, number });
  return r.json?.translatedNumber;
}

const bothAt = (version: number) =>
  waitFor(
    () =>
      a.dialgate.sharedState?.routing.version === version &&
      b.dialgate.sharedState?.routing.version === version,
    20_000,
    `both instances at version ${version}`,
  );

describe("admin API writes through Redis", () => {
  it("refuses writes without the admin token", async () => {
    const r = await api(
      a,
      "PUT",
      "/v1/admin/tenants/contoso/users/dave@contoso.com",
      { usageLocation: "US" },
      null,
    );
    expect(r.status).toBe(401);
  });

  it("creates a user through one instance; the other routes for them", async () => {
    const r = await api(a, "PUT", "/v1/admin/tenants/contoso/users/dave@contoso.com", {
      lineUri: "+14255550103",
      usageLocation: "US",
      tenantDialPlan: "Redmond",
    });
    expect(r.status).toBe(201);
    expect(r.json?.changed).toEqual(["tenant contoso user dave@contoso.com"]);
    await bothAt(r.json?.routingVersion as number);
    expect(await translated(b, "dave@contoso.com", "5550123")).toBe("+14255550123");
    const shown = await api(b, "GET", "/v1/admin/users/dave@contoso.com");
    expect(shown.status).toBe(200);
  });

  // (Which cache entries a change evicts is covered by shared-routing.test.ts.)
  it("replaces a dial plan through the other instance; both translate with the new rule", async () => {
    expect(await translated(a, "alice@contoso.com", "5550123")).toBe("+14255550123");
    const r = await api(b, "PUT", "/v1/admin/tenants/contoso/dialPlans/Redmond", {
      normalizationRules: [{ name: "7digit", pattern: "^(\\d{7})$", translation: "+1206$1" }],
    });
    expect(r.status).toBe(200);
    expect(r.json?.changed).toEqual(["tenant contoso dialPlan Redmond"]);
    await bothAt(r.json?.routingVersion as number);
    expect(await translated(a, "alice@contoso.com", "5550123")).toBe("+12065550123");
    expect(await translated(a, "carol@contoso.com", "+12065550123")).toBe("+12065550123");
  });

  it("rejects an invalid object with every problem and its path, changing nothing", async () => {
    const before = await store.activeVersion();
    const r = await api(a, "PUT", "/v1/admin/tenants/contoso/users/erin@contoso.com", {
      lineUri: "not-a-number",
      usageLocation: "USA",
      tenantDialPlan: "NoSuchPlan",
    });
    expect(r.status).toBe(400);
    const details = (r.json?.error as { details: string[] }).details;
    expect(details.some((d) => d.includes("lineUri"))).toBe(true);
    expect(details.some((d) => d.includes("usageLocation"))).toBe(true);
    expect(await store.activeVersion()).toBe(before);
    const mismatch = await api(a, "PUT", "/v1/admin/tenants/contoso/users/erin@contoso.com", {
      id: "frank@contoso.com",
      usageLocation: "US",
    });
    expect(mismatch.status).toBe(400);
    expect(
      (await api(a, "PUT", "/v1/admin/tenants/nobody/users/x@nobody.com", { usageLocation: "US" })).status,
    ).toBe(404);
  });

  it("creates a gateway, a route and a policy, then deletes them", async () => {
    const gw = await api(a, "PUT", "/v1/admin/gateways/sbc9.contoso.com", {
      address: "127.0.0.1",
      sipSignalingPort: 5099,
      enabled: true,
    });
    expect(gw.status).toBe(201);
    const route = await api(a, "PUT", "/v1/admin/tenants/contoso/voiceRoutes/Intl", {
      numberPattern: "^\\+44\\d+$",
      priority: 2,
      onlinePstnUsages: ["US"],
      onlinePstnGatewayList: ["sbc9.contoso.com"],
    });
    expect(route.status).toBe(201);
    const policy = await api(a, "PUT", "/v1/admin/tenants/contoso/voiceRoutingPolicies/Intl", {
      onlinePstnUsages: ["US"],
    });
    expect(policy.status).toBe(201);
    await bothAt(policy.json?.routingVersion as number);
    const shown = await api(b, "GET", "/v1/admin/gateways/sbc9.contoso.com");
    expect(shown.status).toBe(200);
    // The gateway is still used by a route: deleting it would leave a dangling reference.
    expect((await api(a, "DELETE", "/v1/admin/gateways/sbc9.contoso.com")).status).toBe(400);
    expect((await api(a, "DELETE", "/v1/admin/tenants/contoso/voiceRoutes/Intl")).status).toBe(204);
    expect((await api(a, "DELETE", "/v1/admin/gateways/sbc9.contoso.com")).status).toBe(204);
    expect((await api(a, "DELETE", "/v1/admin/gateways/sbc9.contoso.com")).status).toBe(404);
    expect((await api(a, "DELETE", "/v1/admin/tenants/contoso/voiceRoutingPolicies/Intl")).status).toBe(204);
    expect((await api(a, "DELETE", "/v1/admin/tenants/contoso/users/dave@contoso.com")).status).toBe(204);
    const v = await store.activeVersion();
    await bothAt(v as number);
    expect((await api(b, "GET", "/v1/admin/users/dave@contoso.com")).status).toBe(404);
  });

  it("answers 503 and changes nothing while Redis is down", async () => {
    await redis.stop();
    await waitFor(() => a.dialgate.sharedState?.client.status !== "ready", 20_000, "A to see the outage");
    const r = await api(a, "PUT", "/v1/admin/tenants/contoso/users/gina@contoso.com", {
      usageLocation: "US",
    });
    expect(r.status).toBe(503);
    expect((r.json?.error as { code: string }).code).toBe("store_unavailable");
    await redis.start();
  });

  it("once Redis is back, a write through one instance reaches the other by pub/sub again", async () => {
    // The periodic version check is off (3600 s): only a re-subscribed connection hears of it.
    await waitFor(
      () =>
        a.dialgate.sharedState?.client.status === "ready" &&
        b.dialgate.sharedState?.client.status === "ready",
      20_000,
      "both instances reconnected",
    );
    let r: Awaited<ReturnType<typeof api>> = { status: 0, json: null };
    await waitFor(
      async () => {
        r = await api(a, "PUT", "/v1/admin/tenants/contoso/users/hana@contoso.com", {
          lineUri: "+14255550104",
          usageLocation: "US",
        });
        return r.status === 201;
      },
      20_000,
      "a write accepted after the outage",
    );
    await bothAt(r.json?.routingVersion as number);
    expect((await api(b, "GET", "/v1/admin/users/hana@contoso.com")).status).toBe(200);
  });
});

// Two dialgate instances on one real redis-server, driven by real SIPp: a push is routed by
// both (the switch announced through pub/sub: the periodic check is off), only the touched
// users' effective plans are evicted, a REGISTER through one instance makes the phone reachable
// through the other, and a file with routing objects next to a redis section is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { startDialgate } from "../../src/app.js";
import { dialgateConfigSchema, redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, registerScenario, routingConfig, startInstance } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let redis: RedisServerProcess;
let client: RedisClient;
let store: RedisRoutingStore;
let gatewayPort: number;
let a: { dialgate: Dialgate; port: number };
let b: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  gatewayPort = await freeSipPort();
  await pushRouting(store, { gatewayPort });
  // versionCheckSeconds: an hour, so only a pub/sub announcement can make an instance switch.
  a = await startInstance({ url: redis.url, versionCheckSeconds: 3600 });
  b = await startInstance({ url: redis.url, versionCheckSeconds: 3600 });
});

afterAll(async () => {
  await killAllSipp();
  await a?.dialgate.stop();
  await b?.dialgate.stop();
  client?.disconnect();
  await redis?.cleanup();
});

/** One call from `user` dialling `number` through the instance on `port`; the Request-URI the gateway saw. */
async function callThroughGateway(port: number, user: string, number: string): Promise<string | undefined> {
  const gw = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
  const uac = await SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port },
    service: number,
    keys: { from_user: user, from_domain: "contoso.com" },
  });
  const r = await uac.wait();
  const g = await gw.wait();
  expect(r.exitCode).toBe(0);
  return g.messages.find((m) => m.direction === "received" && m.method === "INVITE")?.requestUri ?? undefined;
}

describe("routing objects from Redis", () => {
  it("routes on the pushed objects through either instance", async () => {
    expect(a.dialgate.sharedState?.routing.version).toBe(1);
    expect(await callThroughGateway(a.port, "alice", "5550123")).toMatch(
      /^sip:\+14255550123@sbc1\.contoso\.com/,
    );
    expect(await callThroughGateway(b.port, "carol", "+12065550123")).toMatch(/^sip:\+12065550123@/);
    const readyz = await fetch(`http://127.0.0.1:${b.dialgate.http.address.port}/readyz`);
    expect(readyz.status).toBe(200);
    expect(
      ((await readyz.json()) as { checks: Record<string, { detail: string }> }).checks.redis?.detail,
    ).toMatch(/routing version 1/);
  });

  it("switches every instance on a push through pub/sub and evicts only the touched users", async () => {
    // Warm carol's plan on B (she has no user-scoped plan, so a Redmond change does not touch her).
    expect(await callThroughGateway(b.port, "carol", "+12065550124")).toBeDefined();
    const cacheB = b.dialgate.sharedState?.cache;
    expect(cacheB?.has("carol@contoso.com")).toBe(true);
    expect(cacheB?.has("alice@contoso.com")).toBe(false);
    expect(await callThroughGateway(b.port, "alice", "5550125")).toMatch(/^sip:\+14255550125@/);
    expect(cacheB?.has("alice@contoso.com")).toBe(true);

    const started = Date.now();
    const version = await pushRouting(store, { gatewayPort, sevenDigitTranslation: "+1206$1" });
    await waitFor(
      () =>
        a.dialgate.sharedState?.routing.version === version &&
        b.dialgate.sharedState?.routing.version === version,
      20_000,
      "both instances to switch",
    );
    // Observed, not asserted (timing): how long the announcement took to reach both.
    console.info(`push to switch on both instances: ${Date.now() - started} ms`);
    expect(cacheB?.has("alice@contoso.com")).toBe(false);
    expect(cacheB?.has("carol@contoso.com")).toBe(true);
    expect(await callThroughGateway(b.port, "alice", "5550126")).toMatch(/^sip:\+12065550126@/);
    expect(await callThroughGateway(a.port, "bob", "5550127")).toMatch(/^sip:\+12065550127@/);
  });

  it("makes a phone registered through one instance reachable through the other", async () => {
    const phonePort = await freeSipPort();
    const phone = await SippProcess.start({ scenario: "uas-answer.xml", port: phonePort });
    const register = registerScenario(phone.dir, "alice", phonePort);
    const reg = await SippProcess.start({ scenario: register, remote: { host: "127.0.0.1", port: a.port } });
    expect((await reg.wait()).exitCode).toBe(0);
    // Bob calls Alice's number through B: an internal call to her registered contact.
    const uac = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote: { host: "127.0.0.1", port: b.port },
      service: "+14255550100",
      keys: { from_user: "bob", from_domain: "contoso.com" },
    });
    expect((await uac.wait()).exitCode).toBe(0);
    const seen = (await phone.wait()).messages.find(
      (m) => m.direction === "received" && m.method === "INVITE",
    );
    expect(seen?.requestUri).toBe(`sip:alice@127.0.0.1:${phonePort}`);
  });

  it("shares the carrier API paging-cursor key between instances", async () => {
    const [sa, sb] = [a.dialgate.sharedState, b.dialgate.sharedState];
    expect(sa?.cursorKey).toHaveLength(32);
    expect(sa?.cursorKey.equals(sb?.cursorKey ?? Buffer.alloc(0))).toBe(true);
    expect(await client.get(store.keys.cursorSecret)).toBe(sa?.cursorKey.toString("hex"));
  });

  it("refuses to start with routing objects next to a redis section, pointing to config push", async () => {
    const port = await freeSipPort();
    const file = routingConfig({ gatewayPort });
    const config = dialgateConfigSchema.parse({
      ...file,
      sip: { ...file.sip, listen: [{ transport: "udp", host: "127.0.0.1", port }] },
      http: { port: 0 },
      redis: { url: redis.url },
    });
    await expect(startDialgate(config)).rejects.toThrow(/dialgate config push/);
  });
});

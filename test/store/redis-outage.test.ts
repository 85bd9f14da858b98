// Redis killed under a running instance (real redis-server, real SIPp): calls keep routing on
// the cached routing version, a phone registered before the outage stays reachable, a REGISTER
// gets a clear 503, /readyz answers 503 naming Redis and dialgate_redis_up says 0; when Redis
// returns everything recovers by itself (no restart): ready again, and a new push is routed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { readCdrs } from "../support/cdr-records.js";
import { freeSipPort, freeTcpPort, waitFor } from "../support/free-port.js";
import { pushRouting, registerScenario, startInstance } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let redis: RedisServerProcess;
let client: RedisClient;
let store: RedisRoutingStore;
let gatewayPort: number;
let phonePort: number;
let phone: SippProcess;
let a: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  redis = await RedisServerProcess.start({ persistent: true });
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  gatewayPort = await freeSipPort();
  phonePort = await freeSipPort();
  await pushRouting(store, { gatewayPort });
  a = await startInstance({ url: redis.url, versionCheckSeconds: 1 });
});

afterAll(async () => {
  await killAllSipp();
  await a?.dialgate.stop();
  client?.disconnect();
  await redis?.cleanup();
});

async function call(user: string, number: string): Promise<{ exitCode: number | null; requestUri?: string }> {
  const gw = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
  const uac = await SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port: a.port },
    service: number,
    keys: { from_user: user, from_domain: "contoso.com" },
  });
  const r = await uac.wait();
  const g = await gw.kill();
  const invite = g.messages.find((m) => m.direction === "received" && m.method === "INVITE");
  return { exitCode: r.exitCode, ...(invite?.requestUri ? { requestUri: invite.requestUri } : {}) };
}

async function readyz(): Promise<{
  status: number;
  body: { checks: Record<string, { ok: boolean; detail?: string }> };
}> {
  const r = await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/readyz`);
  return { status: r.status, body: (await r.json()) as never };
}

async function metric(name: string): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/metrics`)).text();
  return text.split("\n").find((l) => l.startsWith(`${name} `));
}

describe("Redis down and back", () => {
  it("routes and registers normally with Redis up", async () => {
    phone = await SippProcess.start({ scenario: "uas-answer.xml", port: phonePort });
    const reg = await SippProcess.start({
      scenario: registerScenario(phone.dir, "alice", phonePort),
      remote: { host: "127.0.0.1", port: a.port },
    });
    expect((await reg.wait()).exitCode).toBe(0);
    expect((await call("bob", "5550170")).requestUri).toMatch(/^sip:\+14255550170@sbc1/);
    expect((await readyz()).status).toBe(200);
    expect(await metric("dialgate_redis_up")).toBe("dialgate_redis_up 1");
  });

  it("keeps routing and reaching known registrations, refuses REGISTER, reports 503 naming Redis", async () => {
    await redis.stop();
    await waitFor(async () => (await readyz()).status === 503, 20_000, "/readyz to report the outage");
    const r = await readyz();
    expect(r.body.checks.redis?.ok).toBe(false);
    expect(r.body.checks.redis?.detail).toMatch(
      /^Redis 127\.0\.0\.1:\d+ unreachable since .*routing on cached version 1/,
    );
    expect(await metric("dialgate_redis_up")).toBe("dialgate_redis_up 0");

    // A cached user and one never looked up before: both route on the version in memory.
    const cached = await call("bob", "5550171");
    expect(cached.exitCode).toBe(0);
    expect(cached.requestUri).toMatch(/^sip:\+14255550171@sbc1/);
    const cold = await call("carol", "+12065550102");
    expect(cold.exitCode).toBe(0);
    expect(cold.requestUri).toMatch(/^sip:\+12065550102@sbc1/);

    // Bob calls Alice: her binding is known to this instance, so her phone still rings.
    const toAlice = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote: { host: "127.0.0.1", port: a.port },
      service: "+14255550100",
      keys: { from_user: "bob", from_domain: "contoso.com" },
    });
    expect((await toAlice.wait()).exitCode).toBe(0);
    const seen = (await phone.wait()).messages.find(
      (m) => m.direction === "received" && m.method === "INVITE",
    );
    expect(seen?.requestUri).toBe(`sip:alice@127.0.0.1:${phonePort}`);

    // A REGISTER is a write: a clear 503 with Retry-After, not a half-stored binding.
    const otherPort = await freeSipPort();
    const reg = await SippProcess.start({
      scenario: registerScenario(phone.dir, "bob", otherPort, 503),
      remote: { host: "127.0.0.1", port: a.port },
    });
    const regResult = await reg.wait();
    expect(regResult.exitCode).toBe(0);
    const answer = regResult.messages.find((m) => m.direction === "received" && m.status === 503);
    expect(answer?.header("Retry-After")[0]).toBe("30");
  });

  it("recovers by itself when Redis returns: ready again, and the next push is routed", async () => {
    await redis.start();
    await waitFor(async () => (await readyz()).status === 200, 30_000, "/readyz to recover");
    expect(await metric("dialgate_redis_up")).toBe("dialgate_redis_up 1");
    await waitForRedisReady(client, 10_000, "test redis");
    const version = await pushRouting(store, { gatewayPort, sevenDigitTranslation: "+1206$1" });
    await waitFor(
      () => a.dialgate.sharedState?.routing.version === version,
      20_000,
      "the switch after recovery",
    );
    expect((await call("bob", "5550173")).requestUri).toMatch(/^sip:\+12065550173@sbc1/);
  });

  it("loses no call when Redis is killed under load, and has every CDR once after it returns", async () => {
    // A limit on sbc1, so every call reads the cluster-wide count from Redis.
    const version = await pushRouting(store, { gatewayPort, maxConcurrentSessions: 100 });
    await waitFor(() => a.dialgate.sharedState?.routing.version === version, 20_000, "the limit");
    const calls = 40;
    const gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort, calls });
    const load = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote: { host: "127.0.0.1", port: a.port },
      service: "5550175",
      keys: { from_user: "bob", from_domain: "contoso.com" },
      calls,
      rate: 10,
      pauseMs: 300,
    });
    await waitFor(
      () => load.messagesSoFar().filter((m) => m.direction === "sent" && m.method === "BYE").length >= 5,
      20_000,
      "the load to be under way",
    );
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await redis.start();
    const result = await load.wait();
    await gateway.wait();
    expect(result.exitCode, result.errors).toBe(0);
    expect(result.stats?.successfulCalls).toBe(calls);
    expect(result.stats?.failedCalls).toBe(0);

    const callIds = new Set(
      result.messages
        .filter((m) => m.direction === "sent" && m.method === "INVITE")
        .map((m) => m.header("Call-ID")[0] ?? ""),
    );
    expect(callIds.size).toBe(calls);
    await waitForRedisReady(client, 10_000, "test redis");
    const stream = a.dialgate.cdrLog as unknown as { spooled: number };
    await waitFor(() => stream.spooled === 0, 30_000, "the spooled CDRs to be replayed");
    const ids = (await readCdrs(a.dialgate.cdrLog)).records.map((r) => r.correlationId);
    const ofLoad = ids.filter((id) => callIds.has(id));
    expect(new Set(ofLoad).size).toBe(calls);
    expect(ofLoad).toHaveLength(calls);
  }, 120_000);

  it("starts while Redis is still coming up, and routes once it is there", async () => {
    const port = await freeTcpPort();
    const url = `redis://127.0.0.1:${port}`;
    // The instance waits for Redis at start; Redis comes up during that wait.
    const starting = startInstance({ url, versionCheckSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_500));
    const late = await RedisServerProcess.start({ port });
    try {
      const b = await starting;
      try {
        const lateClient = createRedisClient({ settings: redisSchema.parse({ url }) });
        await waitForRedisReady(lateClient, 10_000, "late redis");
        const version = await pushRouting(new RedisRoutingStore(lateClient, new RedisKeys("dialgate")), {
          gatewayPort,
        });
        lateClient.disconnect();
        await waitFor(() => b.dialgate.sharedState?.routing.version === version, 20_000, "the first version");
        const r = await fetch(`http://127.0.0.1:${b.dialgate.http.address.port}/readyz`);
        expect(r.status).toBe(200);
      } finally {
        await b.dialgate.stop();
      }
    } finally {
      await late.cleanup();
    }
  });
});

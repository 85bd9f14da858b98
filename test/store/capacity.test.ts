// Cluster-wide maxConcurrentSessions against a real redis-server: a call through one instance
// (the built `dialgate serve`) fills the gateway, so a call through another instance is
// refused; then the first instance is killed with SIGKILL mid-call, its lease lapses after
// capacityLeaseSeconds, and the gateway takes calls again -- a crash cannot leak capacity.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, startInstance } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SCENARIO_DIR, SippProcess } from "../support/sipp.js";
import { type BinaryProxy, startBinaryProxy } from "../support/test-proxy.js";

const LEASE_SECONDS = 2;
let redis: RedisServerProcess;
let client: RedisClient;
let keys: RedisKeys;
let gatewayPort: number;
let a: BinaryProxy;
let b: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  keys = new RedisKeys("dialgate");
  gatewayPort = await freeSipPort();
  await pushRouting(new RedisRoutingStore(client, keys), { gatewayPort, maxConcurrentSessions: 1 });
  a = await startBinaryProxy(`
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: @PORT@ }]
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 0
http: { port: 0 }
redis: { url: "${redis.url}", capacityLeaseSeconds: ${LEASE_SECONDS} }
`);
  b = await startInstance({ url: redis.url, capacityLeaseSeconds: LEASE_SECONDS });
});

afterAll(async () => {
  await killAllSipp();
  a?.process.kill("SIGKILL");
  await b?.dialgate.stop();
  client?.disconnect();
  await redis?.cleanup();
});

/** The shared failing-call scenario, calling as a tenant user. */
function userRejectScenario(): string {
  const text = readFileSync(join(SCENARIO_DIR, "uac-reject.xml"), "utf8").replaceAll(
    '"Caller" <sip:caller@[local_ip]:[local_port]>',
    "<sip:[from_user]@[from_domain]>",
  );
  const file = join(mkdtempSync(join(tmpdir(), "dialgate-capacity-")), "uac-user-reject.xml");
  writeFileSync(file, text);
  return file;
}

/** Leases on sbc1 that have not lapsed. */
async function liveLeases(): Promise<number> {
  return client.zcount(keys.gatewayLeases("sbc1.contoso.com"), `(${Date.now()}`, "+inf");
}

async function metricsOfB(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${b.dialgate.http.address.port}/metrics`)).text();
}

describe("cluster-wide gateway capacity", () => {
  it("holds maxConcurrentSessions across instances and releases a killed instance's lease", async () => {
    let gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort, calls: 2 });
    // A long call through A (the binary): it holds sbc1's only session.
    const long = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote: { host: "127.0.0.1", port: a.port },
      service: "5550140",
      keys: { from_user: "alice", from_domain: "contoso.com" },
      pauseMs: 120_000,
      timeoutSeconds: 180,
    });
    await waitFor(async () => (await liveLeases()) === 1, 20_000, "A's lease on sbc1");

    // Through B the gateway is full: the caller is refused and sbc1 sees no second INVITE.
    const refused = await SippProcess.start({
      scenario: userRejectScenario(),
      remote: { host: "127.0.0.1", port: b.port },
      service: "5550141",
      keys: { from_user: "bob", from_domain: "contoso.com", maxfwd: "70" },
    });
    const refusal = await refused.wait();
    const finals = refusal.messages.filter((m) => m.direction === "received" && (m.status ?? 0) >= 300);
    expect(finals.length).toBeGreaterThan(0);
    expect(finals[0]?.status).toBeGreaterThanOrEqual(400);
    expect(
      gateway.messagesSoFar().filter((m) => m.direction === "received" && m.method === "INVITE"),
    ).toHaveLength(1);
    // The 90% alert, from the cluster-wide count B read.
    const text = await metricsOfB();
    expect(text).toContain('dialgate_gateway_capacity_alert{gateway="sbc1.contoso.com"} 1');
    expect(text).toContain('dialgate_gateway_calls_in_progress{gateway="sbc1.contoso.com"} 1');

    // A dies mid-call: nothing releases its lease, so it must lapse by itself.
    a.process.kill("SIGKILL");
    await long.kill();
    await gateway.kill();
    await waitFor(async () => (await liveLeases()) === 0, 30_000, "the killed instance's lease to lapse");
    // B routes nothing meanwhile, yet its gauges follow the cluster-wide count: the alert clears.
    await waitFor(
      async () =>
        (await metricsOfB()).includes('dialgate_gateway_capacity_alert{gateway="sbc1.contoso.com"} 0'),
      20_000,
      "the 90% alert to clear once the calls are over",
    );
    expect(await metricsOfB()).toContain('dialgate_gateway_calls_in_progress{gateway="sbc1.contoso.com"} 0');

    gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
    const after = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote: { host: "127.0.0.1", port: b.port },
      service: "5550142",
      keys: { from_user: "bob", from_domain: "contoso.com" },
    });
    expect((await after.wait()).exitCode).toBe(0);
    const invite = (await gateway.wait()).messages.find(
      (m) => m.direction === "received" && m.method === "INVITE",
    );
    expect(invite?.requestUri).toMatch(/^sip:\+14255550142@sbc1/);
    // B released its own lease when the call ended.
    await waitFor(async () => (await liveLeases()) === 0, 20_000, "B's lease to be released");
    // With no call left and no new routing decision, the gauges follow: the alert clears.
    await waitFor(
      async () =>
        (await metricsOfB()).includes('dialgate_gateway_capacity_alert{gateway="sbc1.contoso.com"} 0'),
      20_000,
      "the 90% alert to clear once the calls are over",
    );
    expect(await metricsOfB()).toContain('dialgate_gateway_calls_in_progress{gateway="sbc1.contoso.com"} 0');
  });
});

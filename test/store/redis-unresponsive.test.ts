// Redis that stops answering without closing its connections (redis-server frozen with
// SIGSTOP: a hung server, or a network path that drops replies). No "close" event tells the
// client, so this is what bounds every wait on Redis: calls to a gateway with a
// maxConcurrentSessions limit (cluster-wide count) and to a registered phone still route,
// a REGISTER gets a clear 503, /readyz and dialgate_redis_up report the outage, the CDRs are
// spooled and reach the stream once each when Redis answers again -- all without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, registerScenario, startInstance } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let redis: RedisServerProcess;
let client: RedisClient;
let gatewayPort: number;
let phonePort: number;
let a: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  gatewayPort = await freeSipPort();
  phonePort = await freeSipPort();
  // A limit on sbc1: routing a call to it reads the cluster-wide count from Redis.
  await pushRouting(new RedisRoutingStore(client, new RedisKeys("dialgate")), {
    gatewayPort,
    maxConcurrentSessions: 10,
  });
  a = await startInstance({ url: redis.url, versionCheckSeconds: 1 });
});

afterAll(async () => {
  redis?.resume();
  await killAllSipp();
  await a?.dialgate.stop();
  client?.disconnect();
  await redis?.cleanup();
});

/** One call; SIPp gives up after 15 s (a call stuck behind a silent Redis fails the test). */
async function call(user: string, number: string, gatewayScenario = true) {
  const gw = gatewayScenario
    ? await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort })
    : null;
  const uac = await SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port: a.port },
    service: number,
    keys: { from_user: user, from_domain: "contoso.com" },
    timeoutSeconds: 15,
  });
  const r = await uac.wait();
  const g = await gw?.kill();
  const invite = g?.messages.find((m) => m.direction === "received" && m.method === "INVITE");
  const callId = r.messages
    .find((m) => m.direction === "sent" && m.method === "INVITE")
    ?.header("Call-ID")[0];
  return { exitCode: r.exitCode, requestUri: invite?.requestUri ?? undefined, callId };
}

async function readyz(): Promise<{ status: number; detail: string | undefined }> {
  const r = await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/readyz`);
  const body = (await r.json()) as { checks: Record<string, { detail?: string }> };
  return { status: r.status, detail: body.checks.redis?.detail };
}

async function metric(name: string): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/metrics`)).text();
  return text.split("\n").find((l) => l.startsWith(`${name} `));
}

/** Every CDR id in the stream (read from the test's own connection). */
async function streamCdrIds(): Promise<string[]> {
  const rows = (await client.xrange(new RedisKeys("dialgate").cdrStream, "-", "+")) as [string, string[]][];
  return rows.flatMap(([, fields]) => {
    const e = JSON.parse(fields[1] ?? "{}") as { kind?: string; record?: { correlationId: string } };
    return e.kind === "cdr" && e.record ? [e.record.correlationId] : [];
  });
}

describe("Redis that stops answering", () => {
  it("does not hold calls, says so on /readyz and /metrics, and recovers by itself", async () => {
    const phone = await SippProcess.start({ scenario: "uas-answer.xml", port: phonePort });
    const reg = await SippProcess.start({
      scenario: registerScenario(phone.dir, "alice", phonePort),
      remote: { host: "127.0.0.1", port: a.port },
    });
    expect((await reg.wait()).exitCode).toBe(0);
    const before = await call("bob", "5550180");
    expect(before.requestUri).toMatch(/^sip:\+14255550180@sbc1/);
    expect((await readyz()).status).toBe(200);

    redis.pause();
    const callIds: string[] = [];
    try {
      // Straight away, before anything noticed: the capacity count of sbc1 cannot wait forever.
      const limited = await call("bob", "5550181");
      expect(limited.exitCode).toBe(0);
      expect(limited.requestUri).toMatch(/^sip:\+14255550181@sbc1/);
      // Alice's binding, known to this instance, still routes.
      const toAlice = await call("bob", "+14255550100", false);
      expect(toAlice.exitCode).toBe(0);
      const seen = (await phone.wait()).messages.find(
        (m) => m.direction === "received" && m.method === "INVITE",
      );
      expect(seen?.requestUri).toBe(`sip:alice@127.0.0.1:${phonePort}`);
      for (const c of [limited, toAlice]) if (c.callId) callIds.push(c.callId);

      // A REGISTER is a write: a clear 503, within the SIPp run.
      const refused = await SippProcess.start({
        scenario: registerScenario(phone.dir, "carol", await freeSipPort(), 503),
        remote: { host: "127.0.0.1", port: a.port },
        timeoutSeconds: 15,
      });
      expect((await refused.wait()).exitCode).toBe(0);

      await waitFor(
        async () => (await readyz()).status === 503,
        20_000,
        "/readyz to report the silent Redis",
      );
      expect((await readyz()).detail).toMatch(/^Redis 127\.0\.0\.1:\d+ not answering/);
      expect(await metric("dialgate_redis_up")).toBe("dialgate_redis_up 0");
    } finally {
      redis.resume();
    }

    await waitFor(async () => (await readyz()).status === 200, 30_000, "/readyz to recover");
    expect(await metric("dialgate_redis_up")).toBe("dialgate_redis_up 1");
    // The CDRs of the calls made meanwhile are in the stream, each once.
    await waitFor(
      async () => {
        const ids = await streamCdrIds();
        return callIds.every((id) => ids.includes(id));
      },
      30_000,
      "the calls' CDRs in the stream",
    );
    const ids = await streamCdrIds();
    expect(ids.length).toBe(new Set(ids).size);
    expect((await call("bob", "5550182")).requestUri).toMatch(/^sip:\+14255550182@sbc1/);
  }, 120_000);
});

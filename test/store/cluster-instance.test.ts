// A whole dialgate instance on a real three-master Redis Cluster, driven by SIPp: every script
// and multi-key command the instance runs (routing switch and effective plans, digest nonce
// secret, registrations, capacity count, leases and their renewal pipeline, the CDR stream)
// must stay within one slot, and the change announcement must reach the instance through the
// Cluster's pub/sub (the periodic version check is off).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { readCdrs } from "../support/cdr-records.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, registerScenario, startInstance } from "../support/redis-dialgate.js";
import { RedisClusterProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let cluster: RedisClusterProcess;
let client: RedisClient;
let store: RedisRoutingStore;
let gatewayPort: number;
let a: { dialgate: Dialgate; port: number };

beforeAll(async () => {
  cluster = await RedisClusterProcess.start();
  const redis = { url: cluster.urls[0] as string, cluster: true, clusterNodes: cluster.urls.slice(1) };
  client = createRedisClient({ settings: redisSchema.parse(redis) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 15_000, "test cluster");
  store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  gatewayPort = await freeSipPort();
  await pushRouting(store, { gatewayPort, maxConcurrentSessions: 5 });
  a = await startInstance({ ...redis, versionCheckSeconds: 3600, capacityLeaseSeconds: 1 });
});

afterAll(async () => {
  await killAllSipp();
  await a?.dialgate.stop();
  client?.disconnect();
  await cluster?.cleanup();
});

async function call(user: string, number: string, port = gatewayPort, pauseMs = 200) {
  const callee = await SippProcess.start({ scenario: "uas-answer.xml", port });
  const uac = await SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port: a.port },
    service: number,
    keys: { from_user: user, from_domain: "contoso.com" },
    pauseMs,
  });
  const r = await uac.wait();
  const c = await callee.wait();
  const invite = c.messages.find((m) => m.direction === "received" && m.method === "INVITE");
  const callId = r.messages
    .find((m) => m.direction === "sent" && m.method === "INVITE")
    ?.header("Call-ID")[0];
  return { exitCode: r.exitCode, requestUri: invite?.requestUri, callId };
}

describe("one instance on a Redis Cluster", () => {
  it("registers, routes with the cluster-wide capacity count, records CDRs and follows a push", async () => {
    const phonePort = await freeSipPort();
    const reg = await SippProcess.start({
      scenario: registerScenario(mkdtempSync(join(tmpdir(), "dialgate-cluster-")), "alice", phonePort),
      remote: { host: "127.0.0.1", port: a.port },
    });
    expect((await reg.wait()).exitCode).toBe(0);

    const leases = new RedisKeys("dialgate").gatewayLeases("sbc1.contoso.com");
    // An 8 s call: many lease renewals (every capacityLeaseSeconds / 3), and room for a slow
    // start of the two SIPp processes on a busy CI machine.
    const pending = call("bob", "5550190", gatewayPort, 8_000);
    let ended: Awaited<typeof pending> | null = null;
    void pending.then((r) => {
      ended = r;
    });
    // Mid-call, past capacityLeaseSeconds (1 s): the lease is still live, so it was renewed.
    await waitFor(
      async () => {
        if (ended !== null)
          throw new Error(`the call ended before its lease was seen: ${JSON.stringify(ended)}`);
        return (await client.zcard(leases)) === 1;
      },
      30_000,
      "the call's lease",
    );
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await client.zcount(leases, `(${Date.now()}`, "+inf")).toBe(1);
    const out = await pending;
    expect(out.exitCode).toBe(0);
    expect(out.requestUri).toMatch(/^sip:\+14255550190@sbc1/);
    const toAlice = await call("bob", "+14255550100", phonePort);
    expect(toAlice.exitCode).toBe(0);
    expect(toAlice.requestUri).toBe(`sip:alice@127.0.0.1:${phonePort}`);

    // The leases were released when the calls ended: nothing left on sbc1.
    await waitFor(async () => (await client.zcard(leases)) === 0, 10_000, "the leases to be released");
    const metrics = await (await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/metrics`)).text();
    expect(metrics).toContain('dialgate_gateway_calls_in_progress{gateway="sbc1.contoso.com"}');

    await waitFor(
      async () => {
        const ids = (await readCdrs(a.dialgate.cdrLog)).records.map((r) => r.correlationId);
        return [out.callId, toAlice.callId].every((id) => id !== undefined && ids.includes(id));
      },
      20_000,
      "both CDRs in the stream",
    );
    expect(a.dialgate.cdrLog.health().writable).toBe(true);
    // The merged effective plan was written behind to Redis (a script on the routing slot).
    await waitFor(
      async () => (await client.hexists(new RedisKeys("dialgate").effectivePlans, "bob@contoso.com")) === 1,
      10_000,
      "bob's effective plan in Redis",
    );

    // A push reaches the instance by pub/sub through the Cluster.
    const version = await pushRouting(store, {
      gatewayPort,
      maxConcurrentSessions: 5,
      sevenDigitTranslation: "+1206$1",
    });
    await waitFor(() => a.dialgate.sharedState?.routing.version === version, 20_000, "the switch");
    expect((await call("alice", "5550191")).requestUri).toMatch(/^sip:\+12065550191@sbc1/);
    const readyz = await fetch(`http://127.0.0.1:${a.dialgate.http.address.port}/readyz`);
    expect(readyz.status).toBe(200);
  }, 120_000);
});

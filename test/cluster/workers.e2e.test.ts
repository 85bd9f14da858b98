// `dialgate serve` with two worker processes (sip.workers: 2, src/cluster/) on one shared UDP
// port, routing from a real redis-server, driven by SIPp: calls, CANCEL while ringing,
// retransmitted INVITEs under loss, failover, a registration made through one worker and used by
// the other, the cluster-wide /metrics, and a worker killed mid-run that is restarted while the
// other keeps serving.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRouting, registerScenario } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SCENARIO_DIR, SippProcess } from "../support/sipp.js";
import { type BinaryProxy, startBinaryProxy } from "../support/test-proxy.js";

let redis: RedisServerProcess;
let client: RedisClient;
let proxy: BinaryProxy;
let httpPort: number;
const gw = { one: 0, two: 0 };
let scratch: string;

/** A shared scenario with the caller as a tenant user (From: from_user@from_domain). */
function asUser(scenario: string): string {
  const text = readFileSync(join(SCENARIO_DIR, scenario), "utf8").replaceAll(
    '"Caller" <sip:caller@[local_ip]:[local_port]>',
    "<sip:[from_user]@[from_domain]>",
  );
  const file = join(scratch, `user-${scenario}`);
  writeFileSync(file, text);
  return file;
}

const bob = { from_user: "bob", from_domain: "contoso.com" };

/** SIPp calling as bob through the shared port, 10 calls a second. */
function callAsBob(
  service: string,
  calls: number,
  extra: { lostPercent?: number; timeoutSeconds?: number } = {},
) {
  return SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port: proxy.port },
    service,
    keys: bob,
    calls,
    rate: 10,
    ...extra,
  });
}

function received(s: { messages: readonly { direction: string; method: string; status: number | null }[] }) {
  return s.messages.filter((m) => m.direction === "received" && m.status === null && m.method === "INVITE");
}

/** The distinct ports of the proxy's Record-Route in the INVITEs a gateway received. */
function recordRoutePorts(
  messages: readonly { direction: string; method: string; header(n: string): string[] }[],
) {
  const ports = new Set<string>();
  for (const m of messages)
    if (m.direction === "received" && m.method === "INVITE")
      for (const rr of m.header("Record-Route")) ports.add(/:(\d+)[;>]/.exec(rr)?.[1] ?? "?");
  return ports;
}

async function metricsText(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
}

/** Sum of a counter's samples whose labels contain every given fragment. */
function sample(text: string, name: string, ...labels: string[]): number {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && labels.every((f) => l.includes(f)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/** The workers' pids, from the primary's log lines (start-up, then each restart). */
function workerLines(): { worker?: number; pid?: number; msg?: string; pids?: number[] }[] {
  return proxy
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { worker?: number; pid?: number; msg?: string; pids?: number[] });
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "dialgate-workers-"));
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  gw.one = await freeSipPort();
  gw.two = await freeSipPort();
  httpPort = await freeSipPort();
  // sbc1 first, sbc2 in a route tried when sbc1 fails (routing.md).
  await pushRouting(new RedisRoutingStore(client, new RedisKeys("dialgate")), {
    gatewayPort: gw.one,
    backupGatewayPort: gw.two,
  });
  proxy = await startBinaryProxy(`
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: @PORT@ }]
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 0
  workers: 2
http: { port: ${httpPort} }
redis: { url: "${redis.url}" }
`);
}, 60_000);

afterAll(async () => {
  await killAllSipp();
  await proxy?.terminate();
  client?.disconnect();
  await redis?.cleanup();
});

describe("two SIP workers on one shared port", () => {
  it("passes SIGHUP on: every worker re-reads the file", async () => {
    const reloaded = () => workerLines().filter((l) => l.msg === "configuration reloaded").length;
    const before = reloaded();
    proxy.process.kill("SIGHUP");
    await waitFor(() => reloaded() === before + 2, 15_000, "both workers to reload");
  });

  it("completes calls through both workers and counts them all on /metrics", async () => {
    const before = sample(await metricsText(), "dialgate_calls_total", 'outcome="answered"');
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", port: gw.one, calls: 20 });
    const uac = await callAsBob("5550123", 20);
    const r = await uac.wait();
    expect(r.exitCode).toBe(0);
    expect(r.stats?.successfulCalls).toBe(20);
    const gateway = await uas.wait();
    expect(received(gateway)).toHaveLength(20);
    // Each worker puts its own port in Record-Route: calls went through both.
    expect(recordRoutePorts(gateway.messages).size).toBe(2);
    expect(recordRoutePorts(gateway.messages).has(String(proxy.port))).toBe(false);
    // One /metrics for the cluster: the primary sums every worker's counters.
    await waitFor(
      async () => sample(await metricsText(), "dialgate_calls_total", 'outcome="answered"') - before === 20,
      10_000,
      "20 answered calls on /metrics",
    );
  });

  it("cancels calls while ringing, whichever worker holds them", async () => {
    const uas = await SippProcess.start({ scenario: "uas-ring-no-answer.xml", port: gw.one, calls: 10 });
    const uac = await SippProcess.start({
      scenario: asUser("uac-cancel.xml"),
      remote: { host: "127.0.0.1", port: proxy.port },
      service: "5550124",
      keys: bob,
      calls: 10,
      rate: 10,
    });
    const r = await uac.wait();
    expect(r.exitCode).toBe(0);
    expect(r.stats?.successfulCalls).toBe(10);
    // Each CANCEL reached the gateway (the worker holding the INVITE sent it).
    const gateway = await uas.wait();
    expect(
      gateway.messages.filter((m) => m.direction === "received" && m.method === "CANCEL" && m.status === null)
        .length,
    ).toBe(10);
  });

  it("answers retransmitted INVITEs under 10% loss without a failed call", async () => {
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", port: gw.one, calls: 30 });
    const uac = await callAsBob("5550125", 30, { lostPercent: 10, timeoutSeconds: 90 });
    const r = await uac.wait();
    await uas.kill();
    expect(r.exitCode, `${r.errors}\n${JSON.stringify(r.stats)}`).toBe(0);
    expect(r.stats?.successfulCalls).toBe(30);
  });

  it("fails over from a 503 gateway to the next on either worker", async () => {
    const bad = await SippProcess.start({
      scenario: "uas-reject.xml",
      port: gw.one,
      sets: { status: "503" },
    });
    const good = await SippProcess.start({ scenario: "uas-answer.xml", port: gw.two, calls: 10 });
    const uac = await callAsBob("5550126", 10);
    const r = await uac.wait();
    expect(r.exitCode).toBe(0);
    expect(r.stats?.successfulCalls).toBe(10);
    expect(received(await good.wait())).toHaveLength(10);
    // sbc1 answered 503 at least once (a gateway that keeps failing may be tried less).
    expect(received(await bad.kill()).length).toBeGreaterThan(0);
  });

  it("reaches a phone registered through one worker from calls on both", async () => {
    const phonePort = await freeSipPort();
    const phone = await SippProcess.start({ scenario: "uas-answer.xml", port: phonePort, calls: 10 });
    const reg = await SippProcess.start({
      scenario: registerScenario(scratch, "alice", phonePort),
      remote: { host: "127.0.0.1", port: proxy.port },
    });
    expect((await reg.wait()).exitCode).toBe(0);
    const uac = await callAsBob("+14255550100", 10);
    const r = await uac.wait();
    expect(r.exitCode).toBe(0);
    expect(r.stats?.successfulCalls).toBe(10);
    const atPhone = await phone.wait();
    expect(received(atPhone)).toHaveLength(10);
    expect(recordRoutePorts(atPhone.messages).size).toBe(2);
  });

  it("restarts a killed worker while the other keeps serving", async () => {
    const start = workerLines().find((l) => Array.isArray(l.pids));
    const victim = start?.pids?.[1];
    expect(victim).toBeGreaterThan(0);
    const servingBefore = workerLines().filter((l) => l.msg === "worker serving").length;
    // No call limit: a call the dead worker had forwarded comes again from its sibling.
    const uas = await SippProcess.start({ scenario: "uas-answer.xml", port: gw.one, calls: 1000 });
    process.kill(victim!, "SIGKILL");
    // Straight away, while it is down: new calls still complete (retransmissions cover the
    // moment before the primary tells the survivor its sibling is gone).
    const during = await callAsBob("5550127", 10, { timeoutSeconds: 60 });
    const d = await during.wait();
    expect(d.exitCode, d.errors).toBe(0);
    expect(d.stats?.successfulCalls).toBe(10);
    await waitFor(
      () => workerLines().some((l) => l.msg === "worker died: restarting it" && l.pid === victim),
      10_000,
      "the primary to notice the dead worker",
    );
    await waitFor(
      () => workerLines().filter((l) => l.msg === "worker serving").length > servingBefore,
      30_000,
      "the worker to be restarted",
    );
    const after = await callAsBob("5550128", 20);
    const a = await after.wait();
    expect(a.exitCode, `${a.errors}\n${proxy.output().slice(-3000)}`).toBe(0);
    expect(a.stats?.successfulCalls).toBe(20);
    expect(recordRoutePorts((await uas.kill()).messages).size).toBe(2);
  });
});

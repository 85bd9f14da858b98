// Live reload against the built binary (issue #15): `dialgate serve --pid-file` takes SIGHUP from
// `dialgate reload`; a valid file changes the dial plan for new calls while a call set up before
// stays up and ends normally; an invalid file is refused with every problem logged and the
// running configuration kept.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { createTestPki } from "../support/test-pki.js";
import { type BinaryProxy, startBinaryProxy } from "../support/test-proxy.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
let binary: BinaryProxy | null = null;

afterEach(async () => {
  await killAllSipp();
  await binary?.terminate();
  binary = null;
});
afterAll(killAllSipp);

/** Alice dials 7 digits; `areaCode` is what the Redmond plan puts in front. */
function config(gatewayPort: number, areaCode: string, extra = ""): string {
  return `sip:
  listen:
    - { transport: udp, host: 127.0.0.1, port: @PORT@ }
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 1
http: { port: 0 }
gateways:
  - { fqdn: sbc1.contoso.com, address: 127.0.0.1, sipSignalingPort: ${gatewayPort}, enabled: true, sendSipOptions: false }
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.0/8]
    dialPlans:
      plans:
        - identity: Redmond
          normalizationRules:
            - { name: 7digit, pattern: '^(\\d{7})$', translation: '+1${areaCode}$1' }
    pstnUsages: [US]
    voiceRoutes:
      - { identity: r1, numberPattern: '^\\+1(425|206)\\d{7}$', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [sbc1.contoso.com] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [US] }
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US, tenantDialPlan: Redmond }
${extra}`;
}

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Sends SIGHUP to the server and returns the log line of the refusal that follows. */
async function refusalAfterSighup(b: BinaryProxy): Promise<string> {
  b.process.kill("SIGHUP");
  await waitFor(() => b.output().includes("reload refused"), 15_000, "the refusal logged");
  return b
    .output()
    .split("\n")
    .find((l) => l.includes("reload refused"))!;
}

function callAsAlice(port: number, pauseMs: number) {
  return SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port },
    keys: { from_user: "alice", from_domain: "contoso.com" },
    service: "5550123",
    pauseMs,
    timeoutSeconds: 60,
  });
}

describe("live reload", () => {
  it("changes the dial plan for new calls while a call set up before stays up", async () => {
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", calls: 2, timeoutSeconds: 60 });
    binary = await startBinaryProxy(config(gw.port, "425"), { args: ["--pid-file", "@DIR@/dialgate.pid"] });
    const pidFile = join(binary.dir, "dialgate.pid");

    // Call 1 is held (a long pause before its BYE) across the reload.
    const held = await callAsAlice(binary.port, 20_000);
    await waitFor(() => gw.messagesSoFar().some((m) => m.method === "ACK"), 30_000, "call 1 up");

    binary.rewriteConfig(config(gw.port, "206"));
    const r = cli(["reload", "--pid-file", pidFile, "--config", binary.configFile]);
    expect(r.status, r.stderr).toBe(0);
    await waitFor(() => binary!.output().includes("configuration reloaded"), 15_000, "the reload logged");

    const second = await callAsAlice(binary.port, 0);
    const call2 = await second.wait();
    expect(call2.exitCode, call2.errors).toBe(0);
    const call1 = await held.wait();
    expect(call1.exitCode, call1.errors).toBe(0);
    const uas = await gw.wait();
    expect(uas.exitCode, uas.errors).toBe(0);

    const received = uas.messages.filter((m) => m.direction === "received");
    const invites = received.filter((m) => m.method === "INVITE").map((m) => m.requestUri);
    expect(invites).toEqual([
      `sip:+14255550123@sbc1.contoso.com:${gw.port};user=phone`,
      `sip:+12065550123@sbc1.contoso.com:${gw.port};user=phone`,
    ]);
    // Call 1's BYE reached the gateway after call 2's INVITE: it was held across the reload.
    const order = received.map((m) => `${m.method}:${m.header("call-id")[0]}`);
    const call1Id = received.find((m) => m.method === "INVITE")!.header("call-id")[0];
    expect(order.indexOf(`BYE:${call1Id}`)).toBeGreaterThan(
      order.findIndex((m, i) => m.startsWith("INVITE:") && i > 0),
    );
  }, 90_000);

  it("refuses an invalid file with every problem listed and keeps the running configuration", async () => {
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", timeoutSeconds: 60 });
    binary = await startBinaryProxy(config(gw.port, "425"), { args: ["--pid-file", "@DIR@/dialgate.pid"] });
    const pidFile = join(binary.dir, "dialgate.pid");
    // Two problems: a pattern that is not a regex, and a voice route naming an unknown gateway.
    binary.rewriteConfig(
      config(gw.port, "425")
        .replace("'^(\\d{7})$'", () => "'^(\\d{7}$'")
        .replace("onlinePstnGatewayList: [sbc1.contoso.com]", "onlinePstnGatewayList: [sbc9.contoso.com]"),
    );

    // The CLI validates first: both problems, and nothing signalled.
    const check = cli(["reload", "--pid-file", pidFile, "--config", binary.configFile]);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain("2 problem(s)");
    expect(check.stderr).toContain("sbc9.contoso.com");
    expect(check.stderr).toContain("normalizationRules[0].pattern");

    // The server, signalled anyway, refuses the same way and keeps routing with the old plan.
    const refusal = await refusalAfterSighup(binary);
    expect(refusal).toContain("sbc9.contoso.com");
    expect(refusal).toContain("normalizationRules[0].pattern");

    const call = await callAsAlice(binary.port, 0);
    const result = await call.wait();
    expect(result.exitCode, result.errors).toBe(0);
    const invite = (await gw.wait()).messages.find(
      (m) => m.direction === "received" && m.method === "INVITE",
    );
    expect(invite?.requestUri).toBe(`sip:+14255550123@sbc1.contoso.com:${gw.port};user=phone`);
  }, 90_000);

  it("lists the problems of every stage in one refusal: shape, references and TLS files", async () => {
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", timeoutSeconds: 60 });
    // The TLS files matter to a tls listener: the proxy runs one from the start.
    const cert = createTestPki().issue("proxy", ["proxy.example"]);
    const tlsPort = await freeSipPort();
    const withTls = (c: string, keyFile: string) =>
      c
        .replace(
          "    - { transport: udp, host: 127.0.0.1, port: @PORT@ }\n",
          `    - { transport: udp, host: 127.0.0.1, port: @PORT@ }\n    - { transport: tls, host: 127.0.0.1, port: ${tlsPort} }\n`,
        )
        .replace(
          "  recordRouteHost: 127.0.0.1\n",
          `  recordRouteHost: 127.0.0.1\n  tls: { certFile: ${cert.certFile}, keyFile: ${keyFile} }\n`,
        );
    binary = await startBinaryProxy(withTls(config(gw.port, "425"), cert.keyFile), {
      args: ["--pid-file", "@DIR@/dialgate.pid"],
    });
    const pidFile = join(binary.dir, "dialgate.pid");
    const missingKey = join(binary.dir, "missing.key");

    // A key file that is not there is a problem on its own: the CLI refuses it, nothing signalled.
    binary.rewriteConfig(withTls(config(gw.port, "425"), missingKey));
    const keyOnly = cli(["reload", "--pid-file", pidFile, "--config", binary.configFile]);
    expect(keyOnly.status).toBe(1);
    expect(keyOnly.stderr).toContain(`sip.tls.keyFile: cannot read ${missingKey}: file not found`);

    // Three faults of three stages, all in the one refusal of one SIGHUP.
    binary.rewriteConfig(
      withTls(config(gw.port, "425"), missingKey)
        .replace("  drainTimeoutSeconds: 1\n", "  drainTimeoutSeconds: 1\n  flood: { threshold: -1 }\n")
        .replace("onlinePstnGatewayList: [sbc1.contoso.com]", "onlinePstnGatewayList: [sbc9.contoso.com]"),
    );
    const refusal = await refusalAfterSighup(binary);
    expect(refusal).toContain("3 problem(s)");
    expect(refusal).toContain("sip.flood.threshold");
    expect(refusal).toContain("unknown gateway 'sbc9.contoso.com'");
    expect(refusal).toContain("sip.tls.keyFile: cannot read");

    // Still the running configuration.
    const result = await (await callAsAlice(binary.port, 0)).wait();
    expect(result.exitCode, result.errors).toBe(0);
    expect((await gw.wait()).exitCode).toBe(0);
  }, 90_000);
});

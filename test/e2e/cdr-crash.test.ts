// Crash safety of the CDRs, with the binary operators run: N calls through `dialgate serve`,
// SIGKILL the moment the caller has its answer to the last BYE, start it again on the same
// journal, and every call has exactly one CDR — none lost, none twice.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { ALICE } from "../support/cdr-e2e.js";
import { readCdrs } from "../support/cdr-records.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { freeUdpPort } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { type BinaryProxy, startBinaryProxy } from "../support/test-proxy.js";

const CALLS = 30;
const running: BinaryProxy[] = [];

afterAll(async () => {
  await killAllSipp();
  for (const p of running) if (p.process.exitCode === null) p.process.kill("SIGKILL");
});

function config(cdrFile: string, gatewayPort: number): string {
  return `
sip:
  listen:
    - { transport: udp, host: 127.0.0.1, port: @PORT@ }
  recordRouteHost: 127.0.0.1
http: { port: 0 }
cdr: { file: ${JSON.stringify(cdrFile)} }
gateways:
  - { fqdn: gw1.crash.test, address: 127.0.0.1, sipSignalingPort: ${gatewayPort}, enabled: true, sendSipOptions: false, carrier: acme }
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.1/32]
    pstnUsages: [US]
    voiceRoutes:
      - { identity: Main, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [gw1.crash.test] }
    voiceRoutingPolicies: [{ identity: Global, onlinePstnUsages: [US] }]
    users:
      - { id: alice@contoso.com, displayName: Alice, lineUri: "+14255550100", usageLocation: US }
carriers:
  - { id: acme, name: Acme }
`;
}

describe("CDRs survive a crash", () => {
  it(`SIGKILL right after the last BYE is answered: exactly ${CALLS} CDRs after the restart`, async () => {
    const cdrFile = join(mkdtempSync(join(tmpdir(), "dialgate-crash-")), "cdr.jsonl");
    const gatewayPort = await freeUdpPort();
    const yaml = config(cdrFile, gatewayPort);
    const proxy = await startBinaryProxy(yaml);
    running.push(proxy);
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort, calls: CALLS });
    const uac = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: "127.0.0.1", port: proxy.port },
      service: "+14255550123",
      calls: CALLS,
      rate: 20,
      limit: 10,
      pauseMs: 100,
    });
    const result = await uac.wait();
    // The last 200 to a BYE has reached the caller: kill the proxy at once, no shutdown.
    proxy.process.kill("SIGKILL");
    expect(result.exitCode, result.errors).toBe(0);
    expect(result.stats?.successfulCalls).toBe(CALLS);
    await gw.kill();
    const callIds = new Set(
      result.messages
        .filter((m) => m.direction === "sent" && m.method === "INVITE")
        .map((m) => m.header("Call-ID")[0]),
    );
    expect(callIds.size).toBe(CALLS);

    // Restart on the same journal (recovery runs on open), then read it as a carrier would.
    const again = await startBinaryProxy(yaml);
    running.push(again);
    const exitCode = await again.terminate();
    expect(exitCode, `signal ${again.process.signalCode}; ${again.output()}`).toBe(0);
    const journal = await openCdrJournal({ file: cdrFile, readOnly: true });
    try {
      const { records } = await readCdrs(journal);
      expect(records).toHaveLength(CALLS);
      expect(new Set(records.map((r) => r.id)).size).toBe(CALLS);
      expect(new Set(records.map((r) => r.correlationId))).toEqual(callIds);
      for (const r of records) {
        expect(r).toMatchObject({
          successfulCall: true,
          endedBy: "caller",
          trunkFullyQualifiedDomainName: "gw1.crash.test",
          carrierId: "acme",
        });
      }
    } finally {
      await journal.close();
    }
  });
});

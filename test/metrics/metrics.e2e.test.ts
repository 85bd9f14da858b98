// `/metrics` after real calls: dialgate routes SIPp calls from a tenant user to a SIPp gateway
// (and one call that has no route); a real HTTP GET on the bound port shows them counted.
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { parseConfigText } from "../../src/config/load.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let dialgate: Dialgate;
let gateway: SippProcess;

function configYaml(proxyPort: number, gatewayPort: number, cdrFile: string): string {
  return `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${proxyPort} }]
  recordRouteHost: 127.0.0.1
  drainTimeoutSeconds: 0
http: { port: 0 }
cdr: { file: ${cdrFile} }
gateways:
  - { fqdn: sbc1.contoso.com, address: 127.0.0.1, sipSignalingPort: ${gatewayPort}, transport: udp, enabled: true, sendSipOptions: false, maxConcurrentSessions: 10 }
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.0/8]
    dialPlans:
      global:
        normalizationRules:
          - { name: 7digit, pattern: '^(\\d{7})$', translation: '+1425$1' }
    pstnUsages: [Local]
    voiceRoutes:
      - { identity: Redmond1, numberPattern: '^\\+1425', priority: 1, onlinePstnUsages: [Local], onlinePstnGatewayList: [sbc1.contoso.com] }
    voiceRoutingPolicies: [{ identity: Global, onlinePstnUsages: [Local] }]
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US }
`;
}

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${dialgate.http.address.port}/metrics`);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** The value of one series (exact labels, as prom-client prints them), or null. */
function value(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  beforeAll(async () => {
    gateway = await SippProcess.start({ scenario: "uas-answer.xml", calls: 3 });
    const proxyPort = await freeSipPort();
    const cdrFile = join(mkdtempSync(join(tmpdir(), "dialgate-metrics-")), "cdr.jsonl");
    const parsed = parseConfigText(configYaml(proxyPort, gateway.port, cdrFile));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    dialgate = await startDialgate(parsed.config);
  });

  afterAll(async () => {
    await killAllSipp();
    await dialgate?.stop();
  });

  it("counts the calls of a SIPp run, per gateway, per outcome, with SIP and dial plan figures", async () => {
    const remote = { host: "127.0.0.1", port: dialgate.listenAddresses[0]?.port ?? 0 };
    const keys = { from_user: "alice", from_domain: "contoso.com" };
    const answered = await SippProcess.start({
      scenario: "uac-user-call.xml",
      remote,
      keys,
      service: "5550123",
      calls: 3,
      limit: 1,
    });
    expect((await answered.wait()).stats?.successfulCalls).toBe(3);
    // Alice dials a number no voice route of hers matches: the router refuses the call (a call
    // with a CDR). A stranger is refused before being identified: counted apart, not a call.
    const refused = await SippProcess.start({
      scenario: uacScenario({ mode: "rejected", from: "<sip:alice@contoso.com>" }),
      remote,
      service: "+4420123456",
    });
    await refused.wait();
    const stranger = await SippProcess.start({
      scenario: uacScenario({ mode: "rejected", from: "<sip:mallory@evil.example>" }),
      remote,
      service: "+14255550123",
    });
    await stranger.wait();
    // A datagram that is not SIP.
    const junk = createSocket("udp4");
    junk.send(Buffer.from("THIS IS NOT SIP\r\n\r\n"), remote.port, remote.host);

    await waitFor(
      async () => /^dialgate_sip_parse_errors_total\{code="[^"]+"\} [1-9]/m.test((await scrape()).text),
      20_000,
      "the junk datagram to be counted",
    );
    junk.close();
    // The call recorder journals one CDR per call (3 answered, 1 refused).
    await waitFor(
      async () => (value((await scrape()).text, "dialgate_cdr_entries_written_total") ?? 0) >= 4,
      20_000,
      "the CDRs to be committed",
    );
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain/);

    expect(value(text, 'dialgate_calls_total{direction="dr_out",outcome="answered"}')).toBe(3);
    expect(value(text, 'dialgate_calls_total{direction="dr_out",outcome="rejected"}')).toBe(1);
    expect(value(text, 'dialgate_calls_started_total{direction="dr_out"}')).toBe(4);
    expect(value(text, 'dialgate_invites_refused_unidentified_total{status_class="4xx"}')).toBe(1);
    expect(value(text, 'dialgate_call_duration_seconds_count{direction="dr_out"}')).toBe(3);
    expect(value(text, 'dialgate_gateway_attempts_total{gateway="sbc1.contoso.com"}')).toBe(3);
    expect(value(text, 'dialgate_gateway_up{gateway="sbc1.contoso.com"}')).toBe(1);
    expect(value(text, 'dialgate_gateway_calls_in_progress{gateway="sbc1.contoso.com"}')).toBe(0);
    expect(value(text, 'dialgate_gateway_max_concurrent_sessions{gateway="sbc1.contoso.com"}')).toBe(10);
    expect(value(text, "dialgate_dialogs_in_progress")).toBe(0);
    expect(value(text, 'dialgate_sip_requests_received_total{method="INVITE"}')).toBeGreaterThanOrEqual(4);
    expect(value(text, 'dialgate_sip_requests_received_total{method="BYE"}')).toBeGreaterThanOrEqual(3);
    expect(value(text, 'dialgate_sip_responses_received_total{status_class="2xx"}')).toBeGreaterThanOrEqual(
      6,
    );
    expect(value(text, "dialgate_dialplan_evaluation_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(value(text, "dialgate_cdr_log_writable")).toBe(1);
    expect(value(text, "dialgate_cdr_entries_written_total")).toBe(4);
    expect(value(text, "dialgate_cdr_journal_fsyncs_total")).toBeGreaterThanOrEqual(1);
    expect(value(text, "dialgate_cdr_commit_latency_seconds_count")).toBe(
      value(text, "dialgate_cdr_commits_total"),
    );
    expect(text).toMatch(/^dialgate_process_cpu_seconds_total /m);
    expect(text).toMatch(/^dialgate_sip_parse_errors_total\{code="[^"]+"\} [1-9]/m);
    // Every metric is dialgate's.
    const names = text
      .split("\n")
      .filter((l) => l.startsWith("# TYPE "))
      .map((l) => l.split(" ")[2] ?? "");
    expect(names.filter((n) => !n.startsWith("dialgate_"))).toEqual([]);

    // The Grafana dashboard (deploy/grafana/dialgate.json) only queries metrics that exist.
    const dashboard = JSON.parse(
      readFileSync(new URL("../../deploy/grafana/dialgate.json", import.meta.url), "utf8"),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const queried = new Set<string>();
    for (const panel of dashboard.panels)
      for (const t of panel.targets ?? [])
        for (const m of t.expr.matchAll(/dialgate_[a-z_]+/g))
          queried.add(m[0].replace(/_(bucket|sum|count)$/, ""));
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((n) => !names.includes(n))).toEqual([]);
  });
});

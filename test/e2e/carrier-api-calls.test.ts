// End to end: SIPp calls through the real router, native edge, call recorder and CDR journal,
// read back by carriers through the HTTP API — pulled as JSON and CSV, pushed to a webhook, and
// reconciled against the durations the carrier measured.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialgate } from "../../src/app.js";
import { startDialgate } from "../../src/app.js";
import type { CallRecord } from "../../src/calls/call-record.js";
import { verifySignature } from "../../src/delivery/webhook/signature.js";
import { ALICE, type CdrPorts, cdrConfig, cdrPorts, HOST } from "../support/cdr-e2e.js";
import { waitForCdr } from "../support/cdr-records.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess as Sipp } from "../support/sipp.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const KEYS = { acme: "acme-key", globex: "globex-key", numbersco: "numbersco-key" } as const;
const SECRET = "acme-webhook-secret";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let ports: CdrPorts;
let dialgate: Dialgate;
let receiver: WebhookReceiver;

beforeAll(async () => {
  ports = await cdrPorts();
  receiver = await WebhookReceiver.start();
  const base = cdrConfig(ports);
  const config = {
    ...base,
    carriers: base.carriers.map((c) => ({
      ...c,
      apiKeySha256: [sha(KEYS[c.id as keyof typeof KEYS])],
      ...(c.id === "acme" ? { cdrWebhook: { url: receiver.url, secretEnv: "ACME_WEBHOOK_SECRET" } } : {}),
    })),
  };
  dialgate = await startDialgate(config, {
    random: () => 0.999,
    env: { ACME_WEBHOOK_SECRET: SECRET },
    webhook: { maxBatchDelayMs: 50, pollIntervalMs: 20 },
  });
});

afterAll(async () => {
  await killAllSipp();
  await dialgate?.stop();
  await receiver?.close();
});

async function call(number: string, pauseMs: number): Promise<string> {
  const uac = await Sipp.start({
    scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
    remote: { host: HOST, port: ports.edge },
    service: number,
    pauseMs,
  });
  const result = await uac.wait();
  expect(result.exitCode, result.errors).toBe(0);
  const callId = result.messages
    .find((m) => m.direction === "sent" && m.method === "INVITE")
    ?.header("Call-ID")[0];
  if (callId === undefined) throw new Error("SIPp sent no INVITE");
  return callId;
}

async function get(path: string, carrier: keyof typeof KEYS) {
  const res = await fetch(`http://127.0.0.1:${dialgate.http.address.port}${path}`, {
    headers: { authorization: `Bearer ${KEYS[carrier]}` },
  });
  return { status: res.status, text: await res.text() };
}

describe("CDRs of SIPp calls through the carrier API", () => {
  let direct: CallRecord;
  let failedOver: CallRecord;

  beforeAll(async () => {
    // 1: answered by gw1 (acme); 2: gw1 answers 503, gw2 (globex) answers.
    const gw1 = await Sipp.start({ scenario: "uas-answer.xml", port: ports.gw1 });
    const id1 = await call("5550123", 1000);
    await gw1.wait();
    const gw1b = await Sipp.start({ scenario: "uas-reject.xml", port: ports.gw1, sets: { status: "503" } });
    const gw2 = await Sipp.start({ scenario: "uas-answer.xml", port: ports.gw2 });
    const id2 = await call("+12065550123", 1000);
    await Promise.all([gw1b.wait(), gw2.wait()]);
    direct = await waitForCdr(dialgate.cdrLog, id1);
    failedOver = await waitForCdr(dialgate.cdrLog, id2);
  });

  it("shows each carrier the calls on its trunks or numbers, and nothing else", async () => {
    const ids = async (carrier: keyof typeof KEYS) =>
      (JSON.parse((await get("/v1/carrier/cdrs", carrier)).text) as { records: CallRecord[] }).records.map(
        (r) => r.correlationId,
      );
    expect(await ids("acme")).toEqual([direct.correlationId, failedOver.correlationId]);
    expect(await ids("globex")).toEqual([failedOver.correlationId]);
    // Alice's number belongs to numbersco: both calls were made from it.
    expect(await ids("numbersco")).toEqual([direct.correlationId, failedOver.correlationId]);
    expect((await get(`/v1/carrier/cdrs/${direct.id}`, "globex")).status).toBe(404);
    const one = JSON.parse((await get(`/v1/carrier/cdrs/${failedOver.id}`, "globex")).text) as CallRecord;
    expect(one).toMatchObject({
      correlationId: failedOver.correlationId,
      trunkFullyQualifiedDomainName: "gw2.e2e.test",
      carrierId: "globex",
      successfulCall: true,
      callerNumber: "+14255550100",
      calleeNumber: "+12065550123",
    });
    expect(one.attempts.map((a) => [a.fqdn, a.finalSipCode])).toEqual([
      ["gw1.e2e.test", 503],
      ["gw2.e2e.test", 200],
    ]);
    expect(one).not.toHaveProperty("carrierIds");
  });

  it("exports the same records as CSV", async () => {
    const csv = await get("/v1/carrier/cdrs.csv", "acme");
    const lines = csv.text.trim().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]?.startsWith(`${direct.id},`)).toBe(true);
    expect(lines[2]?.startsWith(`${failedOver.id},`)).toBe(true);
  });

  it("pushes them, signed, to acme's webhook", async () => {
    await waitFor(() => receiver.acknowledgedIds().length >= 2, 30_000, "the webhook batches");
    expect(receiver.acknowledgedIds()).toEqual([direct.id, failedOver.id]);
    for (const r of receiver.requests) {
      const check = verifySignature(
        r.headers["dialgate-signature"] as string,
        r.rawBody,
        SECRET,
        Math.floor(Date.now() / 1000),
      );
      expect(check.ok).toBe(true);
    }
  });

  it("reconciles them with the durations the carrier measured", async () => {
    const day = (iso: string) => iso.slice(0, 10);
    const from = `${day(direct.inviteDateTime)}T00:00:00Z`;
    const to = new Date(Date.parse(from) + 2 * 86_400_000).toISOString();
    const res = await fetch(`http://127.0.0.1:${dialgate.http.address.port}/v1/carrier/durations`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.acme}`, "content-type": "application/json" },
      body: JSON.stringify({
        durations: [
          {
            correlationId: direct.correlationId,
            startDateTime: direct.startDateTime,
            durationSeconds: direct.duration,
          },
          {
            correlationId: failedOver.correlationId,
            startDateTime: failedOver.startDateTime,
            durationSeconds: failedOver.duration + 30,
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const rec = JSON.parse((await get(`/v1/carrier/reconciliation?from=${from}&to=${to}`, "acme")).text) as {
      calls: { correlationId: string; status: string }[];
      totals: { matched: number; mismatch: number };
    };
    expect(rec.calls.map((c) => [c.correlationId, c.status])).toEqual([
      [direct.correlationId, "matched"],
      [failedOver.correlationId, "mismatch"],
    ]);
  });
});

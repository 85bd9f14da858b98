// What an operator checks on a dialgate running the drachtio edge, as on the native one (both
// run side by side, real drachtio-server, SIPp on both sides): the SIP traffic counters in
// /metrics move with the calls, and the 200 to a BYE goes out only once the call's CDR is
// durable (a crash after the caller has its answer must not lose the record).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import type { CdrLogEntry } from "../../src/calls/call-record.js";
import type { CdrLog } from "../../src/calls/cdr-log.js";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { ALICE, type CdrPorts, cdrConfig, cdrPorts, HOST } from "../support/cdr-e2e.js";
import { waitForCdr } from "../support/cdr-records.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { onDrachtioEdge } from "../support/drachtio-edge.js";
import { DrachtioServer } from "../support/drachtio-server.js";
import { waitFor } from "../support/free-port.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

/** A real CDR journal whose appends can be held back: "not durable yet", for as long as a test says. */
class GatedCdrLog {
  private held: (() => void)[] | null = null;
  /** Entries whose append was asked for while held. */
  readonly waiting: CdrLogEntry[] = [];

  constructor(private readonly inner: CdrLog) {}

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) go();
  }

  asCdrLog(): CdrLog {
    const inner = this.inner;
    return {
      append: (entry) => {
        const held = this.held;
        if (held === null) return inner.append(entry);
        this.waiting.push(entry);
        return new Promise<void>((resolve) => held.push(resolve)).then(() => inner.append(entry));
      },
      readAfter: (after, limit, filter) => inner.readAfter(after, limit, filter),
      isValidPosition: (p) => inner.isValidPosition(p),
      findById: (id) => inner.findById(id),
      health: () => inner.health(),
      close: () => inner.close(),
    };
  }
}

let server: DrachtioServer;
let ports: CdrPorts;
let native: Dialgate;
let drachtio: Dialgate;
let journal: CdrLog;
let gate: GatedCdrLog;

beforeAll(async () => {
  server = await DrachtioServer.start();
  ports = await cdrPorts();
  native = await startDialgate(cdrConfig(ports), { random: () => 0.999 });
  journal = await openCdrJournal({
    file: join(mkdtempSync(join(tmpdir(), "dialgate-drachtio-wiring-")), "cdr.jsonl"),
  });
  gate = new GatedCdrLog(journal);
  drachtio = await startDialgate(onDrachtioEdge(cdrConfig(ports), server), {
    random: () => 0.999,
    cdrLog: gate.asCdrLog(),
  });
});

afterAll(async () => {
  gate?.release();
  await killAllSipp();
  await native?.stop();
  await drachtio?.stop();
  await journal?.close();
  await server?.stop();
});

/** The SIP traffic counters of a dialgate's /metrics: `requests.INVITE`, `responses["2xx"]`... */
async function sipCounters(d: Dialgate): Promise<{
  requests: Record<string, number>;
  responses: Record<string, number>;
}> {
  const text = await (await fetch(`http://${d.http.address.host}:${d.http.address.port}/metrics`)).text();
  const requests: Record<string, number> = {};
  const responses: Record<string, number> = {};
  for (const m of text.matchAll(/^dialgate_sip_requests_received_total\{method="([^"]+)"\} (\d+)/gm))
    requests[m[1] as string] = Number(m[2]);
  for (const m of text.matchAll(/^dialgate_sip_responses_received_total\{status_class="([^"]+)"\} (\d+)/gm))
    responses[m[1] as string] = Number(m[2]);
  return { requests, responses };
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** One answered call through a dialgate's SIP port, the caller hanging up; resolves with SIPp's result. */
async function answeredCall(edgePort: number, number: string) {
  const gw = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1 });
  const caller = await SippProcess.start({
    scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
    remote: { host: HOST, port: edgePort },
    service: number,
    pauseMs: 200,
  });
  const result = await caller.wait();
  await gw.wait();
  return result;
}

describe("the drachtio edge, wired as the native edge", () => {
  it("counts the SIP requests and responses it receives in /metrics, as the native edge does", async () => {
    const counted: Record<string, { requests: Record<string, number>; responses: Record<string, number> }> =
      {};
    for (const [name, d, port] of [
      ["native", native, ports.edge],
      ["drachtio", drachtio, server.sipPort],
    ] as const) {
      const before = await sipCounters(d);
      const result = await answeredCall(port, "5550140");
      expect(result.exitCode, result.errors).toBe(0);
      const after = await sipCounters(d);
      counted[name] = {
        requests: delta(after.requests, before.requests),
        responses: delta(after.responses, before.responses),
      };
    }
    // The caller's INVITE, ACK and BYE; the gateway's 180 and 200 to the INVITE, and its 200
    // to the BYE. The gateway's 100 Trying is the one difference: drachtio-server's transaction
    // layer absorbs it, so the app never receives it (README, "The drachtio edge").
    const requests = { INVITE: 1, ACK: 1, BYE: 1 };
    expect(counted.native).toEqual({ requests, responses: { "1xx": 2, "2xx": 2 } });
    expect(counted.drachtio).toEqual({ requests, responses: { "1xx": 1, "2xx": 2 } });
  });

  it("answers the caller's BYE only once the call's CDR is durable", async () => {
    const gw = await SippProcess.start({ scenario: "uas-answer.xml", port: ports.gw1 });
    const caller = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: HOST, port: server.sipPort },
      service: "5550141",
      pauseMs: 200,
    });
    const answeredBye = () =>
      caller
        .messagesSoFar()
        .some((m) => m.direction === "received" && m.status === 200 && m.method === "BYE");
    try {
      // Hold the journal from the answer on: the call's CDR cannot become durable.
      await waitFor(
        () => caller.messagesSoFar().some((m) => m.direction === "sent" && m.method === "ACK"),
        10_000,
        "the call to be answered",
      );
      gate.hold();
      await waitFor(() => gate.waiting.length > 0, 10_000, "the call's CDR to be written");
      const callId = gate.waiting[0]?.kind === "cdr" ? gate.waiting[0].record.correlationId : "";
      // The BYE has reached the edge (the CDR is written on it); its 200 must wait. The
      // recorder's bound (2 s) is not reached in this second.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(answeredBye()).toBe(false);
      gate.release();
      const result = await caller.wait();
      expect(result.exitCode, result.errors).toBe(0);
      expect((await waitForCdr(drachtio.cdrLog, callId)).endedBy).toBe("caller");
    } finally {
      gate.release();
      await gw.kill();
    }
  });
});

// CDRs and amendments for journal tests: complete records (every field of the contract), with
// the id and inviteDateTime a test wants.
import { Writable } from "node:stream";
import { pino } from "pino";
import type {
  CallQuality,
  CallRecord,
  CdrLogEntry,
  QualityAmendment,
} from "../../../src/calls/call-record.js";
import type { Logger } from "../../../src/util/logger.js";

export function makeRecord(id: string, inviteMs = Date.UTC(2026, 0, 1, 12, 0, 0)): CallRecord {
  const invite = new Date(inviteMs).toISOString();
  return {
    id,
    correlationId: `call-${id}@127.0.0.1`,
    tenantId: "contoso",
    userId: "alice",
    userPrincipalName: "alice@contoso.com",
    userDisplayName: "Alice",
    callType: "dr_out",
    callerNumber: "+14255550100",
    calleeNumber: "+14255550123",
    dialedNumber: "5550123",
    matchingRule: "7digit",
    effectiveTenantDialPlanName: "Redmond",
    voiceRoute: "Redmond1",
    pstnUsage: "Local",
    trunkFullyQualifiedDomainName: "sbc1.contoso.com",
    carrierId: "fabrikam",
    carrierIds: ["fabrikam"],
    attempts: [{ fqdn: "sbc1.contoso.com", startDateTime: invite, finalSipCode: 200, reason: "answered" }],
    inviteDateTime: invite,
    startDateTime: new Date(inviteMs + 1000).toISOString(),
    failureDateTime: null,
    endDateTime: new Date(inviteMs + 61_000).toISOString(),
    duration: 60,
    successfulCall: true,
    finalSipCode: 200,
    finalSipCodePhrase: "OK",
    endedBy: "caller",
    revision: 1,
  };
}

export function cdrEntry(id: string, inviteMs?: number): CdrLogEntry {
  return { kind: "cdr", record: makeRecord(id, inviteMs) };
}

export function quality(reporter: string, mosLq: number): CallQuality {
  return {
    caller: {
      reporter,
      source: "vq-rtcpxr",
      packetsSent: 1000,
      packetsReceived: 990,
      packetsLost: 10,
      packetLossRate: 0.01,
      jitterMs: 4,
      roundTripMs: 40,
      mosLq,
      codec: "PCMU",
    },
    callee: null,
  };
}

export function amendmentEntry(record: CallRecord, q: CallQuality): CdrLogEntry {
  const amendment: QualityAmendment = {
    cdrId: record.id,
    correlationId: record.correlationId,
    receivedDateTime: record.endDateTime ?? record.inviteDateTime,
    inviteDateTime: record.inviteDateTime,
    quality: q,
  };
  return { kind: "quality", amendment };
}

/** A pino logger whose lines a test can read (level, msg). */
export function capturingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

// Reading SIPp's output files: the statistics CSV (-trace_stat) and the message log
// (-trace_msg), from which the per-call INVITE forwarding latency is taken.
import { readFileSync } from "node:fs";

export interface SippTotals {
  /** Calls started (by a UAC) or received (by a UAS). */
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
}

/** The cumulative counters of the last line of a SIPp statistics CSV. */
export function readSippTotals(csvFile: string): SippTotals {
  const lines = readFileSync(csvFile, "latin1")
    .split("\n")
    .filter((l) => l.trim() !== "");
  const header = lines[0]?.split(";") ?? [];
  const last = lines[lines.length - 1]?.split(";") ?? [];
  const column = (name: string): number => {
    const i = header.indexOf(name);
    return i < 0 ? 0 : Number(last[i] ?? 0);
  };
  return {
    created: column("TotalCallCreated"),
    successful: column("SuccessfulCall(C)"),
    failed: column("FailedCall(C)"),
    retransmissions: column("Retransmissions(C)"),
  };
}

/**
 * For each Call-ID, the time (µs) at which the first INVITE appears in a SIPp message log.
 * SIPp writes a dashed separator line with a `YYYY-MM-DD HH:MM:SS.uuuuuu` stamp before each
 * message it sends or receives.
 */
export function inviteTimes(messageLog: string, direction: "sent" | "received"): Map<string, number> {
  return firstTimes(messageLog, direction, (block) => /\nINVITE /.test(block));
}

/**
 * For each Call-ID, the time (µs) of the first 200 OK to its INVITE in a SIPp message log. With
 * the UAC's log and inviteTimes(…, "sent"): INVITE -> 200 as the caller sees it, the one latency
 * every rig shares (a B2BUA such as the drachtio edge gives the UAS another Call-ID).
 */
export function inviteAnsweredTimes(messageLog: string, direction: "sent" | "received"): Map<string, number> {
  return firstTimes(
    messageLog,
    direction,
    (block) => /\nSIP\/2\.0 200 /.test(block) && /\nCSeq:\s*\d+\s+INVITE/i.test(block),
  );
}

function firstTimes(
  messageLog: string,
  direction: "sent" | "received",
  matches: (block: string) => boolean,
): Map<string, number> {
  const text = readFileSync(messageLog, "latin1");
  const out = new Map<string, number>();
  const blocks = text.split(/^-{10,} /m);
  for (const block of blocks) {
    const stamp = /^(\d{4}-\d{2}-\d{2})\s+(\d{2}):(\d{2}):(\d{2})\.(\d{6})/.exec(block);
    if (!stamp) continue;
    const isSent = /\n(UDP|TCP) message sent/.test(block);
    if ((direction === "sent") !== isSent) continue;
    if (!matches(block)) continue;
    const callId = /\nCall-ID:\s*(\S+)/i.exec(block)?.[1];
    if (callId === undefined || out.has(callId)) continue;
    const [, , hh, mm, ss, us] = stamp;
    out.set(callId, ((Number(hh) * 60 + Number(mm)) * 60 + Number(ss)) * 1e6 + Number(us));
  }
  return out;
}

/** Per-call differences `later - earlier` (µs) for the Call-IDs present in both maps. */
export function pairedDeltas(
  earlier: ReadonlyMap<string, number>,
  later: ReadonlyMap<string, number>,
): number[] {
  const deltas: number[] = [];
  for (const [callId, t0] of earlier) {
    const t1 = later.get(callId);
    if (t1 !== undefined) deltas.push(t1 - t0);
  }
  return deltas;
}

/** p-th percentile (0–100) of a numeric sample, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

// RFC 6035 "SIP Event Package for Voice Quality Reporting": the `application/vq-rtcpxr` body of
// a PUBLISH, reduced to what a CDR keeps (carrier-api.md "Quality data"). The body is text lines
// (RFC 6035 §4.2): a report type line (`VQSessionReport: CallTerm`, `VQIntervalReport`,
// `VQAlertReport`), identity lines (`CallID`, `LocalID`, `RemoteID`, `OrigID`...), then
// `LocalMetrics:` and `RemoteMetrics:` blocks whose lines carry space-separated `KEY=VALUE`
// parameters (`PacketLoss: NLR=5.0 JDR=2.0`, `Delay: RTD=200 ... IAJ=2`, `QualityEst: MOSLQ=4.1`).
//
// Structure is checked strictly (a body that is not a report is refused with 400); metric
// values loosely (a value that is not a sane number is left out, never an error).
import type { QualityMetrics } from "./call-record.js";

export type VqReportType = "VQSessionReport" | "VQIntervalReport" | "VQAlertReport";

export interface VqReport {
  readonly type: VqReportType;
  readonly callId: string;
  readonly localId: string;
  readonly remoteId: string | null;
  readonly origId: string | null;
  /** The reporter's own (LocalMetrics) view, normalized; `reporter` is LocalID. */
  readonly local: QualityMetrics;
}

export type VqParseResult =
  | { readonly ok: true; readonly report: VqReport }
  | { readonly ok: false; readonly error: string };

const MAX_BODY_CHARS = 16_384;
const MAX_LINES = 200;
const MAX_RAW = 32;
const REPORT_TYPES: readonly VqReportType[] = ["VQSessionReport", "VQIntervalReport", "VQAlertReport"];

/** `Name: value` with RFC 3261 HCOLON (whitespace allowed before the colon). */
function splitLine(line: string): { name: string; value: string } | null {
  const m = /^([A-Za-z][A-Za-z0-9_.-]*)[ \t]*:[ \t]*(.*)$/.exec(line);
  return m === null ? null : { name: m[1]!, value: m[2]!.trim() };
}

/** `KEY=VALUE KEY="quoted value"` parameters of a metrics line. */
function params(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of value.matchAll(/([A-Za-z][A-Za-z0-9_-]*)=("[^"]*"|[^\s]*)/g)) {
    const key = m[1]!.toUpperCase();
    if (!out.has(key)) out.set(key, m[2]!.replace(/^"|"$/g, ""));
  }
  return out;
}

function num(v: string | undefined, min: number, max: number): number | null {
  if (v === undefined || !/^-?\d{1,9}(\.\d{1,6})?$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

export function parseVqRtcpxr(body: string): VqParseResult {
  if (body.length > MAX_BODY_CHARS)
    return { ok: false, error: `body longer than ${MAX_BODY_CHARS} characters` };
  const lines = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return { ok: false, error: "empty body" };
  if (lines.length > MAX_LINES) return { ok: false, error: `more than ${MAX_LINES} lines` };

  const first = lines[0]!;
  const type = REPORT_TYPES.find(
    (t) => first === t || first.startsWith(`${t}:`) || first.startsWith(`${t} `),
  );
  if (type === undefined)
    return {
      ok: false,
      error: "the body must start with VQSessionReport, VQIntervalReport or VQAlertReport",
    };

  const ids = new Map<string, string>();
  const local = new Map<string, Map<string, string>>();
  let block: "none" | "local" | "remote" = "none";
  for (let i = 1; i < lines.length; i++) {
    const parsed = splitLine(lines[i]!);
    if (parsed === null) return { ok: false, error: `line ${i + 1} is not "Name: value"` };
    const name = parsed.name.toLowerCase();
    if (name === "localmetrics") {
      block = "local";
      continue;
    }
    if (name === "remotemetrics") {
      block = "remote";
      continue;
    }
    if (block === "none") {
      if (!ids.has(name)) ids.set(name, parsed.value);
    } else if (block === "local" && !local.has(name)) {
      local.set(name, params(parsed.value));
    }
  }

  const callId = ids.get("callid");
  const localId = ids.get("localid");
  if (callId === undefined || callId === "") return { ok: false, error: "CallID is missing" };
  if (localId === undefined || localId === "") return { ok: false, error: "LocalID is missing" };
  if (local.size === 0) return { ok: false, error: "LocalMetrics is missing or empty" };

  const get = (line: string, key: string) => local.get(line)?.get(key);
  const nlr = num(get("packetloss", "NLR"), 0, 100);
  const used = new Set(["packetloss.NLR", "delay.RTD", "delay.IAJ", "qualityest.MOSLQ", "sessiondesc.PD"]);
  const raw: Record<string, string> = {};
  let rawCount = 0;
  for (const [line, kv] of local) {
    for (const [k, v] of kv) {
      if (used.has(`${line}.${k}`) || rawCount >= MAX_RAW) continue;
      raw[`${line}.${k}`] = v.slice(0, 128);
      rawCount++;
    }
  }
  const codec = get("sessiondesc", "PD");
  return {
    ok: true,
    report: {
      type,
      callId,
      localId,
      remoteId: ids.get("remoteid") ?? null,
      origId: ids.get("origid") ?? null,
      local: {
        reporter: localId.slice(0, 256),
        source: "vq-rtcpxr",
        packetsSent: null,
        packetsReceived: null,
        packetsLost: null,
        // RFC 6035 NLR is the network loss rate in percent.
        packetLossRate: nlr === null ? null : Math.round((nlr / 100) * 1e6) / 1e6,
        // IAJ: inter-arrival jitter in ms (RFC 3611 §4.7.5 via RFC 6035 §4.2 "Delay").
        jitterMs: num(get("delay", "IAJ"), 0, 600_000),
        roundTripMs: num(get("delay", "RTD"), 0, 600_000),
        mosLq: num(get("qualityest", "MOSLQ"), 1, 5),
        codec: codec !== undefined && /^[A-Za-z0-9./+-]{1,32}$/.test(codec) ? codec : null,
        ...(rawCount > 0 ? { raw } : {}),
      },
    },
  };
}

/** The URI inside a name-addr (`Alice <sip:alice@example.org>`), lower-cased, for comparison. */
export function identityUri(id: string): string {
  const m = /<([^>]*)>/.exec(id);
  return (m === null ? id : m[1]!).trim().toLowerCase();
}

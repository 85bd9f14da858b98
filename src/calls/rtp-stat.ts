// Vendor RTP statistics on a BYE (carrier-api.md "Quality data"): `X-RTP-Stat` / `P-RTP-Stat`,
// key=value pairs separated by `,` or `;`. The formats differ by vendor (two-letter keys such as
// `PS=1000,PR=998,PL=2,JI=10,LA=20,EN=PCMU`, or words such as `packets_sent=1000;mos=4.2`), and
// the header comes from the far end, so the parser is defensive: a known key with a value that is
// not a sane number is ignored, an unknown key is kept raw, and nothing here throws.
import type { QualityMetrics } from "./call-record.js";

/** Longer values are cut here: a report is a few hundred bytes; more is noise or an attack. */
const MAX_VALUE_CHARS = 4096;
const MAX_PAIRS = 64;
const MAX_RAW_KEYS = 32;

type NumericField = "packetsSent" | "packetsReceived" | "packetsLost" | "jitterMs" | "roundTripMs" | "mosLq";

/** Keys (lower-case, `-`/`_` removed) that mean each normalized field. */
const NUMERIC_KEYS: Readonly<Record<string, NumericField>> = {
  ps: "packetsSent",
  packetssent: "packetsSent",
  sent: "packetsSent",
  pr: "packetsReceived",
  packetsreceived: "packetsReceived",
  received: "packetsReceived",
  pl: "packetsLost",
  packetslost: "packetsLost",
  lost: "packetsLost",
  ji: "jitterMs",
  jitter: "jitterMs",
  jitterms: "jitterMs",
  la: "roundTripMs",
  latency: "roundTripMs",
  rtt: "roundTripMs",
  rtd: "roundTripMs",
  roundtrip: "roundTripMs",
  roundtripms: "roundTripMs",
  mos: "mosLq",
  moslq: "mosLq",
};
const CODEC_KEYS = new Set(["en", "codec"]);
const LOSS_RATE_KEYS = new Set(["plr", "lossrate", "packetlossrate"]);

/** Sane ranges: a value outside is a bad value and ignored. */
function accept(field: NumericField, n: number): boolean {
  if (!Number.isFinite(n) || n < 0) return false;
  if (field === "mosLq") return n >= 1 && n <= 5;
  if (field === "jitterMs" || field === "roundTripMs") return n <= 600_000;
  return Number.isInteger(n) && n <= 1e12;
}

/** `12`, `12.5`, or the first of a list (`PL=2,0` is split already; `JI=10/12` → 10). */
function number(value: string): number | null {
  const m = /^\s*(\d{1,13}(?:\.\d{1,6})?)\s*(?:[/]|$)/.exec(value);
  return m === null ? null : Number(m[1]);
}

/**
 * Parses one header value. Returns null when nothing in it is recognisable (no key=value pair
 * at all); otherwise the metrics, with what was not understood in `raw`.
 */
export function parseRtpStatHeader(
  name: "X-RTP-Stat" | "P-RTP-Stat",
  value: string,
  reporter: string,
): QualityMetrics | null {
  const fields: Partial<Record<NumericField, number>> = {};
  let codec: string | null = null;
  let lossRate: number | null = null;
  const raw: Record<string, string> = {};
  let rawCount = 0;
  let pairs = 0;
  for (const part of value.slice(0, MAX_VALUE_CHARS).split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    if (++pairs > MAX_PAIRS) break;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(key)) continue;
    const norm = key.toLowerCase().replace(/[-_.]/g, "");
    const field = NUMERIC_KEYS[norm];
    if (field !== undefined) {
      const n = number(val);
      // First occurrence wins (`JI=10,0`: the second number is split off as a bare value).
      if (n !== null && accept(field, n) && fields[field] === undefined) fields[field] = n;
      continue;
    }
    if (CODEC_KEYS.has(norm)) {
      if (codec === null && /^[A-Za-z0-9./+-]{1,32}$/.test(val)) codec = val;
      continue;
    }
    if (LOSS_RATE_KEYS.has(norm)) {
      const n = number(val);
      // A rate above 1 is a percentage.
      if (n !== null && n >= 0 && n <= 100 && lossRate === null) lossRate = n > 1 ? n / 100 : n;
      continue;
    }
    if (rawCount < MAX_RAW_KEYS && !(key in raw)) {
      raw[key] = val.slice(0, 256);
      rawCount++;
    }
  }
  if (pairs === 0) return null;
  const lost = fields.packetsLost ?? null;
  const received = fields.packetsReceived ?? null;
  if (lossRate === null && lost !== null && received !== null && lost + received > 0)
    lossRate = lost / (lost + received);
  return {
    reporter,
    source: name,
    packetsSent: fields.packetsSent ?? null,
    packetsReceived: received,
    packetsLost: lost,
    packetLossRate: lossRate === null ? null : Math.round(lossRate * 1e6) / 1e6,
    jitterMs: fields.jitterMs ?? null,
    roundTripMs: fields.roundTripMs ?? null,
    mosLq: fields.mosLq ?? null,
    codec,
    ...(rawCount > 0 ? { raw } : {}),
  };
}

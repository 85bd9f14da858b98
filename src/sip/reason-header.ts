// Reason (RFC 3326 §2): protocol *( SEMI reason-params ), e.g. `SIP ;cause=200 ;text="Call completed elsewhere"`.
import { type Params, parseBoundedInt, parseParams, scanToken, skipWs } from "./text-scan.js";

export interface ReasonValue {
  /** `SIP`, `Q.850`, ... as written. */
  readonly protocol: string;
  readonly cause: number | null;
  readonly text: string | null;
  readonly params: Params;
}

export function parseReason(s: string): ReasonValue | undefined {
  const start = skipWs(s, 0);
  const end = scanToken(s, start);
  if (end === start) return undefined;
  const params = new Map<string, string | null>();
  const after = parseParams(s, end, params);
  if (after === -1 || skipWs(s, after) !== s.length) return undefined;
  const causeText = params.get("cause");
  const cause =
    causeText === undefined || causeText === null ? null : (parseBoundedInt(causeText, 65535) ?? null);
  return { protocol: s.slice(start, end), cause, text: params.get("text") ?? null, params };
}

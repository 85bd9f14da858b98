// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number MUST be below 2**31 (§8.1.1.5).
import { isDigit } from "./char-classes.js";
import { MAX_CSEQ, scanToken, skipWs } from "./text-scan.js";

export interface CSeq {
  readonly seq: number;
  /** The method exactly as written (methods are case-sensitive, §7.1). */
  readonly method: string;
}

export function parseCSeq(s: string): CSeq | undefined {
  let pos = skipWs(s, 0);
  let seq = 0;
  const digitsStart = pos;
  while (pos < s.length && isDigit(s.charCodeAt(pos))) {
    seq = seq * 10 + (s.charCodeAt(pos) - 0x30);
    if (seq > MAX_CSEQ) return undefined;
    pos++;
  }
  if (pos === digitsStart || pos === s.length) return undefined;
  const methodStart = skipWs(s, pos);
  if (methodStart === pos) return undefined;
  const methodEnd = scanToken(s, methodStart);
  if (methodEnd === methodStart || skipWs(s, methodEnd) !== s.length) return undefined;
  return { seq, method: s.slice(methodStart, methodEnd) };
}

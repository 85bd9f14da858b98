// Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3).

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const MAGIC_COOKIE = "z9hG4bK";

/** What a request contributes to its server transaction key. */
export interface ServerKeyFields {
  readonly method: string;
  readonly branch: string | null;
  /** Top Via sent-by, `host:port` as written (port may be absent). */
  readonly sentBy: string;
  /** RFC 2543 fallback fields. */
  readonly requestUri: string;
  readonly toTag: string | null;
  readonly fromTag: string | null;
  readonly callId: string;
  readonly cseq: number;
  /** The whole top Via value, for the RFC 2543 fallback. */
  readonly topVia: string;
}

/**
 * §17.2.3: a request matches a server transaction when the top Via branch (with the magic
 * cookie), its sent-by and the method match, ACK matching the INVITE. Without the cookie the
 * RFC 2543 rule applies: Request-URI, tags, Call-ID, CSeq number and the top Via. `asMethod`
 * overrides the method (a CANCEL looks for the INVITE it cancels).
 */
export function serverTransactionKey(f: ServerKeyFields, asMethod?: string): string {
  const method = asMethod ?? (f.method === "ACK" ? "INVITE" : f.method);
  if (f.branch?.startsWith(MAGIC_COOKIE)) return `${f.branch}\u0000${f.sentBy.toLowerCase()}\u0000${method}`;
  // RFC 2543: the ACK for a non-2xx carries the INVITE's To tag, which the INVITE itself lacked.
  const toTag = method === "INVITE" || f.method === "CANCEL" ? "" : (f.toTag ?? "");
  return `2543\u0000${f.requestUri}\u0000${toTag}\u0000${f.fromTag ?? ""}\u0000${f.callId}\u0000${f.cseq}\u0000${f.topVia}\u0000${method}`;
}

/** §17.1.3: a response matches a client transaction by the top Via branch and the CSeq method. */
export function clientTransactionKey(branch: string, cseqMethod: string): string {
  return `${branch}\u0000${cseqMethod}`;
}

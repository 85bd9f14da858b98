// The webhook signature of carrier-api.md's wire contract:
//   Dialgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
// The timestamp is inside the MAC, so a receiver that rejects old timestamps (the contract says
// older than 5 minutes) cannot be fed a captured request again later.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Dialgate-Signature";
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** The header's value: `t=<unix seconds>,v1=<64 hex digits>`. */
export const SIGNATURE_PATTERN = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

export function signatureHeader(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.`).update(rawBody).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

export type SignatureCheck =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: "malformed" | "bad_signature" | "too_old" | "in_future" };

/** What a receiver does (the README's receiver and the tests use this very function). */
export function verifySignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secret: string,
  nowUnixSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureCheck {
  const m = SIGNATURE_PATTERN.exec(header ?? "");
  if (m === null) return { ok: false, reason: "malformed" };
  const t = Number(m[1]);
  const expected = Buffer.from(signatureHeader(secret, t, rawBody).slice(-64), "hex");
  if (!timingSafeEqual(expected, Buffer.from(m[2] as string, "hex")))
    return { ok: false, reason: "bad_signature" };
  if (nowUnixSeconds - t > toleranceSeconds) return { ok: false, reason: "too_old" };
  if (t - nowUnixSeconds > toleranceSeconds) return { ok: false, reason: "in_future" };
  return { ok: true, timestamp: t };
}

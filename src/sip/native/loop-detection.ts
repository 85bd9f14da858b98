// Loop detection (RFC 3261 §16.3 step 4 and §16.6 step 8, as amended by RFC 5393 §4.2): the
// branch we put in our Via carries a hash of the request fields that stay the same while a
// request loops and change when it spirals (Request-URI, From/To tags, Call-ID, CSeq number,
// Route set, Proxy-Require, Proxy-Authorization). The topmost Via is left out of the hash, as
// RFC 5393 does, because it differs on every pass and would hide every loop. A request that
// arrives with one of our Vias whose hash equals the one computed now has looped: 482.
import type { SipRequest } from "../index.js";
import { MAGIC_COOKIE } from "./transaction-key.js";

/** FNV-1a, 32 bits, as 8 hex digits: cheap and good enough to tell loops from spirals. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function loopHash(request: SipRequest): string {
  const parts = [
    request.requestUri,
    request.from?.tag ?? "",
    request.to?.tag ?? "",
    request.callId ?? "",
    String(request.cseq?.seq ?? ""),
    request.headers("route").join(","),
    request.headers("proxy-require").join(","),
    request.headers("proxy-authorization").join(","),
  ];
  return fnv1a(parts.join("\u0001")).toString(16).padStart(8, "0");
}

/** Our branches: magic cookie, "dg", the loop hash, ".", a unique suffix. */
export const BRANCH_PREFIX = `${MAGIC_COOKIE}dg`;

/** The loop hash inside one of our branches, or null when the branch is not ours. */
export function loopHashOfBranch(branch: string | null): string | null {
  if (branch === null || !branch.startsWith(BRANCH_PREFIX)) return null;
  const dot = branch.indexOf(".", BRANCH_PREFIX.length);
  return dot === -1 ? null : branch.slice(BRANCH_PREFIX.length, dot);
}

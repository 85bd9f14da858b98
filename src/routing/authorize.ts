// Step two of the pipeline: a user is let through when their source is in the tenant's
// trusted client networks or their digest credentials check out; otherwise they are
// challenged (401 for REGISTER, 407 for what is proxied) or refused.
import type { DirectoryUser } from "../directory/directory.js";
import type { RequestLog } from "../util/request-log.js";
import { type ChallengeKind, DigestAuthenticator } from "./auth/digest.js";
import type { InboundRequest, RoutingDecision } from "./decision.js";
import { reject, rejections, respond } from "./responses.js";

export type Authorization =
  | { readonly ok: true; readonly via: "trusted-network" | "digest" }
  | { readonly ok: false; readonly decision: RoutingDecision };

export function authorizeUser(
  digest: DigestAuthenticator,
  request: InboundRequest,
  user: DirectoryUser,
  trustedSource: boolean,
  kind: ChallengeKind,
  now: number,
  logger: RequestLog,
): Authorization {
  if (trustedSource) return { ok: true, via: "trusted-network" };
  if (DigestAuthenticator.algorithmsFor(user).length === 0) {
    return { ok: false, decision: reject(rejections.forbidden("user has no SIP credentials")) };
  }
  const outcome = digest.verify({ method: request.method, header: (n) => request.header(n) }, user, now);
  switch (outcome.kind) {
    case "authenticated":
      return { ok: true, via: "digest" };
    case "challenge": {
      // Only the user id and a reason are logged: never the header, the nonce or the response.
      logger.debug({ user: user.id, why: outcome.why }, "digest challenge");
      const headers = digest.challenge(user, kind, outcome.stale, now);
      const decision =
        kind === "registrar"
          ? respond(401, "Unauthorized", headers)
          : respond(407, "Proxy Authentication Required", headers);
      return { ok: false, decision };
    }
    case "rejected":
      logger.info({ user: user.id, why: outcome.why }, "digest authentication failed");
      return { ok: false, decision: reject(rejections.forbidden("authentication failed")) };
  }
}

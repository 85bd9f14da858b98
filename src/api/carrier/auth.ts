// Carrier authentication: the bearer key's SHA-256 must be one of that carrier's
// `carriers[].apiKeySha256` (config.md: hashes of the keys, never the keys). A missing or wrong
// key is 401; what a carrier may see is decided per record afterwards (404 for the rest).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { CarrierConfig } from "../../config/schema.js";
import { bearerToken, TokenHashes } from "../bearer.js";
import { apiError } from "../http-server.js";

export interface CarrierPrincipal {
  readonly carrierId: string;
  /** SHA-256 of the key used (rate limits are per key; never the key itself). */
  readonly keyHash: string;
}

const principals = new WeakMap<FastifyRequest, CarrierPrincipal>();

export function carrierOf(request: FastifyRequest): CarrierPrincipal {
  const p = principals.get(request);
  // The onRequest hook runs before every carrier route; reaching this is a wiring bug.
  if (p === undefined) throw new Error("carrier route reached without authentication");
  return p;
}

export function carrierKeyring(carriers: readonly CarrierConfig[]): TokenHashes<string> {
  const ring = new TokenHashes<string>();
  for (const c of carriers) for (const h of c.apiKeySha256) ring.add(h, c.id);
  return ring;
}

/** An onRequest hook: sets the principal, or answers 401. */
/** `ring` is asked per request, so a configuration reload can change the keys. */
export function authenticateCarrier(ring: () => TokenHashes<string>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request.headers.authorization);
    const match = token === null ? null : ring().resolve(token);
    if (match === null) {
      return reply
        .status(401)
        .header("www-authenticate", 'Bearer realm="dialgate-carrier"')
        .send(
          apiError(
            "unauthorized",
            token === null
              ? "send the carrier API key as 'Authorization: Bearer <key>'"
              : "this API key is not known",
          ),
        );
    }
    principals.set(request, { carrierId: match.owner, keyHash: match.hashHex });
  };
}

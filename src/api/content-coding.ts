// Request bodies are read as sent (carrier-api.md: JSON). A compressed body would otherwise reach
// the JSON parser as bytes and be refused as "not valid JSON", which hides the cause; RFC 9110
// §15.5.16 makes a content coding the server does not apply a 415, and §12.5.3 has the answer
// say, in Accept-Encoding, which codings it takes (none but identity).
import type { FastifyReply, FastifyRequest } from "fastify";
import { apiError } from "./api-error.js";

/** A preParsing hook: 415 for a request body with a content coding other than identity. */
export async function refuseEncodedBodies(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const header = request.headers["content-encoding"];
  if (header === undefined || !hasBody(request)) return;
  const codings = (Array.isArray(header) ? header.join(",") : header)
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return;
  await reply
    .status(415)
    .header("accept-encoding", "identity")
    .send(
      apiError("unsupported_media_type", "the request body is encoded", [
        `content-encoding: '${codings.join(", ")}' is not accepted; send the body uncompressed`,
      ]),
    );
}

/** A body follows the header (RFC 9112 §6.3): chunked, or a Content-Length above zero. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

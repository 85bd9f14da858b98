// A store the API reads or writes (the CDR log, carrier durations, the dead-letter list: Redis or
// files beside `cdr.file`) that cannot answer now is `503` with `Retry-After`, in the contract's
// error shape: the request was fine and the client should come back — not `500 internal`, which
// says dialgate is broken. The one place that says how such an answer looks.
import type { FastifyReply } from "fastify";
import type { CdrLogReader } from "../calls/cdr-log.js";
import { apiError } from "./api-error.js";

/** How long a client should wait: long enough for a Redis failover or reconnect, short enough to poll. */
export const STORE_RETRY_AFTER_SECONDS = 10;

/** Thrown by a store read; the HTTP error handler answers it with `sendStoreUnavailable`. */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;

  constructor(
    /** What could not be read, in the client's words ("the CDRs"). */
    readonly what: string,
    /** The store's own error (logged, never sent: it may name hosts or files). */
    readonly reason: string,
  ) {
    super(`${what} cannot be read now (${reason})`);
    this.name = "StoreUnavailableError";
  }
}

export function sendStoreUnavailable(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .status(503)
    .header("retry-after", String(STORE_RETRY_AFTER_SECONDS))
    .send(apiError("store_unavailable", message));
}

/** Runs a store read; its failure becomes a StoreUnavailableError naming `what`. */
export async function readFromStore<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    throw new StoreUnavailableError(what, err instanceof Error ? err.message : String(err));
  }
}

/** The CDR log as the API reads it: every failed read is a StoreUnavailableError. */
export function cdrLogOrUnavailable(log: CdrLogReader): CdrLogReader {
  const what = "the CDRs";
  return {
    readAfter: (after, limit, filter) => readFromStore(what, () => log.readAfter(after, limit, filter)),
    isValidPosition: (position) => log.isValidPosition(position),
    findById: (id) => readFromStore(what, () => log.findById(id)),
  };
}

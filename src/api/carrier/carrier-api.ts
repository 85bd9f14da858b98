// The carrier API (carrier-api.md "Wire contract"): numbers, CDRs (pull, one by id, CSV),
// durations, reconciliation, and the webhook dead-letter list. Every route is authenticated by
// the carrier's bearer key, rate-limited per key, and answers only with that carrier's data:
// anything else is 404, so a carrier cannot even learn that another carrier's record exists.
// A store that cannot answer (Redis away, a full disk) is 503 with Retry-After on every route.
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { CallRecord } from "../../calls/call-record.js";
import { carrierRecords, type InviteRange, readCarrierPage, visibleTo } from "../../calls/carrier-feed.js";
import type { CdrLogReader } from "../../calls/cdr-log.js";
import type { CarrierDuration, DurationStore } from "../../calls/duration-store.js";
import { RECONCILIATION_MARGIN_MS, reconcile } from "../../calls/reconciliation.js";
import type { CarrierConfig } from "../../config/schema.js";
import type { DeadLetterStore } from "../../delivery/webhook/delivery-state.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { retryLaterResponse } from "../api-error.js";
import type { TokenHashes } from "../bearer.js";
import { apiError, type HttpPlugin } from "../http-server.js";
import { CARRIER_SECURITY } from "../openapi.js";
import { cdrLogOrUnavailable, readFromStore, sendStoreUnavailable } from "../store-unavailable.js";
import { authenticateCarrier, carrierKeyring, carrierOf } from "./auth.js";
import { csvStream } from "./csv.js";
import { CursorCodec } from "./cursor.js";
import { normalizeDateTime, normalizeQuery } from "./lenient-input.js";
import type { CarrierNumberSource } from "./numbers.js";
import {
  callRecordSchema,
  cdrListQuerySchema,
  cdrListResponseSchema,
  commonErrorResponses,
  csvQuerySchema,
  durationItemSchema,
  durationsBodySchema,
  durationsResponseSchema,
  errorSchema,
  MAX_DURATIONS_PER_BATCH,
  noQuerySchema,
  numbersQuerySchema,
  numbersResponseSchema,
  reconciliationQuerySchema,
  reconciliationResponseSchema,
  storeErrorResponses,
} from "./schemas.js";

export interface CarrierRateLimit {
  /** Requests per key per window. */
  readonly max: number;
  readonly timeWindowMs: number;
}

export interface CarrierApiOptions {
  /** The carriers of the running configuration (asked per request: live reload changes keys). */
  readonly carriers: () => readonly CarrierConfig[];
  readonly log: CdrLogReader;
  readonly durations: DurationStore;
  readonly numbers: CarrierNumberSource;
  readonly deadLetters: DeadLetterStore;
  readonly cursorKey: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rateLimit: CarrierRateLimit;
}

function badRequest(reply: FastifyReply, code: string, message: string, details: readonly string[] = []) {
  return reply.status(400).send(apiError(code, message, details));
}

function notFound(reply: FastifyReply) {
  return reply.status(404).send(apiError("not_found", "no such record"));
}

/** Epoch ms of validated (`format: date-time`) bounds; a problem when they are out of order. */
function parseRange(query: { from?: string; to?: string }): InviteRange | string {
  const from = query.from === undefined ? null : Date.parse(query.from);
  const to = query.to === undefined ? null : Date.parse(query.to);
  if (from !== null && !Number.isFinite(from)) return "querystring.from: must be an ISO 8601 date-time";
  if (to !== null && !Number.isFinite(to)) return "querystring.to: must be an ISO 8601 date-time";
  if (from !== null && to !== null && to <= from) return "querystring.to: must be after from";
  return { from, to };
}

function problemsOf(
  errors: readonly { instancePath: string; message?: string; params: unknown }[],
): string[] {
  return errors.map((e) => {
    const params = e.params as { missingProperty?: unknown; additionalProperty?: unknown };
    const segments = e.instancePath.split("/").filter((s) => s !== "");
    const named = params.missingProperty ?? params.additionalProperty;
    if (typeof named === "string") segments.push(named);
    const path = segments.length === 0 ? "item" : segments.join(".");
    const message =
      typeof params.additionalProperty === "string" ? "is not a known field" : (e.message ?? "is invalid");
    return `${path}: ${message}`;
  });
}

export function carrierApiPlugin(o: CarrierApiOptions): HttpPlugin {
  let keyring: { carriers: readonly CarrierConfig[]; ring: TokenHashes<string> } | null = null;
  const ring = () => {
    const carriers = o.carriers();
    if (keyring === null || keyring.carriers !== carriers)
      keyring = { carriers, ring: carrierKeyring(carriers) };
    return keyring.ring;
  };
  const cursors = new CursorCodec(o.cursorKey);
  const log = o.logger.child({ component: "carrier-api" });
  const cdrLog = cdrLogOrUnavailable(o.log);

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addHook("onRequest", authenticateCarrier(ring));
      // Empty query values and common date-time spellings (lenient-input.ts), before the schemas.
      scope.addHook("preValidation", async (request) => {
        if (typeof request.query === "object" && request.query !== null)
          normalizeQuery(request.query as Record<string, unknown>, ["from", "to"]);
      });
      await scope.register(rateLimit, {
        global: true,
        // After authentication (onRequest: the key is known), before the body is parsed and the
        // request validated: a key's malformed or invalid requests (400, 413) count against it
        // too. Failed authentications are limited per address (src/api/auth-failure-limit.ts).
        hook: "preParsing",
        max: o.rateLimit.max,
        timeWindow: o.rateLimit.timeWindowMs,
        // Per API key (its hash): one carrier's busy tool cannot starve its other keys or others.
        keyGenerator: (request) => carrierOf(request).keyHash,
        errorResponseBuilder: (_request, context) => {
          const err = new Error(
            `rate limit of ${context.max} requests per ${Math.round(o.rateLimit.timeWindowMs / 1000) || 1} s exceeded for this key; retry in ${context.after}`,
          ) as Error & { statusCode: number };
          err.statusCode = 429;
          return err;
        },
        addHeadersOnExceeding: {
          "x-ratelimit-limit": true,
          "x-ratelimit-remaining": true,
          "x-ratelimit-reset": true,
        },
      });

      scope.get(
        "/v1/carrier/numbers",
        {
          schema: {
            tags: ["carrier"],
            summary: "The carrier's provisioned numbers, with assignment and SIP URI",
            security: [...CARRIER_SECURITY],
            querystring: numbersQuerySchema,
            response: { 200: numbersResponseSchema, ...commonErrorResponses },
          },
        },
        async (request) => {
          const { assigned } = request.query as { assigned?: boolean };
          const all = await o.numbers.numbersOf(carrierOf(request).carrierId);
          const numbers =
            assigned === undefined ? all : all.filter((n) => (n.status === "assigned") === assigned);
          return { numbers };
        },
      );

      scope.get(
        "/v1/carrier/cdrs",
        {
          schema: {
            tags: ["carrier"],
            summary: "The carrier's CDRs in commit order, paged with an opaque cursor",
            description:
              "nextCursor is null when nothing more is committed now. The Dialgate-Resume-Cursor response " +
              "header always holds a cursor just after this page: a later call with it returns only records " +
              "committed since (a record amended with late quality data reappears with a higher revision).",
            security: [...CARRIER_SECURITY],
            querystring: cdrListQuerySchema,
            response: { 200: cdrListResponseSchema, ...storeErrorResponses },
          },
        },
        async (request, reply) => {
          const { carrierId } = carrierOf(request);
          const q = request.query as { from?: string; to?: string; cursor?: string; limit: number };
          const parsed = parseRange(q);
          if (typeof parsed === "string")
            return badRequest(reply, "bad_request", "the request is invalid", [parsed]);
          let range = parsed;
          let after: string | null = null;
          if (q.cursor !== undefined) {
            const state = cursors.decode(carrierId, q.cursor, (p) => cdrLog.isValidPosition(p));
            if ("code" in state)
              return badRequest(reply, state.code, state.message, [`querystring.cursor: ${state.message}`]);
            if (
              (q.from !== undefined && parsed.from !== state.from) ||
              (q.to !== undefined && parsed.to !== state.to)
            ) {
              return badRequest(reply, "bad_cursor", "the cursor was issued for other from/to bounds", [
                "querystring.cursor: issued for other from/to bounds; repeat them unchanged or leave them out",
              ]);
            }
            range = { from: state.from, to: state.to };
            after = state.position;
          }
          const page = await readCarrierPage(cdrLog, carrierId, after, q.limit, range);
          const resume = cursors.encode(carrierId, {
            position: page.position,
            from: range.from,
            to: range.to,
          });
          reply.header("dialgate-resume-cursor", resume);
          return { records: page.records, nextCursor: page.exhausted ? null : resume };
        },
      );

      scope.get(
        "/v1/carrier/cdrs.csv",
        {
          schema: {
            tags: ["carrier"],
            summary: "The carrier's CDRs as CSV (same filters), streamed",
            security: [...CARRIER_SECURITY],
            querystring: csvQuerySchema,
            response: {
              200: {
                description: "A header row of the CDR field names, one row per record",
                content: { "text/csv": { schema: { type: "string" } } },
              },
              ...storeErrorResponses,
            },
          },
        },
        async (request, reply) => {
          const { carrierId } = carrierOf(request);
          const range = parseRange(request.query as { from?: string; to?: string });
          if (typeof range === "string")
            return badRequest(reply, "bad_request", "the request is invalid", [range]);
          const stream = await csvStream(carrierRecords(cdrLog, carrierId, range));
          stream.on("error", (err) =>
            log.error({ err: err.message, carrierId }, "CSV export failed mid-stream"),
          );
          return reply
            .type("text/csv; charset=utf-8")
            .header("content-disposition", 'attachment; filename="cdrs.csv"')
            .send(stream);
        },
      );

      scope.get(
        "/v1/carrier/cdrs/:id",
        {
          schema: {
            tags: ["carrier"],
            summary: "One CDR (with any late quality data merged); another carrier's id is 404",
            security: [...CARRIER_SECURITY],
            querystring: noQuerySchema,
            params: {
              type: "object",
              additionalProperties: false,
              required: ["id"],
              // As long as the router takes (http-server.ts): any other id is simply not found.
              properties: { id: { type: "string", minLength: 1, maxLength: 1024 } },
            },
            response: { 200: callRecordSchema, 404: errorSchema, ...storeErrorResponses },
          },
        },
        async (request, reply) => {
          const { carrierId } = carrierOf(request);
          const { id } = request.params as { id: string };
          const record = await cdrLog.findById(id);
          if (record === null || !visibleTo(record, carrierId)) return notFound(reply);
          return record;
        },
      );

      scope.post(
        "/v1/carrier/durations",
        {
          schema: {
            tags: ["carrier"],
            summary: "Submit call durations the carrier measured (idempotent per correlationId)",
            security: [...CARRIER_SECURITY],
            body: durationsBodySchema,
            response: {
              200: durationsResponseSchema,
              413: {
                description: `More than ${MAX_DURATIONS_PER_BATCH} items: nothing kept`,
                ...errorSchema,
              },
              415: {
                description:
                  "The body has a Content-Encoding (gzip, br...): send it uncompressed (the answer carries Accept-Encoding: identity)",
                ...errorSchema,
              },
              ...commonErrorResponses,
              503: retryLaterResponse("The durations could not be stored: nothing kept, retry"),
            },
          },
        },
        async (request, reply) => {
          const { carrierId } = carrierOf(request);
          const items = (request.body as { durations: unknown[] }).durations;
          if (items.length > MAX_DURATIONS_PER_BATCH) {
            return reply
              .status(413)
              .send(
                apiError(
                  "too_large",
                  `at most ${MAX_DURATIONS_PER_BATCH} durations per request (this one had ${items.length}); nothing was kept`,
                ),
              );
          }
          const validate = request.compileValidationSchema(durationItemSchema, "body");
          const now = new Date(o.clock.now()).toISOString();
          const good = new Map<string, CarrierDuration>();
          const rejected: { index: number; problems: string[] }[] = [];
          items.forEach((original, index) => {
            // The same date-time spellings as in queries (lenient-input.ts); kept as sent.
            const item =
              typeof original === "object" &&
              original !== null &&
              typeof (original as { startDateTime?: unknown }).startDateTime === "string"
                ? {
                    ...original,
                    startDateTime: normalizeDateTime((original as { startDateTime: string }).startDateTime),
                  }
                : original;
            if (!validate(item)) {
              rejected.push({ index, problems: problemsOf(validate.errors ?? []) });
              return;
            }
            const d = item as {
              correlationId: string;
              startDateTime: string;
              durationSeconds: number;
              calleeNumber?: string | null;
              callerNumber?: string | null;
            };
            const startMs = Date.parse(d.startDateTime);
            if (!Number.isFinite(startMs)) {
              rejected.push({ index, problems: ["startDateTime: must be an ISO 8601 date-time"] });
              return;
            }
            // A correlationId sent twice in one batch: the later item replaces the earlier one.
            good.delete(d.correlationId);
            good.set(d.correlationId, {
              correlationId: d.correlationId,
              startDateTime: (original as { startDateTime: string }).startDateTime,
              startMs,
              durationSeconds: d.durationSeconds,
              calleeNumber: d.calleeNumber ?? null,
              callerNumber: d.callerNumber ?? null,
              receivedDateTime: now,
            });
          });
          try {
            await o.durations.put(carrierId, [...good.values()]);
          } catch (err) {
            log.error({ err: (err as Error).message, carrierId }, "cannot store durations");
            return sendStoreUnavailable(
              reply,
              "the durations could not be stored; nothing was kept, send them again later",
            );
          }
          return { accepted: items.length - rejected.length, rejected };
        },
      );

      scope.get(
        "/v1/carrier/reconciliation",
        {
          schema: {
            tags: ["carrier"],
            summary: "dialgate's CDRs against the carrier's durations, per call, with totals",
            security: [...CARRIER_SECURITY],
            querystring: reconciliationQuerySchema,
            response: {
              200: reconciliationResponseSchema,
              ...storeErrorResponses,
            },
          },
        },
        async (request, reply) => {
          const { carrierId } = carrierOf(request);
          const q = request.query as { from?: string; to?: string; toleranceSeconds: number };
          const range = parseRange(q);
          if (typeof range === "string")
            return badRequest(reply, "bad_request", "the request is invalid", [range]);
          // Open bounds, as on GET /v1/carrier/cdrs: the contract writes both queries the same way
          // (`?from=&to=`), so a carrier leaving one out means "from the first" / "up to now", not a
          // mistake. Any window length is accepted; only the few fields reconciliation needs are
          // kept per record.
          const fromMs = range.from ?? Number.NEGATIVE_INFINITY;
          const toMs = range.to ?? Number.POSITIVE_INFINITY;
          const wide = {
            from: range.from === null ? null : range.from - RECONCILIATION_MARGIN_MS,
            to: range.to === null ? null : range.to + RECONCILIATION_MARGIN_MS,
          };
          // (reconcile() keeps one record per id: an amendment's re-presentation adds nothing.)
          const records: Pick<
            CallRecord,
            "id" | "correlationId" | "inviteDateTime" | "duration" | "successfulCall"
          >[] = [];
          for await (const r of carrierRecords(cdrLog, carrierId, wide)) {
            const { id, correlationId, inviteDateTime, duration, successfulCall } = r;
            records.push({ id, correlationId, inviteDateTime, duration, successfulCall });
          }
          const durations = await readFromStore("the carrier durations", () =>
            o.durations.inRange(
              carrierId,
              wide.from ?? Number.NEGATIVE_INFINITY,
              wide.to ?? Number.POSITIVE_INFINITY,
            ),
          );
          return reconcile({ records, durations, fromMs, toMs, toleranceSeconds: q.toleranceSeconds });
        },
      );

      scope.get(
        "/v1/carrier/webhook/dead-letters",
        {
          schema: {
            tags: ["carrier"],
            summary: "Webhook batches that were given up on (each record id can be pulled again)",
            security: [...CARRIER_SECURITY],
            querystring: noQuerySchema,
            response: {
              200: {
                type: "object",
                required: ["deadLetters"],
                properties: {
                  deadLetters: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: {
                        id: { type: "string" },
                        url: { type: "string" },
                        failedDateTime: { type: "string" },
                        attempts: { type: "integer" },
                        lastError: { type: "string" },
                        recordIds: { type: "array", items: { type: "string" } },
                      },
                    },
                  },
                },
              },
              ...storeErrorResponses,
            },
          },
        },
        async (request) => ({
          deadLetters: await readFromStore("the dead-letter list", () =>
            o.deadLetters.list(carrierOf(request).carrierId),
          ),
        }),
      );
    });
  };
}

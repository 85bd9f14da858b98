// JSON schemas of the carrier API: fastify validates requests with them, serializes responses
// with them (fast-json-stringify drops what a schema does not name, so an internal field such as
// `carrierIds` can never reach a carrier), and @fastify/swagger turns them into /openapi.json.
// Field names are carrier-api.md's wire contract.

import { errorBodySchema, retryLaterResponse } from "../api-error.js";

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });
const isoDateTime = { type: "string", format: "date-time" } as const;

export const errorSchema = errorBodySchema;

/** Responses every authenticated route can give besides its own. */
export const commonErrorResponses = {
  400: { description: "Bad input: every problem with its path", ...errorSchema },
  401: { description: "No or wrong credentials", ...errorSchema },
  429: retryLaterResponse(
    "Too many requests for this key, or too many failed authentications from this address (see Retry-After)",
  ),
} as const;

/** The common responses plus 503, for routes that read a store. */
export const storeErrorResponses = {
  ...commonErrorResponses,
  503: retryLaterResponse("The store cannot be read now: try again after Retry-After"),
} as const;

const qualityMetricsSchema = {
  type: ["object", "null"],
  properties: {
    reporter: { type: "string" },
    source: { type: "string", enum: ["vq-rtcpxr", "X-RTP-Stat", "P-RTP-Stat"] },
    packetsSent: nullable("integer"),
    packetsReceived: nullable("integer"),
    packetsLost: nullable("integer"),
    packetLossRate: nullable("number"),
    jitterMs: nullable("number"),
    roundTripMs: nullable("number"),
    mosLq: nullable("number"),
    codec: nullable("string"),
    raw: { type: "object", additionalProperties: { type: "string" } },
  },
} as const;

export const callQualitySchema = {
  type: "object",
  description: "Quality per direction; absent when no endpoint reported any",
  properties: { caller: qualityMetricsSchema, callee: qualityMetricsSchema },
} as const;

export const callAttemptSchema = {
  type: "object",
  properties: {
    fqdn: { type: "string" },
    startDateTime: { type: "string" },
    finalSipCode: nullable("integer"),
    reason: { type: "string" },
    timer: { type: "string", description: "dialgate: the RFC 3261 timer (B, C) when reason is timeout" },
  },
} as const;

/** The CDR as a carrier sees it (carrier-api.md "The CDR"). */
export const callRecordSchema = {
  type: "object",
  properties: {
    id: { type: "string", description: "UUID of the record: de-duplicate on it" },
    correlationId: { type: "string", description: "SIP Call-ID of the caller's leg" },
    tenantId: nullable("string"),
    userId: nullable("string"),
    userPrincipalName: nullable("string"),
    userDisplayName: nullable("string"),
    callType: {
      type: "string",
      enum: [
        "dr_out",
        "dr_in",
        "dr_emergency_out",
        "dr_out_user_transfer",
        "dr_out_user_forwarding",
        "dr_unassigned_in",
        "internal",
      ],
    },
    callerNumber: nullable("string"),
    calleeNumber: nullable("string"),
    dialedNumber: nullable("string"),
    matchingRule: nullable("string"),
    effectiveTenantDialPlanName: nullable("string"),
    voiceRoute: nullable("string"),
    pstnUsage: nullable("string"),
    trunkFullyQualifiedDomainName: nullable("string"),
    carrierId: nullable("string"),
    attempts: { type: "array", items: callAttemptSchema },
    inviteDateTime: { type: "string" },
    startDateTime: { type: "string" },
    failureDateTime: nullable("string"),
    endDateTime: nullable("string"),
    duration: { type: "integer" },
    successfulCall: { type: "boolean" },
    finalSipCode: { type: "integer" },
    finalSipCodePhrase: { type: "string" },
    endedBy: { type: "string", enum: ["caller", "callee", "proxy"] },
    revision: {
      type: "integer",
      description: "1 when written; +1 per late quality report merged in (same id: the highest wins)",
    },
    quality: callQualitySchema,
  },
} as const;

export const rangeQueryProperties = {
  from: { ...isoDateTime, description: "inviteDateTime lower bound (inclusive), ISO 8601 with zone" },
  to: { ...isoDateTime, description: "inviteDateTime upper bound (exclusive), ISO 8601 with zone" },
} as const;

export const cdrListQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    ...rangeQueryProperties,
    cursor: { type: "string", minLength: 1, maxLength: 2048, description: "nextCursor of an earlier page" },
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

export const cdrListResponseSchema = {
  type: "object",
  required: ["records", "nextCursor"],
  properties: {
    records: { type: "array", items: callRecordSchema },
    nextCursor: {
      type: ["string", "null"],
      description: "null when nothing more is committed now; pass it to get the next page",
    },
  },
} as const;

export const csvQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: { ...rangeQueryProperties },
} as const;

/** A route that takes no query parameters: an unknown one is a 400, as on the other routes. */
export const noQuerySchema = { type: "object", additionalProperties: false, properties: {} } as const;

export const numbersQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: { assigned: { type: "boolean" } },
} as const;

export const numbersResponseSchema = {
  type: "object",
  required: ["numbers"],
  properties: {
    numbers: {
      type: "array",
      items: {
        type: "object",
        properties: {
          number: { type: "string" },
          tenantId: { type: "string" },
          status: { type: "string", enum: ["assigned", "unassigned"] },
          assignedTo: nullable("string", { description: "user id (SIP address) or null" }),
          sipUri: { type: "string" },
          updatedDateTime: { type: "string" },
        },
      },
    },
  },
} as const;

/** One carrier-measured call (validated item by item, so that good items survive bad ones). */
export const durationItemSchema = {
  type: "object",
  additionalProperties: false,
  required: ["correlationId", "startDateTime", "durationSeconds"],
  properties: {
    correlationId: { type: "string", minLength: 1, maxLength: 512 },
    startDateTime: isoDateTime,
    durationSeconds: { type: "number", minimum: 0, maximum: 31_536_000 },
    // Optional: absent or null (what most JSON serializers write for a missing value).
    calleeNumber: { type: ["string", "null"], maxLength: 64 },
    callerNumber: { type: ["string", "null"], maxLength: 64 },
  },
} as const;

export const MAX_DURATIONS_PER_BATCH = 10_000;

/**
 * Marks a subschema that /openapi.json shows as a `$ref` to the named component (openapi.ts),
 * while request validation ignores it (an unknown keyword): how the durations body documents its
 * items without the request schema refusing the whole batch for one bad item.
 */
export const DOCUMENTED_AS = "x-dialgate-documented-as";

export const durationsBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["durations"],
  properties: {
    durations: {
      type: "array",
      description:
        `Up to ${MAX_DURATIONS_PER_BATCH} items (more: 413, nothing kept). Each item is checked on its own ` +
        "against components.schemas.CarrierDuration, and a bad one is reported by index while good ones " +
        "are kept (so the request schema accepts any item).",
      items: { [DOCUMENTED_AS]: "CarrierDuration" },
    },
  },
} as const;

export const durationsResponseSchema = {
  type: "object",
  required: ["accepted", "rejected"],
  properties: {
    accepted: { type: "integer" },
    rejected: {
      type: "array",
      items: {
        type: "object",
        properties: { index: { type: "integer" }, problems: { type: "array", items: { type: "string" } } },
      },
    },
  },
} as const;

/** The body of a webhook push (carrier-api.md "Wire contract"): the CDRs as the pull API gives them. */
export const webhookBatchSchema = {
  type: "object",
  required: ["records"],
  properties: { records: { type: "array", minItems: 1, items: callRecordSchema } },
} as const;

export const reconciliationQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    ...rangeQueryProperties,
    toleranceSeconds: { type: "number", minimum: 0, maximum: 3600, default: 1 },
  },
} as const;

export const reconciliationResponseSchema = {
  type: "object",
  required: ["calls", "totals"],
  properties: {
    calls: {
      type: "array",
      items: {
        type: "object",
        properties: {
          correlationId: { type: "string" },
          status: { type: "string", enum: ["matched", "mismatch", "missingAtCarrier", "missingAtDialgate"] },
          dialgateSeconds: nullable("number"),
          carrierSeconds: nullable("number"),
        },
      },
    },
    totals: {
      type: "object",
      properties: {
        calls: { type: "integer" },
        matched: { type: "integer" },
        mismatch: { type: "integer" },
        missingAtCarrier: { type: "integer" },
        missingAtDialgate: { type: "integer" },
        dialgateSeconds: { type: "number" },
        carrierSeconds: { type: "number" },
      },
    },
  },
} as const;

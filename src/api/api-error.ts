// The error body of carrier-api.md's wire contract, for every route and every refusal:
// {"error": {"code", "message", "details"}}.

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: readonly unknown[] };
}

export function apiError(code: string, message: string, details: readonly unknown[] = []): ApiErrorBody {
  return { error: { code, message, details } };
}

/** The error body as a JSON schema (route responses, hence /openapi.json). */
export const errorBodySchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "details"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: { type: "array", items: {} },
      },
    },
  },
} as const;

/** A response header in a response schema: @fastify/swagger documents it, serialization ignores it. */
export const retryAfterHeaderSchema = {
  "retry-after": { type: "integer", minimum: 1, description: "Seconds to wait before trying again" },
} as const;

/** A 429 or 503 answer: the error body, with Retry-After. */
export function retryLaterResponse(description: string) {
  return { description, headers: retryAfterHeaderSchema, ...errorBodySchema } as const;
}

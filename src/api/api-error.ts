// The error body of carrier-api.md's wire contract, for every route and every refusal:
// {"error": {"code", "message", "details"}}.

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: readonly unknown[] };
}

export function apiError(code: string, message: string, details: readonly unknown[] = []): ApiErrorBody {
  return { error: { code, message, details } };
}

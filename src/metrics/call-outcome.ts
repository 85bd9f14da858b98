// How a call ended, for metrics (ASR: answered / all). Pure: a final status to an outcome.
// RFC 3261 §21: 486 Busy Here and 600 Busy Everywhere are "busy"; 408 (no response: Timer B/C,
// failover timer) and 504 are timeouts; 487 is the caller's CANCEL; other 4xx are refusals
// (often the router's: 403, 404, 480) and 5xx/6xx failures of the far end.
export type CallOutcome = "answered" | "busy" | "cancelled" | "timeout" | "rejected" | "failed";

export const CALL_OUTCOMES: readonly CallOutcome[] = [
  "answered",
  "busy",
  "cancelled",
  "timeout",
  "rejected",
  "failed",
];

export function outcomeOfFinalStatus(status: number): CallOutcome {
  if (status >= 200 && status < 300) return "answered";
  if (status === 486 || status === 600) return "busy";
  if (status === 487) return "cancelled";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 300 && status < 500) return "rejected";
  return "failed";
}

/** The status class 1-6, or 0 for a status outside 100-699. */
export function statusClassIndex(status: number): number {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 6 ? c : 0;
}

/** `1xx`..`6xx` (one label value per class, so a hostile status cannot add label values). */
export function statusClass(status: number): string {
  const c = statusClassIndex(status);
  return c === 0 ? "other" : `${c}xx`;
}

const KNOWN_METHODS = new Set([
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "INFO",
  "REFER",
  "MESSAGE",
  "UPDATE",
]);

/** The method as a label value: extension methods are any token, so they share `other`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "other";
}

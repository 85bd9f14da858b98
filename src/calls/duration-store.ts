// Call durations measured by carriers (carrier-api.md "Durations and reconciliation"): the port
// the durations API writes to and reconciliation reads from. The embedded adapter is an
// append-only file beside the CDR log (src/store/durations/); with a `redis` section, a hash and
// a sorted set per carrier (src/store/redis/duration-store.ts) that every instance shares.

/** One call as a carrier measured it; idempotent per (carrier, correlationId). */
export interface CarrierDuration {
  readonly correlationId: string;
  /** ISO 8601 as the carrier sent it, and its epoch ms. */
  readonly startDateTime: string;
  readonly startMs: number;
  readonly durationSeconds: number;
  readonly calleeNumber: string | null;
  readonly callerNumber: string | null;
  /** ISO 8601 UTC: when dialgate accepted it (the newest submission for an id wins). */
  readonly receivedDateTime: string;
}

export interface DurationStore {
  /**
   * Keeps every item for the carrier, replacing earlier ones with the same correlationId.
   * Resolves only once durable; on rejection nothing of the batch counts as kept.
   */
  put(carrierId: string, items: readonly CarrierDuration[]): Promise<void>;
  /** The carrier's items with startMs in [fromMs, toMs). */
  inRange(carrierId: string, fromMs: number, toMs: number): Promise<readonly CarrierDuration[]>;
  close(): Promise<void>;
}

/** A stored duration read back (a file line or a Redis value); null when it is not one. */
export function storedDuration(value: unknown): CarrierDuration | null {
  const d = value as Partial<CarrierDuration> | null;
  if (
    typeof d !== "object" ||
    d === null ||
    typeof d.correlationId !== "string" ||
    typeof d.startDateTime !== "string" ||
    typeof d.startMs !== "number" ||
    typeof d.durationSeconds !== "number"
  )
    return null;
  return {
    correlationId: d.correlationId,
    startDateTime: d.startDateTime,
    startMs: d.startMs,
    durationSeconds: d.durationSeconds,
    calleeNumber: d.calleeNumber ?? null,
    callerNumber: d.callerNumber ?? null,
    receivedDateTime: d.receivedDateTime ?? "",
  };
}

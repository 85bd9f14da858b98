// What drachtio-server's CDR events say about each call, keyed by Call-ID, behind a port.
//
// Why a store and not a field of the call object: drachtio-server sends each CDR event to ONE
// of the applications connected to it, round-robin, so with several dialgate instances behind
// one drachtio-server the `cdr:stop` of a call often reaches an instance that never saw its
// INVITE. Whoever receives an event writes it here; the instance that owns the call reads it
// (cdr-reconciler.ts). The embedded implementation below serves one instance; the shared one
// (src/store/redis/drachtio-call-store.ts: one hash per Call-ID with an expiry) implements the
// same four methods, for instances that share a `redis` section.

export interface DrachtioCallRecord {
  readonly callId: string;
  /** Wall-clock ms of `cdr:attempt` (the INVITE), of `cdr:start` (answered), of `cdr:stop`. */
  readonly attemptAt: number | null;
  readonly startAt: number | null;
  readonly stopAt: number | null;
  /** drachtio's reason on `cdr:stop` (`normal-release`, `call-rejected`, ...). */
  readonly stopReason: string | null;
  /** Last write (wall-clock ms), for the sweep. */
  readonly updatedAt: number;
}

export type DrachtioCallUpdate = Partial<Omit<DrachtioCallRecord, "callId" | "updatedAt">>;

export interface DrachtioCallStore {
  /** Merges `update` into the record of `callId` (creating it). */
  update(callId: string, update: DrachtioCallUpdate, now: number): Promise<void>;
  get(callId: string): Promise<DrachtioCallRecord | undefined>;
  /** Records not written since `cutoff` (wall-clock ms). */
  idleSince(cutoff: number): Promise<readonly DrachtioCallRecord[]>;
  delete(callId: string): Promise<void>;
}

/** One process's store (the default, and what a single dialgate behind drachtio-server needs). */
export class InMemoryDrachtioCallStore implements DrachtioCallStore {
  private readonly records = new Map<string, DrachtioCallRecord>();

  async update(callId: string, update: DrachtioCallUpdate, now: number): Promise<void> {
    const old = this.records.get(callId);
    this.records.set(callId, {
      callId,
      attemptAt: update.attemptAt ?? old?.attemptAt ?? null,
      startAt: update.startAt ?? old?.startAt ?? null,
      stopAt: update.stopAt ?? old?.stopAt ?? null,
      stopReason: update.stopReason ?? old?.stopReason ?? null,
      updatedAt: now,
    });
  }

  async get(callId: string): Promise<DrachtioCallRecord | undefined> {
    return this.records.get(callId);
  }

  async idleSince(cutoff: number): Promise<readonly DrachtioCallRecord[]> {
    return [...this.records.values()].filter((r) => r.updatedAt < cutoff);
  }

  async delete(callId: string): Promise<void> {
    this.records.delete(callId);
  }

  get size(): number {
    return this.records.size;
  }
}

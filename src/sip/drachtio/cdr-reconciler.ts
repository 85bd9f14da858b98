// drachtio-server's CDR events (`cdr:attempt`, `cdr:start`, `cdr:stop`) and their quirks, in
// one place. The B2BUA sees its own calls' answers and BYEs directly, so these events are the
// second opinion that catches what the dialog objects miss: a dialog drachtio-server tore down
// while this instance was reconnecting (its BYE went to another application, or nowhere), or
// an ACK that never came. Quirks handled here:
//
// * Off by default: drachtio-server sends them only with `<cdrs>true</cdrs>` (deploy/drachtio/
//   drachtio.conf.xml and the test configuration turn it on).
// * Their time is a time of day only (`18:03:08.274406`), in drachtio-server's clock (UTC in the
//   official image): `timeOfDayToEpoch` puts it on the day nearest to now, so an event stamped
//   23:59:59.9 and read at 00:00:00.1 lands on yesterday, not 24 hours ahead.
// * They are matched by Call-ID, and both legs of a B2BUA call arrive, each with its own: the
//   caller's leg under the caller's Call-ID, the gateway's leg under the one drachtio-server made
//   for it. drachtio-server does not know the two belong together, so a callee's BYE lost to
//   us ends only the gateway leg's record: the sweep reads both.
// * No `cdr:stop` follows a quick CANCEL: a record with an attempt and nothing after it would
//   stay forever, so the sweep drops records idle for `retainMs`.
// * Each event goes to ONE connected application, round-robin: the record lives in a store
//   keyed by Call-ID (call-store.ts) that all instances share, and only the owner acts on it.
// * drachtio-srf registers CDR handlers on its agent, which it rebuilds on every connect: the
//   connection calls `attach` again after each reconnect.
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { DrachtioCallStore } from "./call-store.js";
import type { Agent, CdrSource, SrfMessage } from "./srf-types.js";

const DAY_MS = 86_400_000;

/** `HH:MM:SS[.ffffff]` (UTC) on the day that puts it nearest to `now`; null if it does not parse. */
export function timeOfDayToEpoch(time: string, now: number): number | null {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(time.trim());
  if (m === null) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || min > 59 || s > 60) return null;
  const fraction = m[4] === undefined ? 0 : Number(`0.${m[4]}`);
  const ofDay = ((h * 60 + min) * 60 + s + fraction) * 1000;
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  let best = midnight + ofDay;
  for (const candidate of [best - DAY_MS, best + DAY_MS])
    if (Math.abs(candidate - now) < Math.abs(best - now)) best = candidate;
  return Math.round(best);
}

/** A call this instance bridges, as the reconciler sees it. */
export interface OwnedCall {
  /** The caller's leg (the key of the call's events and CDR). */
  readonly callId: string;
  /** The gateway's leg: drachtio-server's own Call-ID for it, known once answered. */
  readonly calleeCallId: string | null;
  readonly inDialog: boolean;
  /** drachtio-server says the call is over and no BYE reached us: end it here. */
  closeStale(by: "caller" | "callee"): void;
}

export interface CdrReconcilerOptions {
  readonly store: DrachtioCallStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** The calls this instance owns. */
  ownCalls(): Iterable<OwnedCall>;
  /** A stop older than this with the dialog still up here means the BYE was lost to us. */
  readonly stopGraceMs?: number;
  /** Records idle this long are dropped (the quick-CANCEL attempts that never get a stop). */
  readonly retainMs?: number;
}

export interface CdrReconcilerStats {
  readonly events: number;
  readonly unparsable: number;
  /** Calls ended by the sweep because drachtio-server reported their end and we saw no BYE. */
  readonly closedByStop: number;
  /** Records dropped after `retainMs` with an attempt and no stop (quick CANCEL). */
  readonly droppedWithoutStop: number;
}

export class CdrReconciler {
  private readonly stopGraceMs: number;
  private readonly retainMs: number;
  private counts = { events: 0, unparsable: 0, closedByStop: 0, droppedWithoutStop: 0 };
  /** Writes in flight, so a sweep (and tests) can wait for them. */
  private pending = new Set<Promise<void>>();

  constructor(private readonly options: CdrReconcilerOptions) {
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.retainMs = options.retainMs ?? 10 * 60_000;
  }

  get stats(): CdrReconcilerStats {
    return { ...this.counts };
  }

  /** Registers the CDR handlers on a (new) drachtio-srf agent. */
  attach(agent: Agent): void {
    agent.on("cdr:attempt", (source: CdrSource, time: string, msg: SrfMessage) =>
      this.onEvent("attempt", source, time, null, msg),
    );
    agent.on("cdr:start", (source: CdrSource, time: string, role: string, msg: SrfMessage) =>
      this.onEvent("start", source, time, role, msg),
    );
    agent.on("cdr:stop", (source: CdrSource, time: string, reason: string, msg: SrfMessage) =>
      this.onEvent("stop", source, time, reason, msg),
    );
  }

  onEvent(
    kind: "attempt" | "start" | "stop",
    source: CdrSource,
    time: string,
    detail: string | null,
    msg: SrfMessage,
  ): void {
    const now = this.options.clock.now();
    const at = timeOfDayToEpoch(time, now);
    const callId = safeGet(msg, "call-id");
    this.counts.events++;
    if (at === null || callId === undefined) {
      this.counts.unparsable++;
      this.options.log.debug({ kind, time }, "CDR event without a usable time or Call-ID");
      return;
    }
    const update =
      kind === "attempt"
        ? { attemptAt: at }
        : kind === "start"
          ? { startAt: at }
          : // `source` network: the BYE came from the leg's peer; application: we sent it.
            { stopAt: at, stopReason: `${detail ?? "stop"}:${source}` };
    this.track(this.options.store.update(callId, update, now));
  }

  /** Waits for the store writes already started. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** One pass: end owned calls drachtio-server reported over, drop old records. */
  async sweep(): Promise<void> {
    await this.settled();
    const now = this.options.clock.now();
    const { store } = this.options;
    const owned = [...this.options.ownCalls()];
    /** Every leg's Call-ID of the calls we own: their records are kept while the call lasts. */
    const ownedLegs = new Set<string>();
    for (const call of owned) {
      ownedLegs.add(call.callId);
      if (call.calleeCallId !== null) ownedLegs.add(call.calleeCallId);
    }
    for (const call of owned) {
      if (!call.inDialog) continue;
      const stop = await this.reportedStop(call, now);
      if (stop === null) continue;
      this.options.log.warn(
        { callId: call.callId, leg: stop.leg, reason: stop.reason },
        "drachtio-server ended a call whose BYE did not reach this instance: closing it",
      );
      this.counts.closedByStop++;
      call.closeStale(stop.by);
    }
    for (const record of await store.idleSince(now - this.retainMs)) {
      if (ownedLegs.has(record.callId)) continue;
      if (record.stopAt === null && record.startAt === null) this.counts.droppedWithoutStop++;
      await store.delete(record.callId);
    }
  }

  /**
   * The stop drachtio-server reported on either leg of `call` at least `stopGraceMs` ago, and who
   * hung up: source `network` means the BYE came from that leg's peer (the caller on the
   * caller's leg, the gateway on the gateway's); `application` means we sent it, so the party on
   * the other leg had hung up.
   */
  private async reportedStop(
    call: OwnedCall,
    now: number,
  ): Promise<{ leg: "caller" | "callee"; by: "caller" | "callee"; reason: string | null } | null> {
    const legs: ["caller" | "callee", string][] = [["caller", call.callId]];
    if (call.calleeCallId !== null) legs.push(["callee", call.calleeCallId]);
    for (const [leg, callId] of legs) {
      const record = await this.options.store.get(callId);
      if (record?.stopAt == null || record.stopAt > now - this.stopGraceMs) continue;
      const fromPeer = record.stopReason?.endsWith(":network") ?? false;
      const other = leg === "caller" ? "callee" : "caller";
      return { leg, by: fromPeer ? leg : other, reason: record.stopReason };
    }
    return null;
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) =>
      this.options.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        "CDR store write failed",
      ),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}

function safeGet(msg: SrfMessage, name: string): string | undefined {
  try {
    const v = msg.get(name);
    return v === undefined || v === "" ? undefined : v;
  } catch {
    return undefined;
  }
}

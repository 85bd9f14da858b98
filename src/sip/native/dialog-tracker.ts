// Just enough dialog tracking (architecture.md) to see calls end: an answered INVITE creates an
// entry keyed by Call-ID with the caller's From tag; the BYE that ends it says who hung up.

interface TrackedDialog {
  readonly callerTag: string | null;
  readonly answeredAt: number;
}

export class DialogTracker {
  private readonly dialogs = new Map<string, TrackedDialog>();

  confirmed(callId: string, callerTag: string | null, at: number): void {
    if (!this.dialogs.has(callId)) this.dialogs.set(callId, { callerTag, answeredAt: at });
  }

  /** A BYE for `callId` from the party whose From tag is `fromTag`; null when the dialog is unknown. */
  ended(callId: string, fromTag: string | null): "caller" | "callee" | null {
    const d = this.dialogs.get(callId);
    if (d === undefined) return null;
    this.dialogs.delete(callId);
    return d.callerTag !== null && d.callerTag === fromTag ? "caller" : "callee";
  }

  /** Drops a dialog without a BYE; whether it was known. */
  forget(callId: string): boolean {
    return this.dialogs.delete(callId);
  }

  get count(): number {
    return this.dialogs.size;
  }

  clear(): void {
    this.dialogs.clear();
  }
}

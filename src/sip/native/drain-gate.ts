// Graceful shutdown: once draining, new INVITEs are refused (the edge answers 503 + Retry-After)
// and `drain` resolves when the edge reports idle (no response context, no confirmed dialog).

export class DrainGate {
  private isDraining = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly isIdle: () => boolean) {}

  get draining(): boolean {
    return this.isDraining;
  }

  /** Stops admitting without waiting (shutdown). */
  close(): void {
    this.isDraining = true;
  }

  /** Resolves true once idle, false when `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.isDraining = true;
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  /** Call whenever something that counts towards idleness ended. */
  check(): void {
    if (this.waiters.length === 0 || !this.isIdle()) return;
    for (const w of this.waiters.splice(0)) w();
  }
}

// Readiness (`GET /readyz`): each component that traffic depends on (SIP listeners, the state
// store, the CDR log) registers a check; the endpoint is ready only when every check passes,
// and otherwise names what is degraded.

export interface ReadinessResult {
  readonly ok: boolean;
  /** What is wrong when not ok, in words an operator can act on. */
  readonly detail?: string;
}

export type ReadinessCheck = () => ReadinessResult | Promise<ReadinessResult>;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Registers (or replaces) the check called `name` (e.g. "sip", "cdrLog", "redis"). */
  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, ReadinessResult> }> {
    const checks: Record<string, ReadinessResult> = {};
    let ready = true;
    for (const [name, check] of this.checks) {
      let result: ReadinessResult;
      try {
        result = await check();
      } catch (err) {
        result = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
      checks[name] = result;
      if (!result.ok) ready = false;
    }
    return { ready, checks };
  }
}

// Registrar bindings (routing.md "Registrar"): where a user can currently be reached. The
// store is a port: this in-memory implementation serves the embedded default; a Redis one
// (shared by every instance) implements the same asynchronous interface.
import type { SipTransport } from "../routing/decision.js";

export interface RegistrationBinding {
  /** The address-of-record: the user id (`user@domain`). */
  readonly aor: string;
  /** The Contact URI as registered (what the INVITE's Request-URI becomes). */
  readonly contactUri: string;
  /** Comparison key of the Contact URI (RFC 3261 §10.3 step 7 compares URIs, not strings). */
  readonly key: string;
  /** Wall-clock milliseconds when the binding lapses. */
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /** Where the REGISTER came from. */
  readonly source: { readonly address: string; readonly port: number; readonly transport: SipTransport };
  /** Where requests for this binding are sent (decided at registration, see registrar.ts). */
  readonly destination: { readonly host: string; readonly port: number; readonly transport: SipTransport };
}

export interface RegistrationStore {
  /** The bindings of an address-of-record that have not expired at `now` (wall-clock ms). */
  list(aor: string, now: number): Promise<readonly RegistrationBinding[]>;
  /** Adds or replaces the binding with the same key. */
  put(binding: RegistrationBinding): Promise<void>;
  remove(aor: string, key: string): Promise<void>;
  removeAll(aor: string): Promise<void>;
}

/** Bindings held in process memory; expired ones are dropped lazily when their AOR is read. */
export class InMemoryRegistrationStore implements RegistrationStore {
  private readonly byAor = new Map<string, Map<string, RegistrationBinding>>();

  async list(aor: string, now: number): Promise<readonly RegistrationBinding[]> {
    const bindings = this.byAor.get(aor);
    if (bindings === undefined) return [];
    for (const [key, b] of bindings) if (b.expiresAt <= now) bindings.delete(key);
    if (bindings.size === 0) this.byAor.delete(aor);
    return [...bindings.values()];
  }

  async put(binding: RegistrationBinding): Promise<void> {
    let bindings = this.byAor.get(binding.aor);
    if (bindings === undefined) {
      bindings = new Map();
      this.byAor.set(binding.aor, bindings);
    }
    bindings.set(binding.key, binding);
  }

  async remove(aor: string, key: string): Promise<void> {
    const bindings = this.byAor.get(aor);
    bindings?.delete(key);
    if (bindings?.size === 0) this.byAor.delete(aor);
  }

  async removeAll(aor: string): Promise<void> {
    this.byAor.delete(aor);
  }
}

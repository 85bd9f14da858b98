// A carrier's provisioned numbers (`carriers[].numbers`) and whom each is assigned to: a user of
// the number's tenant whose lineUri has that E.164 number (with or without ;ext=). Behind a port
// so the Redis store can serve live assignments with their real change times.
import type { DialgateConfig } from "../../config/schema.js";
import { createDirectory } from "../../directory/directory.js";

export interface CarrierNumber {
  readonly number: string;
  readonly tenantId: string;
  readonly status: "assigned" | "unassigned";
  readonly assignedTo: string | null;
  /** e.g. `sip:+14255550100@contoso.com;user=phone` (RFC 3261 §19.1.6: a telephone number as a SIP URI). */
  readonly sipUri: string;
  readonly updatedDateTime: string;
}

export interface CarrierNumberSource {
  numbersOf(carrierId: string): Promise<readonly CarrierNumber[]>;
}

/**
 * From one configuration: assignments change only when the configuration does, so every number's
 * `updatedDateTime` is when this configuration was loaded or reloaded (`loadedAt`, epoch ms).
 */
export function configNumberSource(config: DialgateConfig, loadedAt: number): CarrierNumberSource {
  const byCarrier = numbersByCarrier(config, loadedAt);
  return { numbersOf: async (carrierId) => byCarrier.get(carrierId) ?? [] };
}

function numbersByCarrier(config: DialgateConfig, loadedAt: number): Map<string, readonly CarrierNumber[]> {
  const directory = createDirectory(config);
  const updatedDateTime = new Date(loadedAt).toISOString();
  const byCarrier = new Map<string, readonly CarrierNumber[]>();
  for (const carrier of config.carriers) {
    const list: CarrierNumber[] = [];
    for (const n of carrier.numbers) {
      const tenant = directory.tenantById(n.tenant);
      const users = directory.usersByBaseNumber(n.tenant, n.number.replace(/;ext=.*$/i, ""));
      const user = directory.userByNumber(n.tenant, n.number) ?? users[0];
      // The user part keeps the extension, as the user's lineUri has it (RFC 3966 §5.1.5 ext=).
      const userPart = user?.config.lineUri ?? n.number;
      const domain = user?.domain ?? tenant?.domains[0] ?? n.tenant;
      list.push({
        number: n.number,
        tenantId: tenant?.id ?? n.tenant,
        status: user === undefined ? "unassigned" : "assigned",
        assignedTo: user?.id ?? null,
        sipUri: `sip:${userPart}@${domain};user=phone`,
        updatedDateTime,
      });
    }
    byCarrier.set(carrier.id, list);
  }
  return byCarrier;
}

/**
 * Follows live reloads and routing pushes: rebuilt when `current()` returns another
 * configuration. A number whose tenant, status, assignee and SIP URI are what they were keeps
 * its `updatedDateTime`; only a number whose assignment changed gets the time of the change (a
 * reload that touches nothing of a carrier's numbers does not mark them all as updated). The
 * times live in the process: after a restart every number starts at the start-up time.
 */
export function reloadingNumberSource(current: () => DialgateConfig, now: () => number): CarrierNumberSource {
  let built: { config: DialgateConfig; byCarrier: Map<string, readonly CarrierNumber[]> } | null = null;
  return {
    async numbersOf(carrierId) {
      const config = current();
      if (built === null || built.config !== config) {
        const previous = built?.byCarrier;
        const byCarrier = numbersByCarrier(config, now());
        for (const [id, numbers] of byCarrier) {
          const before = new Map((previous?.get(id) ?? []).map((n) => [n.number, n]));
          byCarrier.set(
            id,
            numbers.map((n) => {
              const old = before.get(n.number);
              return old !== undefined && sameAssignment(old, n) ? old : n;
            }),
          );
        }
        built = { config, byCarrier };
      }
      return built.byCarrier.get(carrierId) ?? [];
    },
  };
}

function sameAssignment(a: CarrierNumber, b: CarrierNumber): boolean {
  return (
    a.tenantId === b.tenantId &&
    a.status === b.status &&
    a.assignedTo === b.assignedTo &&
    a.sipUri === b.sipUri
  );
}

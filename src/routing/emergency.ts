// Emergency numbers (routing.md "Outbound", step 2): a cleaned dialled string equal to an
// emergency dial string or one of its masks becomes that dial string (mask 112 → 911) and is
// routed through the emergency number's PSTN usage instead of the voice routing policy.
import type { EmergencyCallRoutingPolicyConfig } from "../config/schema.js";

export interface EmergencyMatch {
  readonly policy: string;
  readonly dialString: string;
  readonly usage: string;
  /** What the user dialled that matched (the dial string itself or a mask). */
  readonly matched: string;
}

export function matchEmergencyNumber(
  policy: EmergencyCallRoutingPolicyConfig,
  cleaned: string,
): EmergencyMatch | null {
  for (const n of policy.emergencyNumbers) {
    const strings = [n.emergencyDialString, ...(n.emergencyDialMask?.split(";") ?? [])];
    if (strings.includes(cleaned)) {
      return {
        policy: policy.identity,
        dialString: n.emergencyDialString,
        usage: n.onlinePstnUsage,
        matched: cleaned,
      };
    }
  }
  return null;
}

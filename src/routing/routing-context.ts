// Everything the routing core consults while routing one request, built once per
// configuration by createCallRouter (and by `dialgate route test`).
import type { Directory } from "../directory/directory.js";
import type { RegistrationStore } from "../directory/registrations.js";
import type { Clock, RandomSource } from "../util/clock.js";
import type { GatewayCapacity } from "./capacity.js";
import type { CarrierNumbers } from "./carrier-numbers.js";
import type { CallerDialPlan } from "./dial-plan-port.js";
import type { GatewayDirectory } from "./gateways.js";
import type { GatewayHealth } from "./health.js";
import type { RoutingTables } from "./routing-tables.js";

export interface RoutingContext {
  readonly directory: Directory;
  readonly gateways: GatewayDirectory;
  readonly tables: RoutingTables;
  readonly dialPlan: CallerDialPlan;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly health: GatewayHealth;
  readonly capacity: GatewayCapacity;
  readonly registrations: RegistrationStore;
  /** Which carriers own which numbers (for the CDR's carrier ids). */
  readonly carrierNumbers: CarrierNumbers;
  /** Host used in the URIs dialgate writes itself (From toward gateways): the Record-Route host. */
  readonly proxyHost: string;
}

// createCallRouter wires the pure routing core (directory,
// voice routing, registrar, digest) to the ports it is given (clock, random source, state
// store, health, capacity) and returns the CallRouter the SIP edges call.
import { randomBytes } from "node:crypto";
import type { DialgateConfig } from "../config/schema.js";
import { createDirectory } from "../directory/directory.js";
import type { RegistrationStore } from "../directory/registrations.js";
import type { Clock, RandomSource } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { DigestAuthenticator } from "./auth/digest.js";
import { NonceAuthority, NonceCountTracker } from "./auth/nonce.js";
import type { GatewayCapacity } from "./capacity.js";
import { carrierNumbers } from "./carrier-numbers.js";
import type { CallRouter } from "./decision.js";
import { configDialPlan, dotnetDialect } from "./dial-plan-adapter.js";
import type { CallerDialPlan, RoutingRegexDialect } from "./dial-plan-port.js";
import { type GatewayAddressBook, GatewayDirectory } from "./gateways.js";
import type { GatewayHealth } from "./health.js";
import { NetworkSet } from "./ip-networks.js";
import { DialgateCallRouter } from "./router.js";
import type { RoutingContext } from "./routing-context.js";
import { compileRoutingTables } from "./routing-tables.js";

/** How long a digest nonce stays valid before a correct answer gets `stale=true`. */
export const DEFAULT_NONCE_LIFETIME_SECONDS = 300;
/** Contacts one user may register at once. */
export const DEFAULT_MAX_BINDINGS_PER_USER = 10;

export interface CallRouterDeps {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly registrations: RegistrationStore;
  readonly health: GatewayHealth;
  readonly capacity: GatewayCapacity;
  /** The callers' effective dial plans; default: the dial plan engine (src/dialplan) on `config`. */
  readonly dialPlan?: CallerDialPlan;
  /** The regex dialect of voice route patterns and translation rules; default: .NET (src/dialplan). */
  readonly dialect?: RoutingRegexDialect;
  /** Where each gateway may send from; default: its configured `address`. */
  readonly gatewayAddresses?: GatewayAddressBook;
  /**
   * Key that signs digest nonces; default: random per process. Instances behind one load
   * balancer should share it so a nonce issued by one is accepted by another.
   */
  readonly nonceSecret?: Uint8Array;
  readonly nonceLifetimeSeconds?: number;
  readonly maxBindingsPerUser?: number;
}

/** Everything routing builds from a configuration; also what `dialgate route test` uses. */
export function createRoutingContext(config: DialgateConfig, deps: CallRouterDeps): RoutingContext {
  const compiled = compileRoutingTables(config, deps.dialect ?? dotnetDialect);
  if (!compiled.ok) {
    // A configuration that passed validateConfig always compiles: this is a wiring error.
    throw new Error(
      `routing configuration does not compile: ${compiled.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  }
  return {
    directory: createDirectory(config),
    gateways: GatewayDirectory.fromConfig(config, deps.gatewayAddresses),
    tables: compiled.tables,
    dialPlan: deps.dialPlan ?? configDialPlan(config),
    clock: deps.clock,
    random: deps.random,
    health: deps.health,
    capacity: deps.capacity,
    registrations: deps.registrations,
    carrierNumbers: carrierNumbers(config.carriers),
    proxyHost: config.sip.recordRouteHost,
  };
}

export function createCallRouter(config: DialgateConfig, deps: CallRouterDeps): CallRouter {
  const ctx = createRoutingContext(config, deps);
  const networks = new Map(
    config.tenants.map((t) => [t.id.toLowerCase(), new NetworkSet(t.trustedClientNetworks)]),
  );
  const lifetimeMs = (deps.nonceLifetimeSeconds ?? DEFAULT_NONCE_LIFETIME_SECONDS) * 1000;
  const digest = new DigestAuthenticator(
    new NonceAuthority(deps.nonceSecret ?? randomBytes(32), lifetimeMs),
    new NonceCountTracker(),
  );
  return new DialgateCallRouter({
    ctx,
    identify: {
      directory: ctx.directory,
      gateways: ctx.gateways,
      trustedNetworks: (tenantId) => networks.get(tenantId.toLowerCase()),
    },
    digest,
    registrar: {
      ...config.sip.registrar,
      maxBindingsPerUser: deps.maxBindingsPerUser ?? DEFAULT_MAX_BINDINGS_PER_USER,
    },
    registrations: deps.registrations,
    logger: deps.logger.child({ component: "router" }),
  });
}

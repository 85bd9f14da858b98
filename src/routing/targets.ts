// Building the targets the edge sends to: a PSTN gateway (Request-URI
// `sip:<number>@<fqdn>:<port>;user=phone`, routing.md step 6), a registered contact, a static
// contact or an unassigned-number treatment target.
import type { RegistrationBinding } from "../directory/registrations.js";
import type { AttemptStep, HeaderEdits, RouteTarget, SipTransport } from "./decision.js";
import type { GatewayDirectory, PstnGateway } from "./gateways.js";
import { defaultPort, parseSipAddress } from "./sip-address.js";

export function gatewayRequestUri(gateway: PstnGateway, number: string): string {
  return `sip:${number}@${gateway.fqdn}:${gateway.sipSignalingPort};user=phone`;
}

export function gatewayDestination(gateway: PstnGateway): RouteTarget["destination"] {
  // `address` lets a gateway be reached without DNS (and is where tests point it).
  return {
    host: gateway.address ?? gateway.fqdn,
    port: gateway.sipSignalingPort,
    transport: gateway.transport,
  };
}

export function gatewayTarget(gateway: PstnGateway, number: string, headerEdits?: HeaderEdits): RouteTarget {
  return {
    requestUri: gatewayRequestUri(gateway, number),
    destination: gatewayDestination(gateway),
    label: gateway.fqdn,
    gateway: gateway.fqdn,
    carrier: gateway.carrier ?? null,
    ...(headerEdits === undefined ? {} : { headerEdits }),
  };
}

/** One gateway = one serial step with that gateway's own failover rules (routing.md "Failover"). */
export function gatewayStep(gateway: PstnGateway, target: RouteTarget): AttemptStep {
  return {
    targets: [target],
    failoverResponseCodes: gateway.failoverResponseCodes,
    failoverTimeoutMs: gateway.failoverTimeSeconds * 1000,
  };
}

/**
 * All of a user's registered contacts ring at once: one step, forked in parallel
 * (routing.md inbound step 4). A user's own devices have no failover among them.
 */
export function contactsStep(userId: string, bindings: readonly RegistrationBinding[]): AttemptStep {
  return {
    targets: bindings.map((b) => ({
      requestUri: b.contactUri,
      destination: b.destination,
      label: `${userId} ${b.contactUri}`,
      gateway: null,
    })),
    failoverResponseCodes: [],
    failoverTimeoutMs: null,
  };
}

/**
 * A URI from the configuration (static contact, unassigned-number target). When its host is a
 * configured gateway the gateway's address, port and transport are used and the call counts
 * against that gateway.
 */
export function uriStep(uri: string, label: string, gateways: GatewayDirectory): AttemptStep | null {
  const parsed = parseSipAddress(uri);
  if (parsed === null) return null;
  const gateway = gateways.resolveFqdn(parsed.host)?.gateway;
  if (gateway !== undefined) {
    return {
      targets: [
        {
          requestUri: uri,
          destination: gatewayDestination(gateway),
          label,
          gateway: gateway.fqdn,
          carrier: gateway.carrier ?? null,
        },
      ],
      failoverResponseCodes: [],
      failoverTimeoutMs: null,
    };
  }
  const transport: SipTransport = parsed.transport ?? "udp";
  return {
    targets: [
      {
        requestUri: uri,
        destination: { host: parsed.host, port: parsed.port ?? defaultPort(transport), transport },
        label,
        gateway: null,
      },
    ],
    failoverResponseCodes: [],
    failoverTimeoutMs: null,
  };
}

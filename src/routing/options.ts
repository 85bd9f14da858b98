// Answering OPTIONS (routing.md "Gateway health and capacity"): known gateways get 200 and the
// exchange counts toward their health; a user gets 200 for OPTIONS addressed to the proxy
// itself; everybody else 403.
import type { InboundRequest, RoutingDecision } from "./decision.js";
import type { GatewayDirectory, IdentifiedGateway, PstnGateway } from "./gateways.js";
import { ALLOWED_METHODS, respond } from "./responses.js";

export const OPTIONS_OK: RoutingDecision = respond(200, "OK", [
  ["Allow", ALLOWED_METHODS],
  ["Accept", "application/sdp"],
]);

/**
 * The gateway an OPTIONS comes from. Keep-alives often carry no Contact, so the From host is
 * tried too; either must name a gateway sending from its own address. If no host names one
 * but exactly one gateway sends from this address, that is the one; with several, the source
 * is still a known gateway (answered) but health cannot be credited to any of them.
 */
export function optionsGateway(
  gateways: GatewayDirectory,
  request: InboundRequest,
): { readonly known: boolean; readonly gateway: PstnGateway | null } {
  const hosts = [request.contact?.uri.host, request.from.uri.host].filter(
    (h): h is string => h !== undefined,
  );
  for (const host of hosts) {
    const found: IdentifiedGateway | undefined = gateways.identify(host, request.source.address);
    if (found !== undefined) return { known: true, gateway: found.gateway };
  }
  const atAddress = gateways.atAddress(request.source.address);
  if (atAddress.length === 1) return { known: true, gateway: atAddress[0] ?? null };
  return { known: atAddress.length > 0, gateway: null };
}

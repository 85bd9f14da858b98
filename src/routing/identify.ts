// Step one of the pipeline (identify → authorize → limit → route): who is calling
// (routing.md "Who is calling"). A gateway is recognised by the host it presents together with
// the address it sends from; anything else must name a configured user. Nobody else gets in.
import type { Directory, DirectoryUser } from "../directory/directory.js";
import type { InboundRequest } from "./decision.js";
import type { GatewayDirectory, IdentifiedGateway } from "./gateways.js";
import type { NetworkSet } from "./ip-networks.js";

export type CallerIdentity =
  | { readonly kind: "gateway"; readonly gateway: IdentifiedGateway }
  | {
      readonly kind: "user";
      readonly user: DirectoryUser;
      /** The source is in the user's tenant's trustedClientNetworks: no digest needed. */
      readonly trustedSource: boolean;
    }
  | { readonly kind: "unknown"; readonly why: string };

export interface IdentifyDeps {
  readonly directory: Directory;
  readonly gateways: GatewayDirectory;
  /** Trusted client networks per tenant id (lower-case). */
  trustedNetworks(tenantId: string): NetworkSet | undefined;
}

export function identifyCaller(deps: IdentifyDeps, request: InboundRequest): CallerIdentity {
  const source = request.source.address;
  const contactHost = request.contact?.uri.host;
  if (contactHost !== undefined) {
    const gateway = deps.gateways.identify(contactHost, source, request.source.certificateNames);
    if (gateway !== undefined) return { kind: "gateway", gateway };
  }

  const trusted = (user: DirectoryUser) => deps.trustedNetworks(user.tenant.id)?.has(source) ?? false;
  const fromUser = userOf(deps.directory, request.from.uri);
  if (fromUser !== undefined) return { kind: "user", user: fromUser, trustedSource: trusted(fromUser) };

  // P-Asserted-Identity is believed only from a network the identified user's tenant trusts
  // (RFC 3325 §4: PAI is honoured only inside a trust domain).
  if (request.pai !== null) {
    const paiUser = userOf(deps.directory, request.pai.uri);
    if (paiUser !== undefined && trusted(paiUser))
      return { kind: "user", user: paiUser, trustedSource: true };
  }

  const named = contactHost === undefined ? undefined : deps.gateways.resolveFqdn(contactHost);
  return {
    kind: "unknown",
    why:
      named !== undefined
        ? `gateway ${named.fqdn} is not expected from ${source}`
        : "caller is neither a known gateway nor a user of a tenant",
  };
}

function userOf(directory: Directory, uri: { user: string | null; host: string }): DirectoryUser | undefined {
  return uri.user === null ? undefined : directory.userByAddress(uri.user, uri.host);
}

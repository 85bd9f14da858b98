// The router boundary: what a SIP edge (native or drachtio) hands to the router for each new
// dialog-creating or out-of-dialog request, and the decision it gets back. The router never
// parses SIP and the edge never knows about dial plans; this file is the whole contract
// between them. In-dialog requests (those with a To tag) never reach the router.

export type SipTransport = "udp" | "tcp" | "tls";

/** A URI as the edge parsed it; `raw` is what was on the wire. */
export interface UriView {
  readonly raw: string;
  readonly scheme: "sip" | "sips" | "tel" | string;
  /** User part (sip/sips) or number (tel), unescaped; null when absent. */
  readonly user: string | null;
  readonly host: string;
  readonly port: number | null;
  /** URI parameters, lower-cased names (`user`, `transport`, ...). */
  readonly params: ReadonlyMap<string, string | null>;
}

export interface NameAddrView {
  readonly displayName: string | null;
  readonly uri: UriView;
  readonly tag: string | null;
}

export interface RequestSource {
  readonly address: string;
  readonly port: number;
  readonly transport: SipTransport;
  /** Mutual TLS: the DNS names of the client certificate that verified (a gateway's FQDN). */
  readonly certificateNames?: readonly string[];
}

/** A new dialog-creating or out-of-dialog request, reduced to what routing needs. */
export interface InboundRequest {
  readonly method: string;
  readonly requestUri: UriView;
  readonly from: NameAddrView;
  readonly to: NameAddrView;
  readonly callId: string;
  readonly cseq: number;
  readonly source: RequestSource;
  /** First Contact, if any (`*` is reported as null here; REGISTER sees all in `contacts`). */
  readonly contact: NameAddrView | null;
  /** REGISTER: every Contact with its expires parameter; `star` for `Contact: *`. */
  readonly contacts: readonly { readonly nameAddr: NameAddrView; readonly expires: number | null }[] | "star";
  readonly expires: number | null;
  readonly pai: NameAddrView | null;
  /** Any other header by case-insensitive name (compact forms expanded); all values, in order. */
  header(name: string): readonly string[];
  /** Whether the Request-URI addresses the proxy itself (one of its listen addresses or the Record-Route host). */
  readonly addressedToProxy: boolean;
}

/** Header changes the edge applies to a forwarded request. Names are case-insensitive. */
export interface HeaderEdits {
  /** Headers removed entirely before `add` is applied. */
  readonly remove?: readonly string[];
  /** Headers added (after removal), in order. */
  readonly add?: readonly (readonly [name: string, value: string])[];
  /** Replace the From header's value (tag kept by the edge). */
  readonly from?: string;
  /** Replace the To header's URI (tag-less at dialog creation). */
  readonly toUri?: string;
}

/** One downstream target: where to send the request and what it looks like. */
export interface RouteTarget {
  /** The Request-URI to send, e.g. `sip:+14255550100@sbc1.contoso.com:5061;user=phone`. */
  readonly requestUri: string;
  /** Where to send it (already resolved: gateway `address` or a registered contact's source). */
  readonly destination: { readonly host: string; readonly port: number; readonly transport: SipTransport };
  /** A label for logs, metrics and CDRs (gateway FQDN or user contact). */
  readonly label: string;
  /** Gateway FQDN when the target is a PSTN gateway (capacity and health accounting). */
  readonly gateway: string | null;
  readonly headerEdits?: HeaderEdits;
  /** dialgate: the carrier owning that gateway (`gateways[].carrier`), for the CDR's carrier ids. */
  readonly carrier?: string | null;
  /** dialgate: the voice route that chose this gateway (the CDR's `voiceRoute`). */
  readonly voiceRoute?: string | null;
}

/**
 * One step of the search: its targets are forked in parallel (RFC 3261 §16.7; one target =
 * no fork). Steps are tried serially: the next step runs only when this one ends with a final
 * response whose code is in `failoverResponseCodes`, when `failoverTimeoutMs` elapses without a
 * provisional response above 100 (the edge CANCELs the step), or on transport failure.
 */
export interface AttemptStep {
  readonly targets: readonly RouteTarget[];
  readonly failoverResponseCodes: readonly number[];
  /** null: no failover timer (only the transaction timers apply). */
  readonly failoverTimeoutMs: number | null;
}

/** What kind of call this is: the CDR's `callType` (carrier-api.md call types). */
export type CallDirection =
  | "dr_out" // user -> PSTN gateway
  | "dr_in" // PSTN gateway -> user
  | "dr_emergency_out"
  | "internal" // user -> user by reverse number lookup
  | "dr_out_user_transfer" // a routed INVITE that carries Referred-By (the result of a REFER)
  | "dr_unassigned_in"; // PSTN -> an unassigned number, forwarded by the tenant's treatment

/**
 * What the router decided about a call, for its CDR: everything the recorder writes that it
 * cannot see in the SIP events (tenant, user, numbers, dial plan rule, usage, carriers). The
 * router fills it on `forward` decisions and on `respond` decisions that refuse an identified
 * caller's INVITE, so that a refused call gets a CDR too. The per-gateway facts (voice route,
 * carrier) travel on each `RouteTarget`.
 */
export interface CallContext {
  readonly direction: CallDirection;
  /** Null when the caller was identified but no tenant owns the call (inbound, unknown trunk tenant). */
  readonly tenantId: string | null;
  readonly callerUserId: string | null;
  readonly calleeUserId: string | null;
  /** E.164 of the caller after normalization / inbound translation (the CDR's callerNumber). */
  readonly callerNumber: string | null;
  readonly dialledNumber: string | null;
  /** The number routed on (normalized, emergency dial string, or inbound-translated). */
  readonly normalizedNumber: string | null;
  /** The inbound trunk that sent the call (dr_in), as it presented itself. */
  readonly gatewayFqdn: string | null;
  /** dialgate: E.164 of the called party (CDR calleeNumber): the routed number or the callee's line URI. */
  readonly calleeNumber?: string | null;
  /** dialgate: the Teams-like user the record is about (the caller outbound, the callee inbound). */
  readonly userPrincipalName?: string | null;
  readonly userDisplayName?: string | null;
  /** dialgate: dial plan outcome (`plan/rule`, and the effective tenant dial plan's name). */
  readonly matchingRule?: string | null;
  readonly effectiveTenantDialPlanName?: string | null;
  /** dialgate: the PSTN usage whose voice routes were used. */
  readonly pstnUsage?: string | null;
  /** dialgate: carrier of the inbound trunk (`gatewayFqdn`). */
  readonly gatewayCarrier?: string | null;
  /** dialgate: carriers owning the caller's or callee's number (`carriers[].numbers`). */
  readonly numberCarriers?: readonly string[];
}

export type RoutingDecision =
  | {
      /** Answer the request with a final response (rejection, 401 challenge, 200 to REGISTER/OPTIONS). */
      readonly kind: "respond";
      readonly status: number;
      readonly reason: string;
      readonly headers?: readonly (readonly [name: string, value: string])[];
      /**
       * dialgate: set when an INVITE of an identified caller is refused, so the refused call gets
       * a CDR. Absent for digest challenges (401/407: one step of a call, the authenticated retry
       * is the call) and for unidentified callers (scanners would flood the journal with records
       * no tenant or carrier owns; they are logged and counted instead).
       */
      readonly call?: CallContext | null;
    }
  | {
      /** Proxy the request (record-routed) through these steps, in order. */
      readonly kind: "forward";
      readonly steps: readonly AttemptStep[];
      /** Edits applied to every target before its own `headerEdits`. */
      readonly headerEdits?: HeaderEdits;
      readonly call: CallContext | null;
    };

/** The router. May be asynchronous (a shared store behind it). */
export interface CallRouter {
  route(request: InboundRequest): RoutingDecision | Promise<RoutingDecision>;
}

/** Requests the router needs the edge to send on its behalf (OPTIONS pings to gateways). */
export interface OutboundRequester {
  /** Sends an out-of-dialog request and resolves with the final status, or null on timeout/transport error. */
  sendOptions(target: RouteTarget["destination"], requestUri: string): Promise<number | null>;
}

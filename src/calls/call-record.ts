// The call detail record (CDR) of ../shared/spec/carrier-api.md, "The CDR". Field names follow
// the cloud phone system's Direct Routing call log and are part of the carrier wire contract:
// never rename one. Fields dialgate adds beyond the table are marked "dialgate:".
//
// Every field is always present: a value that does not apply is `null` (so the CSV export has a
// stable column set), except `quality`, which the spec says is absent when no endpoint reported.

/** carrier-api.md call types. */
export type CallType =
  | "dr_out"
  | "dr_in"
  | "dr_emergency_out"
  | "dr_out_user_transfer"
  | "dr_out_user_forwarding"
  | "dr_unassigned_in"
  | "internal";

export type EndedBy = "caller" | "callee" | "proxy";

/** One gateway (or contact) tried for the call, in the order tried. */
export interface CallAttempt {
  /** Gateway FQDN, or the contact label for a call to a user. */
  readonly fqdn: string;
  /** ISO 8601 UTC with milliseconds: when the INVITE was sent to it. */
  readonly startDateTime: string;
  /** Final response from it, or null (transport failure, failover timer, cancelled, Timer B/C). */
  readonly finalSipCode: number | null;
  /**
   * Why the call moved on (or ended) after this attempt: `failover-code`, `failover-timer`,
   * `transport`, `timeout`, `cancelled`, `final` (its answer was final for the call), `answered`.
   */
  readonly reason: string;
  /** dialgate: the RFC 3261 timer that ended it (`B`, `C`) when `reason` is `timeout`. */
  readonly timer?: string;
}

/** One direction's quality, normalized from RFC 6035 vq-rtcpxr or an X-/P-RTP-Stat header. */
export interface QualityMetrics {
  /** Who reported it: the endpoint's identity (vq-rtcpxr LocalID, or the BYE's sender side). */
  readonly reporter: string;
  /** dialgate: which format it arrived in. */
  readonly source: "vq-rtcpxr" | "X-RTP-Stat" | "P-RTP-Stat";
  readonly packetsSent: number | null;
  readonly packetsReceived: number | null;
  readonly packetsLost: number | null;
  /** Fraction 0..1 (RFC 6035 NLR is a percentage: divided by 100). */
  readonly packetLossRate: number | null;
  readonly jitterMs: number | null;
  readonly roundTripMs: number | null;
  readonly mosLq: number | null;
  readonly codec: string | null;
  /** dialgate: keys the parser did not recognise, kept as they arrived. */
  readonly raw?: Readonly<Record<string, string>>;
}

/**
 * Quality per direction: `caller` is what the caller's side reported, `callee` what the far side
 * (gateway or called user) reported.
 */
export interface CallQuality {
  readonly caller: QualityMetrics | null;
  readonly callee: QualityMetrics | null;
}

export interface CallRecord {
  readonly id: string;
  readonly correlationId: string;
  readonly tenantId: string | null;
  readonly userId: string | null;
  readonly userPrincipalName: string | null;
  readonly userDisplayName: string | null;
  readonly callType: CallType;
  readonly callerNumber: string | null;
  readonly calleeNumber: string | null;
  readonly dialedNumber: string | null;
  readonly matchingRule: string | null;
  readonly effectiveTenantDialPlanName: string | null;
  readonly voiceRoute: string | null;
  readonly pstnUsage: string | null;
  readonly trunkFullyQualifiedDomainName: string | null;
  readonly carrierId: string | null;
  /** dialgate: every carrier allowed to see this record (trunks tried, caller/callee numbers). */
  readonly carrierIds: readonly string[];
  readonly attempts: readonly CallAttempt[];
  readonly inviteDateTime: string;
  readonly startDateTime: string;
  readonly failureDateTime: string | null;
  readonly endDateTime: string | null;
  readonly duration: number;
  readonly successfulCall: boolean;
  readonly finalSipCode: number;
  readonly finalSipCodePhrase: string;
  readonly endedBy: EndedBy;
  /**
   * dialgate: 1 when written; a late quality report is journalled as an amendment, and readers
   * that merge it present the record again with the next revision (same id: the newest wins).
   */
  readonly revision: number;
  readonly quality?: CallQuality;
}

/** The CDR field names in contract order (CSV header, OpenAPI). */
export const CALL_RECORD_FIELDS = [
  "id",
  "correlationId",
  "tenantId",
  "userId",
  "userPrincipalName",
  "userDisplayName",
  "callType",
  "callerNumber",
  "calleeNumber",
  "dialedNumber",
  "matchingRule",
  "effectiveTenantDialPlanName",
  "voiceRoute",
  "pstnUsage",
  "trunkFullyQualifiedDomainName",
  "carrierId",
  "carrierIds",
  "attempts",
  "inviteDateTime",
  "startDateTime",
  "failureDateTime",
  "endDateTime",
  "duration",
  "successfulCall",
  "finalSipCode",
  "finalSipCodePhrase",
  "endedBy",
  "revision",
  "quality",
] as const satisfies readonly (keyof CallRecord)[];

/**
 * A quality report that arrived after the call's CDR was written (within the late-report window).
 * CDRs are immutable: the report is journalled on its own and merged by readers.
 */
export interface QualityAmendment {
  /** The `id` of the CDR it amends. */
  readonly cdrId: string;
  readonly correlationId: string;
  /** ISO 8601 UTC: when the report arrived. */
  readonly receivedDateTime: string;
  /**
   * dialgate: the amended CDR's `inviteDateTime`. Lets time-filtered readers and the journal's
   * segment index place the amendment with its record; a journal segment holding an amendment
   * without it cannot be skipped by time.
   */
  readonly inviteDateTime?: string;
  readonly quality: CallQuality;
}

/** What a CDR log holds, in commit order. */
export type CdrLogEntry =
  | { readonly kind: "cdr"; readonly record: CallRecord }
  | { readonly kind: "quality"; readonly amendment: QualityAmendment };

// Every Redis key and channel dialgate uses, in one place (documented in the README, "Redis
// (shared state)"). Keys are namespaced by `redis.keyPrefix` and hash-tagged so that every
// multi-key command or script touches one slot on a Cluster:
//   {<prefix>:routing}  the versioned routing objects, the active pointer, effective plans
//   {<prefix>:reg:<aor>} one user's registrations
//   {<prefix>:cap}      gateway call counters and their leases
//   {<prefix>:cdr}      the CDR stream and its idempotency index
//   {<prefix>:drachtio} drachtio-server's CDR events by Call-ID (the drachtio edge)
//   {<prefix>:webhook}  webhook delivery positions and the per-carrier delivery leases
//   {<prefix>:carrier:<id>} one carrier's submitted durations and webhook dead letters

export class RedisKeys {
  private readonly routing: string;
  private readonly cap: string;
  private readonly cdr: string;
  private readonly drachtio: string;
  private readonly webhook: string;

  constructor(readonly prefix: string) {
    this.routing = `{${prefix}:routing}`;
    this.cap = `{${prefix}:cap}`;
    this.cdr = `{${prefix}:cdr}`;
    this.drachtio = `{${prefix}:drachtio}`;
    this.webhook = `{${prefix}:webhook}`;
  }

  /** Hash: carrier id -> CDR stream position up to which its webhook has delivered. */
  get webhookPositions(): string {
    return `${this.webhook}:positions`;
  }

  /** The lease naming the instance that delivers one carrier's webhook (its token, with a TTL). */
  webhookLease(carrierId: string): string {
    return `${this.webhook}:lease:${carrierId}`;
  }

  /** Hash: correlationId -> one duration the carrier submitted (JSON). */
  carrierDurations(carrierId: string): string {
    return `{${this.prefix}:carrier:${carrierId}}:durations`;
  }

  /** Sorted set of the carrier's correlationIds by call start (ms), for reconciliation ranges. */
  carrierDurationsByStart(carrierId: string): string {
    return `{${this.prefix}:carrier:${carrierId}}:durations-by-start`;
  }

  /** List of the carrier's dead-lettered webhook batches (JSON, oldest first). */
  carrierDeadLetters(carrierId: string): string {
    return `{${this.prefix}:carrier:${carrierId}}:dead-letters`;
  }

  /** Hash: dead letter id -> the exact body that was posted (for an operator's replay). */
  carrierDeadLetterBodies(carrierId: string): string {
    return `{${this.prefix}:carrier:${carrierId}}:dead-letter-bodies`;
  }

  /** The version number of the routing objects in force (string integer). */
  get routingActive(): string {
    return `${this.routing}:active`;
  }

  /** One immutable version of the routing objects (JSON). */
  routingVersion(version: number): string {
    return `${this.routing}:v:${version}`;
  }

  /** Hash: user id -> merged effective dial plan (JSON, tagged with the version it was built on). */
  get effectivePlans(): string {
    return `${this.routing}:effective`;
  }

  /** Shared secret that signs digest nonces, so any instance accepts another's nonce. */
  get nonceSecret(): string {
    return `${this.routing}:nonce-secret`;
  }

  /**
   * Shared HMAC key of the carrier API's paging cursors, so a cursor one instance issued is
   * accepted by every other (a carrier pages through a load balancer).
   */
  get cursorSecret(): string {
    return `${this.routing}:cursor-secret`;
  }

  /** Pub/sub channel announcing a new routing version and the users it touches. */
  get routingChannel(): string {
    return `${this.prefix}:routing-changes`;
  }

  /** Hash: contact key -> binding JSON, for one address-of-record. */
  registrations(aor: string): string {
    return `{${this.prefix}:reg:${aor.toLowerCase()}}:bindings`;
  }

  /** Sorted set of leases on one gateway: member = instance/call id, score = expiry (ms). */
  gatewayLeases(fqdn: string): string {
    return `${this.cap}:leases:${fqdn.toLowerCase()}`;
  }

  /** The CDR stream. */
  get cdrStream(): string {
    return `${this.cdr}:stream`;
  }

  /** Hash: CDR id -> stream id (idempotency: a replayed record is not appended twice). */
  get cdrIndex(): string {
    return `${this.cdr}:ids`;
  }

  /** Sorted set of CDR ids by commit time (ms), to trim the index with the stream. */
  get cdrIndexByTime(): string {
    return `${this.cdr}:ids-by-time`;
  }

  /** Hash: what drachtio-server's CDR events said about one Call-ID. */
  drachtioCall(callId: string): string {
    return `${this.drachtio}:call:${callId}`;
  }

  /** Sorted set of Call-IDs by last CDR event write (ms), for the sweep. */
  get drachtioCallsByUpdate(): string {
    return `${this.drachtio}:calls-by-update`;
  }
}

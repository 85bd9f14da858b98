// The configuration contract of ../shared/spec/config.md, as one zod schema.
//
// Field names are a public interface (they mirror the cloud phone system's object and
// parameter names in camelCase): never rename one. Every object is strict, so a typo in a
// key is an error with its path instead of a silently ignored setting. Defaults live here and
// only here, so the schema is both the validator and the documentation of the defaults.
//
// Fields added beyond the contract (additive, allowed by config.md) are marked "dialgate:".
import { isIP } from "node:net";
import { z } from "zod";

const port = z.number().int().min(1).max(65535);
const nonEmpty = z.string().min(1, "must not be empty");
const fqdn = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
    {
      message: "must be a fully qualified domain name (letters, digits, '-', dot-separated labels)",
    },
  )
  .transform((s) => s.toLowerCase());
const host = z.string().refine((s) => isIP(s) !== 0 || fqdn.safeParse(s).success, {
  message: "must be an IPv4/IPv6 address or a host name",
});
const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: "must be an IPv4 or IPv6 address" });
const cidr = z.string().refine(
  (s) => {
    const [addr, bits, ...rest] = s.split("/");
    if (rest.length > 0 || addr === undefined) return false;
    const family = isIP(addr);
    if (family === 0) return false;
    if (bits === undefined) return true;
    if (!/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  },
  { message: "must be an address or CIDR block such as 10.0.0.0/8 or 2001:db8::/32" },
);
const sipStatus = z.number().int().min(300).max(699);
const e164 = z.string().regex(/^\+[1-9]\d{1,14}(;ext=\d{1,12})?$/, {
  message: "must be an E.164 number such as +14255550100, optionally with ;ext=NNN (1-12 digits)",
});
const transport = z.enum(["udp", "tcp", "tls"]);
const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { message: "must be 64 lowercase hex digits (SHA-256)" });
const md5Hex = z.string().regex(/^[0-9a-f]{32}$/, { message: "must be 32 lowercase hex digits (MD5)" });

// ---------------------------------------------------------------------------------------------
// sip / http / redis / cdr

export const listenSchema = z.strictObject({
  transport,
  host: ipAddress,
  port,
});

export const sipTimersSchema = z.strictObject({
  // RFC 3261 §17.1.1.1 defaults; configurable for lossy or long-haul networks.
  t1Ms: z.number().int().min(50).max(10_000).default(500),
  t2Ms: z.number().int().min(500).max(60_000).default(4_000),
  t4Ms: z.number().int().min(500).max(60_000).default(5_000),
  // Timer C (RFC 3261 §16.6 step 11): must be > 3 minutes.
  timerCMs: z.number().int().min(180_001).default(180_500),
});

export const registrarSchema = z.strictObject({
  minExpiresSeconds: z.number().int().min(1).default(60),
  maxExpiresSeconds: z.number().int().min(1).default(3600),
  defaultExpiresSeconds: z.number().int().min(1).default(3600),
});

// ---------------------------------------------------------------------------------------------
// Hardening (issue #15): TLS, flood protection, limits, DNS. README "Security and limits" says
// why each default is what it is.

/** config.md `sip.tls`: the certificate chain and key of `transport: tls` listeners, trust anchors. */
export const sipTlsSchema = z.strictObject({
  certFile: nonEmpty.optional(),
  keyFile: nonEmpty.optional(),
  caFile: nonEmpty.optional(),
  verifyGateways: z.boolean().default(true),
  requireClientCertificate: z.boolean().default(false),
});

/** Scanner user agents refused by default (substrings, case-insensitive). */
export const DEFAULT_SCANNER_USER_AGENTS = [
  "friendly-scanner",
  "sipvicious",
  "sipcli",
  "sip-scan",
  "sipsak",
  "sundayddr",
  "iWar",
  "VaxSIPUserAgent",
  "pplsip",
] as const;

/** dialgate: per-source request rate limit (like Kamailio's pike) and scanner refusal. */
export const floodSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** More than this many messages from one address within `windowSeconds` bans it. */
  threshold: z.number().int().min(1).default(200),
  windowSeconds: z.number().int().min(1).max(3600).default(2),
  banSeconds: z.number().int().min(1).max(86_400).default(300),
  /**
   * Never rate limited, besides gateways and tenants' trustedClientNetworks (which always are).
   * Empty by default: loopback is not exempt, so a flood from the host itself is seen like any.
   */
  allow: z.array(cidr).default([]),
  scannerUserAgents: z.array(nonEmpty).default([...DEFAULT_SCANNER_USER_AGENTS]),
});

/** dialgate: limits on what one peer can make the proxy hold. */
export const sipLimitsSchema = z.strictObject({
  maxHeaders: z.number().int().min(16).max(10_000).default(256),
  maxConnectionsPerSource: z.number().int().min(1).default(100),
  idleConnectionSeconds: z.number().int().min(1).max(86_400).default(300),
});

const dnsServer = z.string().refine(
  (s) => {
    const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
    const addr = m?.[1] ?? s;
    const p = m?.[2];
    return isIP(addr) !== 0 && (p === undefined || (Number(p) >= 1 && Number(p) <= 65535));
  },
  { message: "must be an IP address, optionally with :port (IPv6 as [addr]:port)" },
);

export const overloadSchema = z.strictObject({
  enabled: z.boolean().default(true),
  targetUtilization: z.number().min(0.5).max(1).default(0.95),
  retryAfterSeconds: z.number().int().min(1).max(3600).default(2),
});

export const sipSchema = z.strictObject({
  edge: z.enum(["native", "drachtio"]).default("native"),
  listen: z.array(listenSchema).min(1, "at least one listen address is needed"),
  recordRouteHost: host,
  drachtio: z
    .strictObject({
      host,
      port,
      secret: nonEmpty,
      // dialgate: TLS to drachtio-server's admin port (drachtio `<admin tls-port=...>`).
      tls: z
        .strictObject({
          caFile: nonEmpty.optional(),
          certFile: nonEmpty.optional(),
          keyFile: nonEmpty.optional(),
          rejectUnauthorized: z.boolean().default(true),
        })
        .optional(),
      // dialgate: drachtio protocol ping interval; two missed pongs and the edge reconnects.
      pingIntervalSeconds: z.number().int().min(1).max(300).default(15),
    })
    .optional(),
  // dialgate: RFC 3261 timers and the largest message accepted.
  timers: sipTimersSchema.prefault({}),
  maxMessageBytes: z.number().int().min(1500).max(1_048_576).default(32_768),
  // dialgate: OPTIONS keep-alive interval for gateways with sendSipOptions (routing.md).
  optionsIntervalSeconds: z.number().int().min(1).max(3600).default(60),
  // dialgate: registrar expiry bounds (routing.md, "Registrar").
  registrar: registrarSchema.prefault({}),
  // dialgate: how long SIGTERM waits for calls in progress before exiting.
  drainTimeoutSeconds: z.number().int().min(0).max(86_400).default(30),
  // config.md: TLS for `transport: tls` listeners and gateways.
  tls: sipTlsSchema.optional(),
  // dialgate: flood protection, limits, and the DNS servers RFC 3263 lookups ask (default: the system's).
  flood: floodSchema.prefault({}),
  limits: sipLimitsSchema.prefault({}),
  dnsServers: z.array(dnsServer).optional(),
  // dialgate: admission control: while the event loop is busier than targetUtilization, a
  // growing share of new INVITEs is answered 503 + Retry-After instead of queueing
  // (src/sip/native/admission-control.ts).
  overload: overloadSchema.prefault({}),
  // dialgate: SIP worker processes sharing the listen ports (src/cluster/). "auto" is one per
  // core when a `redis` section shares the state between them, else 1: registrations, capacity
  // and the CDR journal of the embedded default live in one process. More than 1 needs `redis`.
  workers: z.union([z.literal("auto"), z.number().int().min(1).max(64)]).default("auto"),
  // dialgate: each worker's own port (in its Via and Record-Route) is workerPortBase + index for
  // every listen address; unset, the OS picks one and a restarted worker asks for it again.
  workerPortBase: port.optional(),
});

export const httpSchema = z.strictObject({
  host: ipAddress.default("127.0.0.1"),
  // dialgate: 0 lets the OS pick a free port (tests, several instances on one host).
  port: z.number().int().min(0).max(65535).default(8080),
  adminToken: nonEmpty.optional(),
  // dialgate: requests each carrier API key may make per minute (beyond: 429 + Retry-After).
  carrierRequestsPerMinute: z.number().int().min(1).max(1_000_000).default(600),
});

const redisUrl = z.string().regex(/^rediss?:\/\//, { message: "must be a redis:// or rediss:// URL" });
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "must be an environment variable name" });

// dialgate: every field but `url` is an addition (README "Redis (shared state)").
export const redisSchema = z.strictObject({
  // Standalone server, or one seed node of a Cluster (with `cluster: true`). A password in the
  // URL is allowed; `passwordEnv` keeps it out of the file. rediss:// turns TLS on.
  url: redisUrl,
  cluster: z.boolean().default(false),
  // More Cluster seed nodes (any reachable one is enough to discover the rest).
  clusterNodes: z.array(redisUrl).default([]),
  sentinel: z
    .strictObject({
      masterName: nonEmpty,
      sentinels: z.array(z.strictObject({ host, port })).min(1, "at least one sentinel is needed"),
    })
    .optional(),
  username: nonEmpty.optional(),
  // The environment variable holding the password (never the password in the file).
  passwordEnv: envName.optional(),
  tls: z
    .strictObject({
      caFile: nonEmpty.optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  // Namespace of every key and channel, so several deployments can share one Redis.
  keyPrefix: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, { message: "must be 1-32 of a-z 0-9 _ -" })
    .default("dialgate"),
  // Compiled effective dial plans kept in each process (LRU).
  effectivePlanCacheSize: z.number().int().min(1).max(10_000_000).default(100_000),
  // How often the active routing version is checked besides the pub/sub announcements (the
  // fallback when an announcement was missed, e.g. during an outage).
  versionCheckSeconds: z.number().int().min(1).max(86_400).default(5),
  // How long a gateway capacity lease outlives a silent instance (renewed at a third of it).
  capacityLeaseSeconds: z.number().int().min(1).max(3600).default(60),
  // CDRs older than this are trimmed from the stream (the carrier pull API's horizon).
  cdrRetentionHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(24 * 30),
});

export const cdrSchema = z.strictObject({
  // Names the embedded journal; segments `<stem>.NNNNNNNN.jsonl` and `<stem>.index.json` sit
  // beside it (src/store/cdr-journal/segment-files.ts). Relative to the working directory.
  file: nonEmpty.default("var/cdr.jsonl"),
  // dialgate: rotate the active journal segment at this size.
  segmentBytes: z.number().int().min(4096).max(1_073_741_824).default(67_108_864),
  // dialgate: extra time a group commit waits to gather entries (0: commit as soon as the
  // previous fsync ends, which already batches under load).
  commitDelayMs: z.number().int().min(0).max(1000).default(0),
  // dialgate: the shortest time between the starts of two group commits; CDRs that arrive
  // meanwhile share the next fsync. Caps a busy proxy at 1000/commitIntervalMs fsyncs a second
  // (fsync was most of the recorder's cost, bench/README.md: 81-98 µs of CPU per call at 25 ms
  // against 162-185 at 10 ms, 500 calls/s); 0: commit back to back.
  commitIntervalMs: z.number().int().min(0).max(40).default(25),
  // dialgate: the latency budget for a CDR to become durable; slower commits are logged.
  slowCommitMs: z.number().int().min(1).max(60_000).default(50),
  // dialgate: an answered call still up after this long is closed by the proxy (a BYE that never
  // came must not keep its CDR, capacity and drain open forever); 0: no limit.
  maxCallDurationSeconds: z.number().int().min(0).max(604_800).default(14_400),
  // dialgate: a quality report arriving this long after the call ended still joins its CDR
  // (journalled as a quality amendment; README "Call records").
  lateQualityWindowSeconds: z.number().int().min(0).max(3600).default(30),
});

// ---------------------------------------------------------------------------------------------
// PSTN gateways and translation rules

export const translationRuleSchema = z.strictObject({
  identity: nonEmpty,
  description: z.string().max(512).optional(),
  pattern: nonEmpty,
  translation: z.string(),
});

export const pstnGatewaySchema = z.strictObject({
  fqdn,
  address: ipAddress.optional(),
  sipSignalingPort: port.default(5061),
  transport: transport.default("udp"),
  // A newly created gateway is disabled until an administrator enables it.
  enabled: z.boolean().default(false),
  maxConcurrentSessions: z.number().int().min(1).optional(),
  failoverResponseCodes: z.array(sipStatus).default([408, 503, 504]),
  failoverTimeSeconds: z.number().int().min(1).max(180).default(10),
  sendSipOptions: z.boolean().default(true),
  forwardPai: z.boolean().default(false),
  forwardCallHistory: z.boolean().default(false),
  carrier: nonEmpty.optional(),
  // dialgate: the tenant this gateway belongs to, when its FQDN is not under a tenant domain.
  tenant: nonEmpty.optional(),
  inboundTeamsNumberTranslationRules: z.array(nonEmpty).default([]),
  outboundPstnNumberTranslationRules: z.array(nonEmpty).default([]),
  inboundPstnNumberTranslationRules: z.array(nonEmpty).default([]),
  outboundTeamsNumberTranslationRules: z.array(nonEmpty).default([]),
});

// ---------------------------------------------------------------------------------------------
// Dial plans. Limits and naming rules (dialplan.md) are checked by the dial plan validator,
// which knows the regex dialect; the schema only fixes the shape and the defaults.

export const normalizationRuleSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  // dialplan.md: a rule created without a pattern gets ^(\d{11})$, without a translation +$1.
  pattern: z.string().default("^(\\d{11})$"),
  translation: z.string().default("+$1"),
  isInternalExtension: z.boolean().default(false),
});

const dialPlanBody = {
  description: z.string().optional(),
  externalAccessPrefix: z.string().optional(),
  optimizeDeviceDialing: z.boolean().default(false),
  normalizationRules: z.array(normalizationRuleSchema).default([]),
};

export const tenantGlobalDialPlanSchema = z.strictObject(dialPlanBody);

export const tenantDialPlanSchema = z.strictObject({
  identity: z.string(),
  simpleName: z.string().optional(),
  ...dialPlanBody,
});

export const tenantDialPlansSchema = z.strictObject({
  global: tenantGlobalDialPlanSchema.optional(),
  plans: z.array(tenantDialPlanSchema).default([]),
});

// ---------------------------------------------------------------------------------------------
// Voice routing

export const voiceRouteSchema = z.strictObject({
  identity: nonEmpty,
  description: z.string().optional(),
  numberPattern: nonEmpty,
  priority: z.number().int().min(0),
  onlinePstnUsages: z.array(nonEmpty).default([]),
  onlinePstnGatewayList: z.array(fqdn).default([]),
});

export const voiceRoutingPolicySchema = z.strictObject({
  identity: nonEmpty,
  description: z.string().optional(),
  onlinePstnUsages: z.array(nonEmpty).default([]),
});

export const emergencyNumberSchema = z.strictObject({
  emergencyDialString: z.string().regex(/^[0-9*#+]{1,20}$/, { message: "must be 1-20 of 0-9 * # +" }),
  // Semicolon-separated alternative strings that mean the same emergency number.
  emergencyDialMask: z
    .string()
    .regex(/^[0-9*#+]{1,20}(;[0-9*#+]{1,20})*$/, { message: "must be ';'-separated strings of 0-9 * # +" })
    .optional(),
  onlinePstnUsage: nonEmpty,
});

export const emergencyCallRoutingPolicySchema = z.strictObject({
  identity: nonEmpty,
  description: z.string().optional(),
  emergencyNumbers: z.array(emergencyNumberSchema).default([]),
});

export const unassignedNumberTreatmentSchema = z.strictObject({
  target: z.string().regex(/^sips?:/, { message: "must be a sip: or sips: URI" }),
});

// ---------------------------------------------------------------------------------------------
// Users and tenants

const isoCountry = z
  .string()
  .regex(/^[A-Z]{2}$/, { message: "must be an ISO 3166-1 alpha-2 code such as US" });

export const userSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[^@\s:;]+@[^@\s:;]+$/, { message: "must be a SIP address user@domain" })
    .transform((s) => s.toLowerCase()),
  displayName: z.string().optional(),
  lineUri: e164.optional(),
  usageLocation: isoCountry,
  tenantDialPlan: nonEmpty.optional(),
  onlineVoiceRoutingPolicy: nonEmpty.optional(),
  emergencyCallRoutingPolicy: nonEmpty.optional(),
  contact: z
    .string()
    .regex(/^sips?:/, { message: "must be a sip: or sips: URI" })
    .optional(),
  // MD5(user:realm:password), realm = the user's domain (the host of id). Never the password.
  sipPasswordHa1: md5Hex.optional(),
  // dialgate: SHA-256(user:realm:password), for RFC 8760 SHA-256 digest.
  sipPasswordHa1Sha256: sha256Hex.optional(),
});

export const tenantSchema = z.strictObject({
  id: nonEmpty,
  domains: z.array(fqdn).min(1, "a tenant needs at least one domain"),
  trustedClientNetworks: z.array(cidr).default([]),
  dialPlans: tenantDialPlansSchema.prefault({}),
  pstnUsages: z.array(nonEmpty).default([]),
  voiceRoutes: z.array(voiceRouteSchema).default([]),
  voiceRoutingPolicies: z.array(voiceRoutingPolicySchema).default([]),
  emergencyCallRoutingPolicies: z.array(emergencyCallRoutingPolicySchema).default([]),
  unassignedNumberTreatment: unassignedNumberTreatmentSchema.optional(),
  users: z.array(userSchema).default([]),
});

// ---------------------------------------------------------------------------------------------
// Carriers

export const carrierSchema = z.strictObject({
  id: nonEmpty,
  name: nonEmpty,
  apiKeySha256: z.array(sha256Hex).default([]),
  cdrWebhook: z
    .strictObject({
      url: z.string().regex(/^https?:\/\//, { message: "must be an http(s) URL" }),
      // The name of the environment variable that holds the signing secret, never the secret.
      secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: "must be an environment variable name" }),
    })
    .optional(),
  numbers: z.array(z.strictObject({ number: e164, tenant: nonEmpty })).default([]),
});

// ---------------------------------------------------------------------------------------------

export const dialgateConfigSchema = z.strictObject({
  sip: sipSchema,
  http: httpSchema.prefault({}),
  redis: redisSchema.optional(),
  cdr: cdrSchema.prefault({}),
  gateways: z.array(pstnGatewaySchema).default([]),
  translationRules: z.array(translationRuleSchema).default([]),
  tenants: z.array(tenantSchema).default([]),
  carriers: z.array(carrierSchema).default([]),
});

export type DialgateConfig = z.infer<typeof dialgateConfigSchema>;
export type SipSettings = DialgateConfig["sip"];
export type ListenAddress = z.infer<typeof listenSchema>;
export type PstnGatewayConfig = z.infer<typeof pstnGatewaySchema>;
export type TranslationRuleConfig = z.infer<typeof translationRuleSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type UserConfig = z.infer<typeof userSchema>;
export type TenantDialPlanConfig = z.infer<typeof tenantDialPlanSchema>;
export type TenantGlobalDialPlanConfig = z.infer<typeof tenantGlobalDialPlanSchema>;
export type NormalizationRuleConfig = z.infer<typeof normalizationRuleSchema>;
export type VoiceRouteConfig = z.infer<typeof voiceRouteSchema>;
export type VoiceRoutingPolicyConfig = z.infer<typeof voiceRoutingPolicySchema>;
export type EmergencyCallRoutingPolicyConfig = z.infer<typeof emergencyCallRoutingPolicySchema>;
export type CarrierConfig = z.infer<typeof carrierSchema>;
export type RedisSettings = z.infer<typeof redisSchema>;

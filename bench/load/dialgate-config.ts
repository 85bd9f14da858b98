// The dialgate configuration files `bench:load` generates. Every dialgate rig routes the same
// call plan: one trusted tenant user calls a national number, the US service-country plan
// normalizes it, a voice route picks the gateway (the SIPp UAS) and the Request-URI becomes
// `sip:+1…@uas.bench.example:port;user=phone`. The gateway has a maxConcurrentSessions far above
// any step's calls in progress, so the capacity check runs on every call without ever refusing
// one (in process on the embedded store, an EVAL on Redis).

export interface SipSectionOptions {
  /** The SIP address (native edge: dialgate's own; drachtio edge: drachtio-server's). */
  readonly port: number;
  /** `sip.workers`, only when BENCH_DIALGATE_WORKERS is set. */
  readonly workers?: number | undefined;
  readonly drachtio?: { readonly port: number; readonly secret: string } | undefined;
}

function sipSection(o: SipSectionOptions): string {
  const lines = [
    "sip:",
    ...(o.drachtio === undefined ? [] : ["  edge: drachtio"]),
    `  listen: [{ transport: udp, host: 127.0.0.1, port: ${o.port} }]`,
    "  recordRouteHost: 127.0.0.1",
    "  drainTimeoutSeconds: 0",
    ...(o.workers === undefined ? [] : [`  workers: ${o.workers}`]),
    ...(o.drachtio === undefined
      ? []
      : [`  drachtio: { host: 127.0.0.1, port: ${o.drachtio.port}, secret: ${o.drachtio.secret} }`]),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * The instance's own settings besides sip: HTTP for /readyz, the CDR journal in the step's
 * directory. BENCH_CDR_COMMIT_DELAY_MS sets `cdr.commitDelayMs` (default: dialgate's).
 */
function instanceSections(httpPort: number, cdrFile: string): string {
  const delay = process.env.BENCH_CDR_COMMIT_DELAY_MS;
  const commit = delay === undefined || delay === "" ? "" : `, commitDelayMs: ${Number(delay)}`;
  return `http: { host: 127.0.0.1, port: ${httpPort} }
cdr: { file: '${cdrFile}'${commit} }
`;
}

/** The routing objects: gateway, tenant, route, policy, user. */
export function routingObjects(uasPort: number): string {
  return `gateways:
  - { fqdn: uas.bench.example, address: 127.0.0.1, sipSignalingPort: ${uasPort}, transport: udp, enabled: true, sendSipOptions: false, maxConcurrentSessions: 100000 }
tenants:
  - id: bench
    domains: [bench.example]
    trustedClientNetworks: [127.0.0.0/8]
    pstnUsages: [Bench]
    voiceRoutes:
      - { identity: All, numberPattern: '^\\+1\\d{10}$', priority: 1, onlinePstnUsages: [Bench], onlinePstnGatewayList: [uas.bench.example] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [Bench] }
    users:
      - { id: caller@bench.example, usageLocation: US }
`;
}

/** Embedded store: everything in one file (the `dialgate` and `drachtio` rigs). */
export function embeddedConfig(
  sip: SipSectionOptions,
  httpPort: number,
  cdrFile: string,
  uasPort: number,
): string {
  return sipSection(sip) + instanceSections(httpPort, cdrFile) + routingObjects(uasPort);
}

/** The file `dialgate config push` loads into Redis (its sip section only makes it a valid file). */
export function pushedRoutingFile(uasPort: number): string {
  return sipSection({ port: 5060 }) + routingObjects(uasPort);
}

/** Redis store: the instance's file holds only sip, http, redis and cdr. */
export function redisInstanceConfig(
  sip: SipSectionOptions,
  httpPort: number,
  cdrFile: string,
  redisUrl: string,
): string {
  return `${sipSection(sip)}${instanceSections(httpPort, cdrFile)}redis: { url: '${redisUrl}' }
`;
}

// Wiring: configuration -> router -> SIP edge. The only place that knows how the parts fit;
// nothing here runs on import.

import { AggregatorRegistry } from "prom-client";
import { type CarrierServices, openCarrierServices } from "./api/carrier/services.js";
import { type HttpPlugin, type HttpServer, startHttpServer } from "./api/http-server.js";
import { Readiness } from "./api/readiness.js";
import { CallRecorder } from "./calls/call-recorder.js";
import type { CdrLog } from "./calls/cdr-log.js";
import { CallEventBus } from "./calls/events.js";
import { InProcessGatewayCapacity } from "./calls/gateway-call-counter.js";
import { VqRtcpxrCollector } from "./calls/quality-reports.js";
import type { WorkerLink } from "./cluster/worker-link.js";
import { workerCdrFile } from "./cluster/worker-role.js";
import { disabledCarrierServices, disabledHttpServer } from "./cluster/worker-services.js";
import { type ReloadOutcome, restartOnlyChanges } from "./config/reload.js";
import type { DialgateConfig } from "./config/schema.js";
import { listensOnTls, TlsFilesError } from "./config/tls-files.js";
import type { WebhookPoster, WebhookSettings } from "./delivery/webhook/webhook-worker.js";
import { DialgateMetrics } from "./metrics/dialgate-metrics.js";
import { registerOverloadMetrics } from "./metrics/overload-metrics.js";
import { registerProtectionMetrics } from "./metrics/protection-metrics.js";
import { registerRecorderMetrics } from "./metrics/recorder-metrics.js";
import { registerUdpBatchMetrics } from "./metrics/udp-batch-metrics.js";
import type { CallRouter } from "./routing/decision.js";
import { DnsStubClient, parseDnsServer } from "./routing/dns/dns-client.js";
import { expandDnsTargets } from "./routing/dns/expand-steps.js";
import { DnsGatewayTargets } from "./routing/dns/gateway-targets.js";
import { configuredAddresses } from "./routing/gateways.js";
import { configDialPlan, createRoutingRuntime, type RoutingRuntime } from "./routing/index.js";
import { LiveTrustedSources } from "./routing/trusted-sources.js";
import { DrachtioEdge } from "./sip/drachtio/drachtio-edge.js";
import type { LoadProbe } from "./sip/native/admission-control.js";
import { NativeEdge, type NativeEdgeStats } from "./sip/native/native-edge.js";
import { SystemTimerService, type TimerService } from "./sip/native/timer-service.js";
import { readTlsCredentials, type TlsCredentials } from "./sip/native/tls-transport.js";
import type { ListenAddress } from "./sip/native/transport-types.js";
import { openCdrJournal } from "./store/cdr-journal/index.js";
import { openSharedState, type SharedState, sharedStateConflict } from "./store/redis/shared-state.js";
import { type Clock, type RandomSource, systemClock, systemRandom } from "./util/clock.js";
import { type Logger, silentLogger } from "./util/logger.js";

export interface DialgateDeps {
  /** The call router; defaults to the real router built from the configuration (src/routing). */
  readonly router?: CallRouter;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  readonly events?: CallEventBus;
  readonly clock?: Clock;
  readonly timerService?: TimerService;
  /** The load signal of admission control (tests inject one; default: event-loop utilisation). */
  readonly loadProbe?: LoadProbe;
  /** Route groups added to the HTTP server (metrics, carrier API, admin API). */
  readonly httpPlugins?: readonly HttpPlugin[];
  /**
   * The CDR log; defaults to the embedded journal at `cdr.file`. An injected log belongs to the
   * caller (dialgate does not close it); the journal dialgate opens is closed on stop/shutdown.
   */
  readonly cdrLog?: CdrLog;
  /** Environment for `redis.passwordEnv` and `carriers[].cdrWebhook.secretEnv` (default: none). */
  readonly env?: NodeJS.ProcessEnv;
  /** Webhook delivery tuning (batch bounds, retries, backoff) and its HTTP client (tests). */
  readonly webhook?: Partial<WebhookSettings>;
  readonly webhookPoster?: WebhookPoster;
  /**
   * Set in a worker process of `dialgate serve` with `sip.workers` > 1 (src/cluster): the edge
   * shares the listen ports with its siblings, the CDR journal is the worker's own, and only the
   * first worker serves HTTP (carrier and admin APIs, webhooks, cluster-wide /metrics).
   */
  readonly worker?: WorkerLink;
  /**
   * false: the recorder is built but never subscribes to the call events, so no CDR is written.
   * Only for the recorder-off side of the benchmark A/B (bench/load/serve-unrecorded.ts, issue
   * #12's "the recorder may cost at most 10%"); `dialgate serve` always records.
   */
  readonly recordCalls?: boolean;
}

export interface Dialgate {
  readonly edge: NativeEdge | DrachtioEdge;
  readonly events: CallEventBus;
  /** The SIP listen addresses with the ports actually bound (port 0 in the config picks one). */
  readonly listenAddresses: readonly ListenAddress[];
  readonly stats: NativeEdgeStats;
  /** The HTTP server (health, metrics, APIs) on http.host:http.port. */
  readonly http: HttpServer;
  readonly readiness: Readiness;
  /** Where CDRs are committed and read back (carrier API, webhooks, `cdr tail`). */
  readonly cdrLog: CdrLog;
  /** Prometheus metrics of this instance (served on /metrics). */
  readonly metrics: DialgateMetrics;
  /** Writes one CDR per call from `events` into `cdrLog` (src/calls/call-recorder.ts). */
  readonly recorder: CallRecorder;
  /** The Redis store when the file has a `redis` section (else the embedded default: null). */
  readonly sharedState: SharedState | null;
  /** Carrier and admin APIs, durations, webhook delivery (issue #13). */
  readonly carrierServices: CarrierServices;
  /**
   * Graceful shutdown: new INVITEs get 503 + Retry-After, calls in progress get up to
   * `drainTimeoutMs` to end, then every socket is closed. Resolves true when the drain was clean.
   */
  shutdown(drainTimeoutMs: number): Promise<boolean>;
  /**
   * Applies a validated configuration (SIGHUP, `dialgate reload`): the router, dial plans,
   * gateways, flood/limit and overload settings and TLS credentials are swapped at once; calls
   * in progress keep what they were routed with. Refused (nothing changed) when a TLS file
   * cannot be used.
   */
  reload(config: DialgateConfig): Promise<ReloadOutcome>;
  /** Immediate stop (tests). */
  stop(): Promise<void>;
}

/** How long shutdown waits for the recorder's last CDRs to become durable before logging them. */
const RECORDER_FLUSH_TIMEOUT_MS = 10_000;

export async function startDialgate(config: DialgateConfig, deps: DialgateDeps = {}): Promise<Dialgate> {
  const logger = deps.logger ?? silentLogger();
  const events =
    deps.events ??
    new CallEventBus((err, event) =>
      logger.error(
        { err: err instanceof Error ? err.message : String(err), event: event.type },
        "call event listener failed",
      ),
    );
  const clock = deps.clock ?? systemClock;
  // With a `redis` section the routing objects come from Redis (README "Redis (shared state)").
  const conflict = sharedStateConflict(config);
  if (conflict !== null) throw new Error(conflict);
  // Opened first and never fatal: an unwritable journal is reported by /readyz (and logged),
  // while calls keep routing.
  const ownsCdrLog = deps.cdrLog === undefined;
  const localCdrLog: CdrLog =
    deps.cdrLog ??
    (await openCdrJournal({
      file: deps.worker ? workerCdrFile(config.cdr.file, deps.worker.identity.index) : config.cdr.file,
      segmentBytes: config.cdr.segmentBytes,
      commitDelayMs: config.cdr.commitDelayMs,
      commitIntervalMs: config.cdr.commitIntervalMs,
      slowCommitMs: config.cdr.slowCommitMs,
      logger,
      clock,
    }));
  const closeLocalCdrLog = () => (ownsCdrLog ? localCdrLog.close() : Promise.resolve());
  const metrics = new DialgateMetrics();
  // The router needs the edge to send its OPTIONS pings, and the edge needs the router: the
  // requester closes over the edge, which exists before any ping is sent (routing.start below).
  let edgeRef: NativeEdge | DrachtioEdge | undefined;
  const requester = {
    sendOptions: (destination: Parameters<NativeEdge["sendOptions"]>[0], requestUri: string) =>
      edgeRef ? edgeRef.sendOptions(destination, requestUri) : Promise.resolve(null),
  };
  let sharedState: SharedState | null = null;
  // The DNS book of the gateways in use (set below, once the routing in use is known).
  let dnsTargets: DnsGatewayTargets | null = null;
  if (config.redis !== undefined && !deps.router) {
    try {
      sharedState = await openSharedState(config, {
        clock,
        random: deps.random ?? systemRandom,
        logger,
        events,
        requester,
        // A gateway found by DNS is recognised by the addresses its FQDN resolves to, in every
        // routing version (the book in use is swapped below as versions switch).
        gatewayAddresses: { addressesOf: (g) => (dnsTargets ?? configuredAddresses).addressesOf(g) },
        ...(deps.env ? { env: deps.env } : {}),
      });
    } catch (err) {
      await closeLocalCdrLog();
      throw err;
    }
  }
  // With Redis, CDRs go to the shared stream; the journal becomes the spool for outages.
  const cdrLog: CdrLog =
    sharedState !== null && ownsCdrLog ? await sharedState.openCdrStream(localCdrLog) : localCdrLog;
  // The recorder subscribes before the edge starts, so no call can end unrecorded. It has its
  // own timers: the edge's timer service counts only transactions (leak checks, Timer C tests).
  let edgeForRecorder: NativeEdge | DrachtioEdge | undefined;
  const recorder = new CallRecorder({
    sink: cdrLog,
    clock,
    scheduler: new SystemTimerService(),
    logger,
    settings: {
      maxCallDurationMs:
        config.cdr.maxCallDurationSeconds === 0 ? null : config.cdr.maxCallDurationSeconds * 1000,
      lateQualityWindowMs: config.cdr.lateQualityWindowSeconds * 1000,
    },
    onCallExpired: (callId) => edgeForRecorder?.forgetDialog(callId),
  });
  if (deps.recordCalls !== false) recorder.attach(events);
  // Shutdown: the recorder closes what is still up (endedBy proxy) and flushes every record into
  // the log before the log closes.
  const closeCdrLog = async () => {
    await recorder.close(RECORDER_FLUSH_TIMEOUT_MS);
    if (cdrLog !== localCdrLog) await cdrLog.close();
    await closeLocalCdrLog();
  };
  // Gateways without `address` are found by DNS (RFC 3263; src/routing/dns/), in the background.
  // With Redis the gateways are those of the routing version in use, followed across switches.
  const dnsFor = (c: DialgateConfig) => gatewayDns(c, deps.random ?? systemRandom, logger);
  // Never flood-limited: sip.flood.allow, the gateways (with the addresses DNS finds for them) and
  // the tenants' trusted networks of the routing in use, followed as any of them changes.
  const trusted = new LiveTrustedSources({
    allow: config.sip.flood.allow,
    routing: sharedState?.routing.config ?? config,
    resolved: [],
  });
  const followDns = (book: DnsGatewayTargets | null) => {
    book?.onChange(() => {
      if (dnsTargets === book) trusted.update({ resolved: book.allAddresses() });
    });
    trusted.update({ resolved: book?.allAddresses() ?? [] });
  };
  dnsTargets = deps.router ? null : dnsFor(sharedState?.routing.config ?? config);
  followDns(dnsTargets);
  /** Swaps in the DNS book of a new set of gateways, keeping the answers the old one has. */
  const replaceDns = (fresh: DnsGatewayTargets | null) => {
    if (fresh !== null && dnsTargets !== null) fresh.adopt(dnsTargets);
    dnsTargets?.stop();
    dnsTargets = fresh;
    followDns(fresh);
    void fresh?.start();
  };
  sharedState?.onRoutingSwitch((next) => {
    trusted.update({ routing: next });
    replaceDns(dnsFor(next));
  });
  const routing: RoutingRuntime | null = deps.router
    ? null
    : (sharedState?.runtime ??
      createRoutingRuntime(config, {
        clock,
        random: deps.random ?? systemRandom,
        logger,
        events,
        requester,
        overrides: {
          dialPlan: metrics.timeDialPlan(configDialPlan(config)),
          ...(dnsTargets ? { gatewayAddresses: dnsTargets } : {}),
        },
      }));
  // Live reload swaps `current` (config/reload.ts); the edge always asks through this indirection,
  // so a swap is one assignment: requests routed before it keep their decision.
  let current: RoutingRuntime | null = routing;
  let runningConfig = config;
  const router: CallRouter =
    routing === null
      ? (deps.router as CallRouter)
      : {
          route: (request) => {
            const d = current!.router.route(request);
            return d instanceof Promise
              ? d.then((x) => expandDnsTargets(x, dnsTargets))
              : expandDnsTargets(d, dnsTargets);
          },
        };
  const stopRouting = () => {
    routing?.stop();
    if (current !== routing) current?.stop();
    dnsTargets?.stop();
  };
  // Quality reports are taken from the sources trusted with calls.
  const qualityReports = new VqRtcpxrCollector(recorder, logger, (address) => trusted.current(address));
  const edge: NativeEdge | DrachtioEdge =
    config.sip.edge === "drachtio"
      ? drachtioEdge(config, {
          router,
          events,
          logger,
          clock,
          qualityReports,
          observer: metrics.sipObserver,
          callRecords: recorder,
          // drachtio-server hands CDR events to any connected instance: with Redis they meet the
          // call's state there (src/sip/drachtio/call-store.ts).
          ...(sharedState !== null ? { callStore: sharedState.drachtioCallStore } : {}),
        })
      : new NativeEdge({
          settings: config.sip,
          router,
          events,
          logger,
          clock,
          observer: metrics.sipObserver,
          // Gateways, trusted client networks and sip.flood.allow are never rate limited.
          trustedSources: trusted.current,
          ...(deps.timerService ? { timerService: deps.timerService } : {}),
          ...(deps.loadProbe ? { loadProbe: deps.loadProbe } : {}),
          ...(deps.random ? { random: deps.random } : {}),
          qualityReports,
          callRecords: recorder,
          ...(deps.worker ? { worker: deps.worker.edgeRole(config.sip.workerPortBase) } : {}),
        });
  edgeRef = edge;
  edgeForRecorder = edge;
  if (edge instanceof NativeEdge) trusted.onChange((t) => edge.updateTrustedSources(t));
  metrics.attachCallEvents(events);
  registerProtectionMetrics(metrics.registry, () => edge.protectionStats);
  registerRecorderMetrics(metrics.registry, () => recorder.stats);
  if (edge instanceof NativeEdge) {
    registerOverloadMetrics(metrics.registry, () => edge.overload);
    registerUdpBatchMetrics(metrics.registry, () => edge.udpBatching);
  }
  metrics.attachCdrLog(cdrLog);
  const capacity = routing?.capacity;
  metrics.attachSources({
    edgeStats: () => edge.stats,
    gateways: config.gateways,
    gatewayHealthy: routing === null ? null : (g) => current!.health.isHealthy(g),
    // With Redis the shared state exports the cluster-wide count under the same name.
    gatewayCallsInProgress:
      capacity instanceof InProcessGatewayCapacity ? (fqdn) => capacity.callsInProgress(fqdn) : null,
  });
  if (sharedState !== null) metrics.addRegistry(sharedState.metrics.registry);
  const worker = deps.worker;
  const servesHttp = worker === undefined || worker.identity.index === 0;
  if (worker !== undefined) {
    // Every worker answers the primary's metrics requests (prom-client's cluster aggregation);
    // the first one serves the aggregate on /metrics.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([...metrics.registries]);
    if (servesHttp) metrics.textSource = () => worker.clusterMetrics();
  }
  let listenAddresses: readonly ListenAddress[];
  try {
    listenAddresses = await edge.start();
  } catch (err) {
    await closeCdrLog();
    await sharedState?.close();
    throw err;
  }
  const readiness = new Readiness();
  readiness.register("sip", () =>
    edge instanceof DrachtioEdge
      ? edge.readiness()
      : { ok: true, detail: `${listenAddresses.length} listeners up` },
  );
  readiness.register("cdrLog", () => {
    const h = cdrLog.health();
    return h.writable ? { ok: true } : { ok: false, detail: h.problem ?? "the CDR log is not writable" };
  });
  const shared = sharedState;
  if (shared !== null) readiness.register("redis", () => shared.readiness());
  // Carrier and admin APIs and webhook delivery; a webhook secret variable that is not set stops
  // the start here, with the carrier and variable named.
  let carrierServices: CarrierServices;
  try {
    carrierServices = !servesHttp
      ? disabledCarrierServices()
      : await openCarrierServices({
          // With Redis: the routing objects (carriers, numbers) loaded from it at start.
          config: sharedState?.routing.config ?? config,
          ...(shared !== null ? { adminSource: { current: () => shared.routing.config } } : {}),
          log: cdrLog,
          clock,
          random: deps.random ?? systemRandom,
          logger,
          env: deps.env ?? {},
          metrics: metrics.registry,
          // With Redis, shared by every instance: routing objects, cursor key, webhook delivery.
          ...(shared !== null
            ? {
                routingConfig: () => shared.routing.config,
                cursorKey: shared.cursorKey,
                webhookCoordination: shared.webhookCoordination,
                carrierStores: shared.carrierStores,
              }
            : {}),
          ...(deps.webhook ? { webhook: deps.webhook } : {}),
          ...(deps.webhookPoster ? { webhookPoster: deps.webhookPoster } : {}),
        });
  } catch (err) {
    await edge.stop();
    await closeCdrLog();
    await sharedState?.close();
    throw err;
  }
  const webhooks = carrierServices.webhooks;
  if (webhooks.carriers.length > 0) readiness.register("webhookDelivery", () => webhooks.readiness());
  const carrierProblem = carrierServices.problem;
  if (carrierProblem !== null)
    readiness.register("carrierState", () => ({ ok: false, detail: carrierProblem }));
  let http: HttpServer;
  try {
    http = !servesHttp
      ? disabledHttpServer()
      : await startHttpServer({
          host: config.http.host,
          port: config.http.port,
          readiness,
          plugins: [
            ...carrierServices.plugins,
            ...(shared !== null ? [shared.adminWrites(config.http.adminToken)] : []),
            ...(deps.httpPlugins ?? []),
            metrics.httpPlugin,
          ],
          logger,
        });
  } catch (err) {
    await carrierServices.close();
    await edge.stop();
    await closeCdrLog();
    await sharedState?.close();
    throw new Error(
      `cannot start the HTTP server on ${config.http.host}:${config.http.port}: ${(err as Error).message}`,
    );
  }
  routing?.start();
  void dnsTargets?.start();
  carrierServices.start();
  return {
    edge,
    events,
    listenAddresses,
    http,
    readiness,
    cdrLog,
    metrics,
    recorder,
    sharedState,
    carrierServices,
    get stats() {
      return edge.stats;
    },
    async reload(next: DialgateConfig): Promise<ReloadOutcome> {
      // Everything that can fail is prepared before anything is swapped.
      let creds: TlsCredentials | null = null;
      // As at start (native-edge.ts setUpTls): the files matter only to a tls listener.
      if (next.sip.tls !== undefined && listensOnTls(next.sip.listen)) {
        try {
          creds = await readTlsCredentials(next.sip.tls);
        } catch (err) {
          if (err instanceof TlsFilesError) return { ok: false, problems: [...err.problems] };
          return { ok: false, problems: [{ path: "sip.tls", message: (err as Error).message }] };
        }
      }
      let nextRouting: RoutingRuntime | null = null;
      // With Redis the gateways (and so their DNS) follow the routing version, not this file.
      const nextDns = current === null || sharedState !== null ? null : dnsFor(next);
      // With Redis the routing objects come from the shared state, which reloads them itself.
      if (current !== null && sharedState === null) {
        try {
          nextRouting = createRoutingRuntime(next, {
            clock,
            random: deps.random ?? systemRandom,
            logger,
            events,
            requester,
            // Registrations and the calls counted per gateway carry over.
            registrations: current.registrations,
            capacity: current.capacity,
            overrides: {
              dialPlan: metrics.timeDialPlan(configDialPlan(next)),
              ...(nextDns ? { gatewayAddresses: nextDns } : {}),
            },
          });
        } catch (err) {
          return { ok: false, problems: [{ path: "(configuration)", message: (err as Error).message }] };
        }
      }
      if (nextRouting !== null && current !== null) {
        const previous = current;
        current = nextRouting;
        if (previous !== routing) previous.stop();
        else previous.health.stop();
        if (previous.capacity instanceof InProcessGatewayCapacity) previous.capacity.setLimits(next.gateways);
        nextRouting.start();
      }
      if (current !== null && sharedState === null) replaceDns(nextDns);
      // With Redis the gateways and tenants stay those of the routing version in use.
      trusted.update({ allow: next.sip.flood.allow, ...(sharedState === null ? { routing: next } : {}) });
      // The drachtio edge has no sockets of its own: flood and TLS settings are drachtio-server's.
      if (edge instanceof NativeEdge) {
        edge.updateProtection(next.sip, trusted.current);
        edge.updateOverload(next.sip.overload);
        if (next.sip.tls !== undefined && creds !== null) await edge.reloadTls(next.sip.tls, creds);
      }
      carrierServices.reload(next);
      const restartNeeded = restartOnlyChanges(runningConfig, next, { sharedRouting: sharedState !== null });
      runningConfig = next;
      return { ok: true, restartNeeded };
    },
    async shutdown(drainTimeoutMs: number) {
      const clean = await edge.drain(drainTimeoutMs);
      stopRouting();
      await edge.stop();
      await http.close();
      await carrierServices.close();
      // Last: the calls ended above may still be committing their CDRs.
      await closeCdrLog();
      await sharedState?.close();
      metrics.close();
      return clean;
    },
    stop: async () => {
      stopRouting();
      await edge.stop();
      await http.close();
      await carrierServices.close();
      await closeCdrLog();
      await sharedState?.close();
      metrics.close();
    },
  };
}

/** The drachtio edge (`sip.edge: drachtio`, config.md): dialgate as a drachtio-srf application. */
function drachtioEdge(
  config: DialgateConfig,
  parts: Omit<ConstructorParameters<typeof DrachtioEdge>[0], "settings" | "drachtio">,
): DrachtioEdge {
  const drachtio = config.sip.drachtio;
  if (drachtio === undefined) throw new Error("sip.edge is drachtio but sip.drachtio is missing");
  return new DrachtioEdge({ ...parts, settings: config.sip, drachtio });
}

/** The DNS book for the gateways that have no `address`, or null when every gateway has one. */
function gatewayDns(config: DialgateConfig, random: RandomSource, logger: Logger): DnsGatewayTargets | null {
  const needed = DnsGatewayTargets.needed(config.gateways);
  if (needed.length === 0) return null;
  const client = new DnsStubClient(config.sip.dnsServers?.map(parseDnsServer));
  return new DnsGatewayTargets(needed, client, random, logger.child({ component: "gateway-dns" }));
}

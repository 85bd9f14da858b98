// `/metrics` (Prometheus text format, prom-client). One Registry per dialgate instance, so
// several instances in one process (tests) never share or clash on a metric. Every name starts
// with `dialgate_`, the default process metrics included. Label values come only from finite
// sets (configured gateways, call directions, known methods, status classes), so hostile
// traffic cannot grow the series count.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { HttpPlugin } from "../api/http-server.js";
import type { CdrLog } from "../calls/cdr-log.js";
import type { CallEventBus } from "../calls/events.js";
import type { CallerDialPlan } from "../routing/dial-plan-port.js";
import type { PstnGateway } from "../routing/gateways.js";
import type { SipTrafficObserver } from "../sip/native/sip-traffic-observer.js";
import { CdrJournal } from "../store/cdr-journal/journal.js";
import { CallMetrics } from "./call-metrics.js";
import { methodLabel, statusClass, statusClassIndex } from "./call-outcome.js";

/** What the metrics read at scrape time. */
export interface MetricSources {
  readonly edgeStats: () => {
    readonly serverTransactions: number;
    readonly clientTransactions: number;
    readonly dialogs: number;
    readonly tcpConnections: number;
  };
  readonly gateways: readonly PstnGateway[];
  /** Null when the router was injected (no routing runtime to ask). */
  readonly gatewayHealthy: ((gateway: PstnGateway) => boolean) | null;
  /** Calls a gateway carries now, when the capacity counter can say. */
  readonly gatewayCallsInProgress: ((fqdn: string) => number) | null;
}

// Dial plan evaluation is microseconds (bench/README.md); the buckets reach into milliseconds
// for pathological rule sets.
const DIALPLAN_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];
const COMMIT_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5];
const DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export class DialgateMetrics {
  readonly registry = new Registry();
  private readonly calls: CallMetrics;
  private readonly dialPlanSeconds: Histogram;
  private readonly parseErrors: Counter<"code">;
  /**
   * Received messages counted in plain numbers and added to the counters at scrape time
   * (their collect()): a labelled prom-client inc() hashes its labels, and this runs for every
   * message (six a call).
   */
  private readonly requestCounts = new Map<string, number>();
  /** By status class: index 1-6 for 1xx-6xx, 0 for anything else. */
  private readonly responseCounts = [0, 0, 0, 0, 0, 0, 0];
  private readonly cleanups: (() => void)[] = [];
  /** Registries of other components served on the same /metrics (e.g. the Redis shared state). */
  private readonly extraRegistries: Registry[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "dialgate_" });
    const registers = [this.registry];
    this.calls = new CallMetrics({
      started: new Counter({
        name: "dialgate_calls_started_total",
        help: "INVITEs that started a call (routed or refused), by direction",
        labelNames: ["direction"],
        registers,
      }),
      finished: new Counter({
        name: "dialgate_calls_total",
        help: "Calls by direction and outcome (answered, busy, cancelled, timeout, rejected, failed), counted once at their outcome",
        labelNames: ["direction", "outcome"],
        registers,
      }),
      duration: new Histogram({
        name: "dialgate_call_duration_seconds",
        help: "Answered calls: seconds from answer to BYE (ACD = sum / count)",
        labelNames: ["direction"],
        buckets: DURATION_BUCKETS,
        registers,
      }),
      attempts: new Counter({
        name: "dialgate_gateway_attempts_total",
        help: "INVITE attempts sent to each PSTN gateway",
        labelNames: ["gateway"],
        registers,
      }),
      failures: new Counter({
        name: "dialgate_gateway_failures_total",
        help: "Attempts to a PSTN gateway that failed, by cause (response, failover-timer, transport, timeout, cancelled)",
        labelNames: ["gateway", "cause"],
        registers,
      }),
      inProgress: new Gauge({
        name: "dialgate_calls_in_progress",
        help: "Calls set up or answered and not yet ended, by direction",
        labelNames: ["direction"],
        registers,
        collect: () => this.calls.collectInProgress(),
      }),
      unidentifiedRefused: new Counter({
        name: "dialgate_invites_refused_unidentified_total",
        help: "INVITEs refused before the caller was identified (no tenant user or trunk; digest challenges excluded), by status class",
        labelNames: ["status_class"],
        registers,
      }),
    });
    this.dialPlanSeconds = new Histogram({
      name: "dialgate_dialplan_evaluation_seconds",
      help: "Time to apply a caller's effective dial plan to a dialled number",
      buckets: DIALPLAN_BUCKETS,
      registers,
    });
    const requestCounts = this.requestCounts;
    new Counter({
      name: "dialgate_sip_requests_received_total",
      help: "SIP requests received, by method (extension methods: other)",
      labelNames: ["method"],
      registers,
      collect() {
        for (const [method, n] of requestCounts) this.inc({ method }, n);
        requestCounts.clear();
      },
    });
    const responseCounts = this.responseCounts;
    new Counter({
      name: "dialgate_sip_responses_received_total",
      help: "SIP responses received, by status class",
      labelNames: ["status_class"],
      registers,
      collect() {
        responseCounts.forEach((n, c) => {
          if (n > 0) this.inc({ status_class: statusClass(c * 100) }, n);
        });
        responseCounts.fill(0);
      },
    });
    this.parseErrors = new Counter({
      name: "dialgate_sip_parse_errors_total",
      help: "SIP messages that could not be parsed, by parser error code",
      labelNames: ["code"],
      registers,
    });
  }

  /** Counts received SIP messages (passed to the native edge). */
  readonly sipObserver: SipTrafficObserver = {
    requestReceived: (method) => {
      const label = methodLabel(method);
      this.requestCounts.set(label, (this.requestCounts.get(label) ?? 0) + 1);
    },
    responseReceived: (status) => {
      this.responseCounts[statusClassIndex(status)]! += 1;
    },
    parseError: (code) => this.parseErrors.inc({ code }),
  };

  /** The dial plan port with its evaluation timed. */
  timeDialPlan(dialPlan: CallerDialPlan): CallerDialPlan {
    return {
      clean: (dialled) => dialPlan.clean(dialled),
      normalize: (userId, dialled) => {
        const end = this.dialPlanSeconds.startTimer();
        try {
          return dialPlan.normalize(userId, dialled);
        } finally {
          end();
        }
      },
    };
  }

  attachCallEvents(events: CallEventBus): void {
    this.cleanups.push(events.subscribe((e) => this.calls.onEvent(e)));
  }

  /** Edge, gateway and capacity gauges, read at scrape time. */
  attachSources(sources: MetricSources): void {
    const registers = [this.registry];
    new Gauge({
      name: "dialgate_dialogs_in_progress",
      help: "Answered INVITE dialogs the edge tracks (no BYE yet)",
      registers,
      collect() {
        this.set(sources.edgeStats().dialogs);
      },
    });
    new Gauge({
      name: "dialgate_sip_transactions",
      help: "SIP transactions alive, by kind (server, client)",
      labelNames: ["kind"],
      registers,
      collect() {
        const s = sources.edgeStats();
        this.set({ kind: "server" }, s.serverTransactions);
        this.set({ kind: "client" }, s.clientTransactions);
      },
    });
    new Gauge({
      name: "dialgate_tcp_connections",
      help: "Open SIP connections (TCP and TLS)",
      registers,
      collect() {
        this.set(sources.edgeStats().tcpConnections);
      },
    });
    const healthy = sources.gatewayHealthy;
    if (healthy !== null)
      new Gauge({
        name: "dialgate_gateway_up",
        // Across workers (each probes on its own): up only when every worker sees it up.
        aggregator: "min",
        help: "1 when the PSTN gateway is healthy (an OPTIONS exchange within 3 intervals; routing.md), else 0",
        labelNames: ["gateway"],
        registers,
        collect() {
          for (const g of sources.gateways) this.set({ gateway: g.fqdn }, g.enabled && healthy(g) ? 1 : 0);
        },
      });
    const inUse = sources.gatewayCallsInProgress;
    if (inUse !== null)
      new Gauge({
        name: "dialgate_gateway_calls_in_progress",
        help: "Calls each PSTN gateway carries now (capacity in use)",
        labelNames: ["gateway"],
        registers,
        collect() {
          for (const g of sources.gateways) this.set({ gateway: g.fqdn }, inUse(g.fqdn));
        },
      });
    const limited = sources.gateways.filter((g) => g.maxConcurrentSessions !== undefined);
    if (limited.length > 0)
      new Gauge({
        name: "dialgate_gateway_max_concurrent_sessions",
        // Configuration, the same in every worker.
        aggregator: "max",
        help: "Configured maxConcurrentSessions of each PSTN gateway that has one",
        labelNames: ["gateway"],
        registers,
        collect() {
          for (const g of limited) this.set({ gateway: g.fqdn }, g.maxConcurrentSessions ?? 0);
        },
      });
  }

  /** CDRs written, commit latency, fsyncs and writability of the CDR log. */
  attachCdrLog(log: CdrLog): void {
    const registers = [this.registry];
    const written = new Counter({
      name: "dialgate_cdr_entries_written_total",
      help: "CDR log entries (CDRs and quality amendments) made durable",
      registers,
    });
    const commits = new Counter({
      name: "dialgate_cdr_commits_total",
      help: "Durable commits to the CDR log (each carries one or more entries)",
      registers,
    });
    const latency = new Histogram({
      name: "dialgate_cdr_commit_latency_seconds",
      help: "From append() to durable, per commit (the oldest entry of the batch)",
      buckets: COMMIT_BUCKETS,
      registers,
    });
    if (log.onCommit !== undefined)
      this.cleanups.push(
        log.onCommit((info) => {
          written.inc(info.entries);
          commits.inc();
          latency.observe(info.latencyMs / 1000);
        }),
      );
    new Gauge({
      name: "dialgate_cdr_log_writable",
      // Across workers: 0 when any worker's log cannot be written.
      aggregator: "min",
      help: "1 when the CDR log takes writes, else 0 (see /readyz for why)",
      registers,
      collect() {
        this.set(log.health().writable ? 1 : 0);
      },
    });
    if (log instanceof CdrJournal) {
      const journal = log;
      // The journal counts these itself; each scrape adds what happened since the last one.
      const fromStats = (name: string, help: string, read: () => number) => {
        let seen = 0;
        new Counter({
          name,
          help,
          registers,
          collect() {
            const now = read();
            if (now > seen) this.inc(now - seen);
            seen = now;
          },
        });
      };
      fromStats(
        "dialgate_cdr_journal_fsyncs_total",
        "fdatasync calls of the CDR journal (one per group commit)",
        () => journal.stats.fsyncs,
      );
      fromStats(
        "dialgate_cdr_journal_failed_commits_total",
        "Journal commits that failed (ENOSPC, EIO...); their appends were rejected and retried by the caller",
        () => journal.stats.failedCommits,
      );
      fromStats(
        "dialgate_cdr_journal_slow_commits_total",
        "Journal commits slower than cdr.slowCommitMs",
        () => journal.stats.slowCommits,
      );
    }
  }

  /** Serves another component's registry on /metrics too (its names must not repeat ours). */
  addRegistry(registry: Registry): void {
    this.extraRegistries.push(registry);
  }

  /** This instance's registries (a cluster worker hands them to prom-client's aggregation). */
  get registries(): readonly Registry[] {
    return [this.registry, ...this.extraRegistries];
  }

  /**
   * Where /metrics reads its text: by default this process's registries; in the first worker of
   * a cluster, every worker's, aggregated by the primary (src/cluster/supervisor.ts).
   */
  textSource: () => Promise<string> = () => this.text();

  /** The exposition text of every registry. */
  async text(): Promise<string> {
    const parts = await Promise.all([this.registry, ...this.extraRegistries].map((r) => r.metrics()));
    return parts.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
  }

  /** `GET /metrics`. */
  readonly httpPlugin: HttpPlugin = (app) => {
    app.get("/metrics", async (_request, reply) =>
      reply.type(this.registry.contentType).send(await this.textSource()),
    );
  };

  close(): void {
    for (const c of this.cleanups.splice(0)) c();
  }
}

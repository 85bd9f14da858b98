// Webhook delivery for every carrier with a `cdrWebhook`: one worker each. The signing secrets
// are read once, at start-up, from the environment variables the configuration names
// (config.md: the variable's name, never the secret, is in the file); a missing or empty one is
// a start-up error that names the carrier and the variable, not a delivery that fails later.
import type { Counter, Gauge, Registry } from "prom-client";
import promClient from "prom-client";
import type { CdrLogReader } from "../../calls/cdr-log.js";
import type { CarrierConfig } from "../../config/schema.js";
import type { Clock, RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { DeliveryLoopStatus } from "./delivery-loop-health.js";
import type { DeadLetterStore, DeliveryLease, DeliveryPositionStore } from "./delivery-state.js";
import {
  DEFAULT_WEBHOOK_SETTINGS,
  type WebhookMetrics,
  type WebhookPoster,
  type WebhookSettings,
  WebhookWorker,
} from "./webhook-worker.js";

export interface WebhookDeliveryOptions {
  readonly carriers: readonly CarrierConfig[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: CdrLogReader;
  readonly positions: DeliveryPositionStore;
  /** Several instances on one CDR stream (Redis): one delivers each carrier at a time. */
  readonly lease?: DeliveryLease;
  readonly deadLetters: DeadLetterStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly settings?: Partial<WebhookSettings>;
  readonly poster?: WebhookPoster;
  readonly metrics?: Registry;
}

export interface WebhookDelivery {
  readonly carriers: readonly string[];
  start(): void;
  stop(): Promise<void>;
  /** For /readyz: not ok while a carrier's delivery loop keeps failing, naming the carrier. */
  readiness(): DeliveryLoopStatus;
}

/** Throws (before anything starts) when a carrier's secret variable is missing. */
export function resolveWebhookSecrets(
  carriers: readonly CarrierConfig[],
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const secrets = new Map<string, string>();
  const missing: string[] = [];
  for (const c of carriers) {
    if (c.cdrWebhook === undefined) continue;
    const value = env[c.cdrWebhook.secretEnv];
    if (value === undefined || value === "") {
      missing.push(
        `carriers[id=${c.id}].cdrWebhook.secretEnv: environment variable ${c.cdrWebhook.secretEnv} is not set (it must hold the webhook signing secret)`,
      );
    } else secrets.set(c.id, value);
  }
  if (missing.length > 0) throw new Error(missing.join("; "));
  return secrets;
}

function webhookMetrics(
  registry: Registry,
  deadLetters: DeadLetterStore,
  carrierIds: readonly string[],
): WebhookMetrics {
  const batches: Counter<"carrier" | "outcome"> = new promClient.Counter({
    name: "dialgate_webhook_batches_total",
    help: "Webhook batches by outcome (delivered, retried, dead_lettered)",
    labelNames: ["carrier", "outcome"],
    registers: [registry],
  });
  const records: Counter<"carrier"> = new promClient.Counter({
    name: "dialgate_webhook_records_delivered_total",
    help: "CDRs acknowledged by carrier webhooks",
    labelNames: ["carrier"],
    registers: [registry],
  });
  const letters: Gauge<"carrier"> = new promClient.Gauge({
    name: "dialgate_webhook_dead_letters",
    help: "Batches on the webhook dead-letter list",
    labelNames: ["carrier"],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(carrierIds.map((id) => deadLetters.count(id).catch(() => null)));
      // A store that cannot answer (Redis down) leaves the last value rather than a false zero.
      carrierIds.forEach((id, i) => {
        const n = counts[i];
        if (n !== null && n !== undefined) this.set({ carrier: id }, n);
      });
    },
  });
  void letters;
  const loopErrors: Counter<"carrier"> = new promClient.Counter({
    name: "dialgate_webhook_delivery_errors_total",
    help: "Webhook delivery turns that failed on the CDR log or the delivery state (retried from the saved position after a backoff)",
    labelNames: ["carrier"],
    registers: [registry],
  });
  return {
    delivered: (carrier, n) => {
      batches.inc({ carrier, outcome: "delivered" });
      records.inc({ carrier }, n);
    },
    retried: (carrier) => batches.inc({ carrier, outcome: "retried" }),
    deadLettered: (carrier) => batches.inc({ carrier, outcome: "dead_lettered" }),
    loopFailed: (carrier) => loopErrors.inc({ carrier }),
  };
}

export function createWebhookDelivery(o: WebhookDeliveryOptions): WebhookDelivery {
  const secrets = resolveWebhookSecrets(o.carriers, o.env);
  const settings: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, ...o.settings };
  const ids = [...secrets.keys()];
  const metrics = o.metrics === undefined ? undefined : webhookMetrics(o.metrics, o.deadLetters, ids);
  const workers = o.carriers.flatMap((c) => {
    const secret = secrets.get(c.id);
    if (c.cdrWebhook === undefined || secret === undefined) return [];
    return [
      new WebhookWorker({
        carrierId: c.id,
        url: c.cdrWebhook.url,
        secret,
        log: o.log,
        positions: o.positions,
        ...(o.lease ? { lease: o.lease } : {}),
        deadLetters: o.deadLetters,
        clock: o.clock,
        random: o.random,
        settings,
        logger: o.logger,
        ...(o.poster ? { poster: o.poster } : {}),
        ...(metrics ? { metrics } : {}),
      }),
    ];
  });
  return {
    carriers: ids,
    start: () => {
      for (const w of workers) w.start();
    },
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
    readiness: () => {
      const failing = workers.flatMap((w) => {
        const s = w.status();
        return s.ok ? [] : [`carrier ${w.carrierId}: ${s.detail ?? "failing"}`];
      });
      return failing.length === 0 ? { ok: true } : { ok: false, detail: failing.join("; ") };
    },
  };
}

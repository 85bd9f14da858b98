// Everything issue #13 adds to a running dialgate, opened in one place for the wiring: the
// durations store, webhook delivery state and workers, the cursor key, and the carrier and admin
// HTTP plugins. Embedded state sits beside `cdr.file` (one directory to back up; with Redis the
// durations, dead letters, positions and cursor key are shared there instead):
//
//   var/cdr.jsonl ...                 the CDR journal (src/store/cdr-journal)
//   var/durations.jsonl               carrier durations (append-only)
//   var/webhook-<carrier>.position.json   webhook delivery positions
//   var/webhook-dead-letters.jsonl    dead-lettered webhook batches, with their bodies
//   var/cursor.key                    HMAC key of the paging cursors (so they survive restarts)
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import type { Registry } from "prom-client";
import type { CdrLogReader } from "../../calls/cdr-log.js";
import type { DurationStore } from "../../calls/duration-store.js";
import type { DialgateConfig } from "../../config/schema.js";
import {
  type DeadLetterStore,
  type DeliveryLease,
  type DeliveryPositionStore,
  FileDeadLetterStore,
  FilePositionStore,
} from "../../delivery/webhook/delivery-state.js";
import {
  createWebhookDelivery,
  resolveWebhookSecrets,
  type WebhookDelivery,
} from "../../delivery/webhook/webhook-delivery.js";
import type { WebhookPoster, WebhookSettings } from "../../delivery/webhook/webhook-worker.js";
import { FileDurationStore } from "../../store/durations/file-duration-store.js";
import type { Clock, RandomSource } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { type AdminConfigSource, adminApiPlugin } from "../admin/admin-api.js";
import type { HttpPlugin } from "../http-server.js";
import { carrierApiPlugin } from "./carrier-api.js";
import { loadOrCreateCursorKey } from "./cursor.js";
import { reloadingNumberSource } from "./numbers.js";

export interface CarrierServicesOptions {
  readonly config: DialgateConfig;
  readonly log: CdrLogReader;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Where `cdrWebhook.secretEnv` variables are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly metrics?: Registry;
  readonly webhook?: Partial<WebhookSettings>;
  readonly webhookPoster?: WebhookPoster;
  readonly adminSource?: AdminConfigSource;
  /**
   * Where carriers, tenants and routing objects come from when not the file: with Redis, the
   * shared routing version (`config push`), read per request.
   */
  readonly routingConfig?: () => DialgateConfig;
  /**
   * The key that signs paging cursors when several instances serve one CDR stream (Redis): a
   * cursor one instance issued must page on any other. Default: a key file beside `cdr.file`.
   */
  readonly cursorKey?: Buffer;
  /**
   * Several instances on one CDR stream (Redis): webhook positions shared, and one instance
   * delivering each carrier (src/store/redis/webhook-coordination.ts). Default: a position
   * file beside `cdr.file`, this instance delivering.
   */
  readonly webhookCoordination?: { readonly positions: DeliveryPositionStore; readonly lease: DeliveryLease };
  /**
   * Durations and dead letters shared by several instances (Redis). Default: `durations.jsonl`
   * and `webhook-dead-letters.jsonl` beside `cdr.file`.
   */
  readonly carrierStores?: { readonly durations: DurationStore; readonly deadLetters: DeadLetterStore };
}

export interface CarrierServices {
  readonly plugins: readonly HttpPlugin[];
  readonly webhooks: WebhookDelivery;
  /** Why the state beside `cdr.file` could not be opened (for /readyz), or null. */
  readonly problem: string | null;
  /**
   * Follows a live reload: carrier keys and numbers, and what the admin API shows, change at
   * once; webhook URLs and secrets (and the admin token: `http`) on the next start.
   */
  reload(next: DialgateConfig): void;
  /** Starts webhook delivery (after the HTTP server is up). */
  start(): void;
  /** Stops delivery (in-flight batches are resent after a restart) and closes the stores. */
  close(): Promise<void>;
}

export async function openCarrierServices(o: CarrierServicesOptions): Promise<CarrierServices> {
  // Checked before any file is opened: a missing secret is a start-up error, nothing half-open.
  // (Webhooks are set up from the carriers known at start; a change needs a restart.)
  const startCarriers = (o.routingConfig?.() ?? o.config).carriers;
  resolveWebhookSecrets(startCarriers, o.env);
  let fileConfig = o.config;
  const currentOf = o.routingConfig ?? (() => fileConfig);
  const dir = dirname(o.config.cdr.file);
  // Like the CDR journal, never fatal: calls keep routing when this directory is unusable, the
  // carrier API answers 503 where it needs the files, and /readyz names the problem.
  let problem: string | null = null;
  const note = (what: string, err: unknown) => {
    const message = `${what}: ${(err as Error).message}`;
    problem = problem === null ? message : `${problem}; ${message}`;
    o.logger.error({ err: message, dir }, "carrier API state is unavailable");
  };
  let durations: DurationStore;
  let deadLetters: DeadLetterStore | null = null;
  if (o.carrierStores !== undefined) {
    ({ durations, deadLetters } = o.carrierStores);
  } else {
    try {
      durations = await FileDurationStore.open(join(dir, "durations.jsonl"), o.logger);
    } catch (err) {
      note("durations", err);
      durations = unavailableDurations(problem ?? "");
    }
    try {
      deadLetters = await FileDeadLetterStore.open(dir, o.logger);
    } catch (err) {
      note("webhook dead letters", err);
    }
  }
  let cursorKey: Buffer;
  try {
    cursorKey = o.cursorKey ?? (await loadOrCreateCursorKey(join(dir, "cursor.key")));
  } catch (err) {
    // Cursors then last only as long as this process.
    note("cursor key", err);
    cursorKey = randomBytes(32);
  }
  const letters: DeadLetterStore = deadLetters ?? unavailableDeadLetters(problem ?? "");
  const webhooks = createWebhookDelivery({
    // Without a durable delivery position and dead-letter list, delivery would not be
    // at-least-once: it waits until the directory is fixed (and dialgate restarted).
    carriers: deadLetters === null ? [] : startCarriers,
    env: o.env,
    log: o.log,
    positions: o.webhookCoordination?.positions ?? new FilePositionStore(dir),
    ...(o.webhookCoordination ? { lease: o.webhookCoordination.lease } : {}),
    deadLetters: letters,
    clock: o.clock,
    random: o.random,
    logger: o.logger,
    ...(o.webhook ? { settings: o.webhook } : {}),
    ...(o.webhookPoster ? { poster: o.webhookPoster } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  const plugins: HttpPlugin[] = [
    carrierApiPlugin({
      carriers: () => currentOf().carriers,
      log: o.log,
      durations,
      numbers: reloadingNumberSource(
        () => currentOf(),
        () => o.clock.now(),
      ),
      deadLetters: letters,
      cursorKey,
      clock: o.clock,
      logger: o.logger,
      rateLimit: { max: o.config.http.carrierRequestsPerMinute, timeWindowMs: 60_000 },
    }),
    adminApiPlugin({
      adminToken: o.config.http.adminToken,
      source: o.adminSource ?? { current: currentOf },
    }),
  ];
  return {
    plugins,
    webhooks,
    problem,
    reload: (next) => {
      fileConfig = next;
    },
    start: () => webhooks.start(),
    close: async () => {
      await webhooks.stop();
      await durations.close();
      await deadLetters?.close();
    },
  };
}

function unavailableDurations(problem: string): DurationStore {
  const fail = () => Promise.reject(new Error(`the durations store is unavailable: ${problem}`));
  return { put: fail, inRange: fail, close: () => Promise.resolve() };
}

function unavailableDeadLetters(problem: string): DeadLetterStore {
  return {
    add: () => Promise.reject(new Error(`the dead-letter list is unavailable: ${problem}`)),
    list: async () => [],
    count: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}

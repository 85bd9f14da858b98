// `npm run bench:state`: effective dial plan lookups against the Redis store (issues #14, #17),
// on a real redis-server the bench starts on a free loopback port and stops at the end.
//
// The routing objects (bench/state/routing-config.ts: the example configuration grown to
// BENCH_USERS users) are pushed with the code `dialgate config push` runs (routingDocumentOf +
// writeRouting); the instance side is built the way SharedRouting builds a version (readActive,
// mergeRoutingDocument, createDialPlanEngine) with the effective plan cache and its Redis
// write-behind wired as shared-state.ts wires them. Cases, each a lookup of a user's effective
// plan followed by the normalization a call makes (the router's dial plan port):
//   warm                the compiled plan in the LRU (the hot path of every call), also
//                       without the normalization (the lookup alone)
//   cold, in process    the user evicted before each lookup (what a version switch does to the
//                       users it touches): rebuilt from the routing version in memory, the merged
//                       plan written behind to Redis -- the miss path of the code as it is
//   cold, from Redis    the merged plan fetched from Redis (HGET of the hash the write-behind
//                       fills), parsed and compiled (every rule's regex), 1 and 32 in flight
//   version load        a whole routing version read from Redis, validated and compiled
// Throughput and p50/p99 per lookup. Options: BENCH_USERS=1000 BENCH_SECONDS=3 (per case).

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { type DialgateConfig, dialgateConfigSchema, redisSchema } from "../src/config/schema.js";
import {
  createDialPlanEngine,
  type DialPlanEngine,
  type EffectiveDialPlan,
  type EffectiveDialPlanName,
  normalizeDialled,
} from "../src/dialplan/index.js";
import { type CompiledRule, compileRule } from "../src/dialplan/rule.js";
import { EffectiveDialPlanCache, effectivePlanToJson } from "../src/store/effective-plan-cache.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../src/store/redis/connection.js";
import { RedisKeys } from "../src/store/redis/keys.js";
import { RedisRoutingStore } from "../src/store/redis/routing-store.js";
import { writeRouting } from "../src/store/redis/routing-writer.js";
import { mergeRoutingDocument, routingDocumentOf } from "../src/store/routing-document.js";
import { benchRoutingConfig, userIds } from "./state/routing-config.js";
import { BenchRedisServer } from "./support/redis-server.js";

const repo = new URL("../..", import.meta.url).pathname;
const USERS = Number(process.env.BENCH_USERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MAX_SAMPLES = 1_000_000;
// What users dial: an extension, a 7-digit local number, a national number, an international one.
const DIALLED = ["50100", "5550123", "4255550123", "011442071234567"] as const;

interface CaseResult {
  readonly label: string;
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50us: number;
  readonly p99us: number;
}

/** Latency samples (µs), at most MAX_SAMPLES. */
class Samples {
  private readonly values = new Float64Array(MAX_SAMPLES);
  private n = 0;

  add(us: number): void {
    if (this.n < MAX_SAMPLES) this.values[this.n++] = us;
  }

  percentile(p: number): number {
    const sorted = this.values.subarray(0, this.n).slice().sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  }
}

/** µs below 10 ms, else ms. */
const time = (us: number) =>
  (us < 10_000 ? `${us.toFixed(2)} µs` : `${(us / 1000).toFixed(1)} ms`).padStart(10);

const nowUs = () => Number(process.hrtime.bigint()) / 1000;

function result(label: string, operations: number, seconds: number, samples: Samples): CaseResult {
  const r = {
    label,
    operations,
    seconds,
    perSecond: Math.round(operations / seconds),
    p50us: samples.percentile(0.5),
    p99us: samples.percentile(0.99),
  };
  console.log(
    `${label.padEnd(64)} ${r.perSecond.toLocaleString("en-US").padStart(10)}/s   p50 ${time(r.p50us)}   p99 ${time(r.p99us)}`,
  );
  return r;
}

/**
 * A synchronous operation: throughput from an untimed loop, p50/p99 from a second loop that
 * times each call (the timer's own cost, tens of ns, is in those).
 */
function measureSync(label: string, op: (i: number) => void): CaseResult {
  for (let i = 0; i < 20_000; i++) op(i); // warm-up (JIT)
  let i = 0;
  const t0 = nowUs();
  let elapsed = 0;
  while (elapsed < SECONDS * 1e6) {
    for (let k = 0; k < 1024; k++) op(i++);
    elapsed = nowUs() - t0;
  }
  const samples = new Samples();
  for (let k = 0; k < 200_000; k++) {
    const s = nowUs();
    op(k);
    samples.add(nowUs() - s);
  }
  return result(label, i, elapsed / 1e6, samples);
}

/**
 * A synchronous operation that also queues Redis commands (the write-behind): timed one by one,
 * with a round trip to Redis every `batch` operations so the queued commands are sent and
 * answered inside the measured time (throughput = operations / wall time, p50/p99 per call).
 */
async function measureWithFlush(
  label: string,
  op: (i: number) => void,
  flush: () => Promise<unknown>,
  batch = 256,
): Promise<CaseResult> {
  for (let k = 0; k < 20_000; k++) {
    op(k);
    if (k % batch === 0) await flush();
  }
  await flush();
  const samples = new Samples();
  let i = 0;
  const t0 = nowUs();
  while (nowUs() - t0 < SECONDS * 1e6) {
    for (let k = 0; k < batch; k++) {
      const s = nowUs();
      op(i++);
      samples.add(nowUs() - s);
    }
    await flush();
  }
  return result(label, i, (nowUs() - t0) / 1e6, samples);
}

/** An asynchronous operation, `concurrency` loops at once, each call timed. */
async function measureAsync(
  label: string,
  op: (i: number) => Promise<void>,
  concurrency: number,
  warmUp = 2_000,
): Promise<CaseResult> {
  for (let k = 0; k < warmUp; k++) await op(k);
  const samples = new Samples();
  let next = 0;
  const t0 = nowUs();
  const end = t0 + SECONDS * 1e6;
  const loop = async () => {
    while (nowUs() < end) {
      const i = next++;
      const s = nowUs();
      await op(i);
      samples.add(nowUs() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return result(label, next, (nowUs() - t0) / 1e6, samples);
}

interface StoredRule {
  readonly name: string;
  readonly pattern: string;
  readonly translation: string;
  readonly isInternalExtension: boolean;
  readonly plan: string;
  readonly description?: string;
}

interface StoredPlan {
  readonly name: EffectiveDialPlanName;
  readonly tenantId: string;
  readonly tenantDialPlan: string | null;
  readonly serviceCountry: string;
  readonly serviceCountryPlan: string | null;
  readonly countryCallingCode: string | null;
  readonly externalAccessPrefix: string | null;
  readonly rules: readonly StoredRule[];
}

/**
 * The merged plan as Redis holds it (effectivePlanToJson) compiled back into an
 * EffectiveDialPlan: every rule's pattern and translation compiled again. dialgate has no
 * reader of this hash (calls never wait on Redis for a plan); this is what one would do.
 */
function compileStoredPlan(json: string): EffectiveDialPlan {
  const stored = JSON.parse(json) as StoredPlan;
  const rules: CompiledRule[] = stored.rules.map((r) => {
    const c = compileRule(r, r.plan);
    if (!c.ok) throw new Error(`stored rule ${r.plan}/${r.name} does not compile: ${c.error.message}`);
    return c.value;
  });
  return { ...stored, rules };
}

function instanceConfig(url: string): DialgateConfig {
  return dialgateConfigSchema.parse({
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
    redis: { url },
  });
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const load = loadavg().map((l) => l.toFixed(2));
  console.log(
    `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ` +
      `load average ${load.join(", ")}`,
  );
  const routing = benchRoutingConfig(repo, USERS);
  const users = userIds(routing);
  const redis = await BenchRedisServer.start();
  let client: RedisClient | null = null;
  try {
    const instance = instanceConfig(redis.url);
    const settings = redisSchema.parse({ url: redis.url });
    client = createRedisClient({ settings });
    const c = client;
    await waitForRedisReady(c, 10_000, redis.url);
    const store = new RedisRoutingStore(c, new RedisKeys(settings.keyPrefix));
    const figures: Record<string, unknown> = {};

    // The push (what `dialgate config push` does after loading the file).
    const pushStart = nowUs();
    const document = routingDocumentOf(routing);
    const pushed = await writeRouting(store, () => ({ ok: true, document }));
    if (!pushed.ok || pushed.version === null) throw new Error(`push failed: ${JSON.stringify(pushed)}`);
    const pushMs = (nowUs() - pushStart) / 1000;
    const tenants = routing.tenants.length;
    const documentKiB = Math.round(JSON.stringify(document).length / 1024);
    console.log(
      `routing objects: ${tenants} tenants, ${users.length} users, ${documentKiB} KiB of JSON; ` +
        `push (validate, diff, switch, announce): ${pushMs.toFixed(1)} ms`,
    );
    figures.routing = { tenants, users: users.length, documentKiB, pushMs };

    // An instance loading the active version, as SharedRouting.build does.
    const loadVersion = async (): Promise<{ version: number; engine: DialPlanEngine }> => {
      const active = await store.readActive();
      if (active === null) throw new Error("nothing pushed");
      const merged = mergeRoutingDocument(instance, active.document);
      if (!merged.ok) throw new Error(`version invalid: ${JSON.stringify(merged.problems.slice(0, 3))}`);
      return { version: active.version, engine: createDialPlanEngine(merged.config) };
    };
    const { version, engine } = await loadVersion();
    // The cache and its write-behind, wired as shared-state.ts wires them.
    let writeBehindFailures = 0;
    const cache = new EffectiveDialPlanCache(settings.effectivePlanCacheSize, (userId, plan) => {
      void store.putEffectivePlan(version, userId, effectivePlanToJson(plan)).catch(() => {
        writeBehindFailures++;
      });
    });
    const dialPlan = cache.dialPlanFor(engine);
    const lookup = (i: number) => {
      const user = users[i % users.length] as string;
      const r = dialPlan.normalize(user, DIALLED[i % DIALLED.length] as string);
      if (!r.ok && r.error.startsWith("unknown user")) throw new Error(r.error);
    };

    // Every user once: fills the LRU and, through the write-behind, the hash in Redis.
    for (let i = 0; i < users.length; i++) lookup(i);
    await c.ping();
    const stored = await c.hlen(store.keys.effectivePlans);
    if (stored !== users.length) throw new Error(`write-behind stored ${stored} of ${users.length} plans`);
    // The plans compiled back from Redis normalize exactly as the ones built in process.
    for (let i = 0; i < users.length; i++) {
      const user = users[i] as string;
      const json = await store.getEffectivePlan(user);
      const fromRedis = compileStoredPlan(json ?? "null");
      const inProcess = engine.effectivePlan(user);
      if (inProcess === undefined) throw new Error(`no plan for ${user}`);
      for (const d of DIALLED) {
        const a = JSON.stringify(normalizeDialled(fromRedis, d));
        const b = JSON.stringify(normalizeDialled(inProcess, d));
        if (a !== b) throw new Error(`${user}, ${d}: from Redis ${a}, in process ${b}`);
      }
    }
    const rulesPerPlan = users.map((u) => engine.effectivePlan(u)?.rules.length ?? 0);
    const meanRules = rulesPerPlan.reduce((a, b) => a + b, 0) / rulesPerPlan.length;
    console.log(
      `effective plans: ${stored} in Redis after one lookup each, ${meanRules.toFixed(1)} rules on average ` +
        `(${Math.min(...rulesPerPlan)}-${Math.max(...rulesPerPlan)})\n`,
    );
    figures.effectivePlans = { stored, meanRules };

    const cases: CaseResult[] = [];
    const build = (id: string) => engine.effectivePlan(id);
    cases.push(
      measureSync("warm: plan in the LRU (lookup only)", (i) => {
        if (cache.get(users[i % users.length] as string, build) === undefined) throw new Error("no plan");
      }),
    );
    cases.push(measureSync("warm: plan in the LRU + normalize", lookup));
    cases.push(
      await measureWithFlush(
        "cold, in process: evicted, rebuilt, written behind + normalize",
        (i) => {
          cache.invalidate([users[i % users.length] as string]);
          lookup(i);
        },
        () => c.ping(),
      ),
    );
    const fromRedis = async (i: number) => {
      const json = await store.getEffectivePlan(users[i % users.length] as string);
      if (json === null) throw new Error("plan missing in Redis");
      normalizeDialled(compileStoredPlan(json), DIALLED[i % DIALLED.length] as string);
    };
    cases.push(await measureAsync("cold, from Redis: HGET + parse + compile + normalize", fromRedis, 1));
    cases.push(await measureAsync("cold, from Redis, 32 lookups in flight", fromRedis, 32));
    cases.push(
      await measureAsync(
        `version load: GET + validate + compile (${users.length} users)`,
        async () => {
          await loadVersion();
        },
        1,
        5,
      ),
    );
    if (writeBehindFailures > 0) console.log(`(${writeBehindFailures} write-behind commands failed)`);
    const s = cache.stats;
    console.log(
      `\ncache: ${s.size} entries, ${s.hits} hits, ${s.misses} misses, ${s.invalidations} invalidations`,
    );

    const out = {
      date: new Date().toISOString(),
      machine: { cpu, cores: cpus().length, loadAverage: loadavg() },
      settings: { users: USERS, secondsPerCase: SECONDS },
      ...figures,
      cases,
    };
    mkdirSync(join(repo, "bench", "results"), { recursive: true });
    writeFileSync(join(repo, "bench", "results", "state.json"), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    client?.disconnect();
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:state failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});

// The Redis Stream CDR log against real redis-server (and a real Cluster for the key layout):
// two instances append to one stream and read each other's records, a replayed entry is not
// appended twice, and with Redis killed CDRs spool to each instance's journal and reach the
// stream once Redis is back -- all present, each once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CdrLogEntry } from "../../src/calls/call-record.js";
import { redisSchema } from "../../src/config/schema.js";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { RedisCdrStream } from "../../src/store/redis/cdr-stream.js";
import {
  createRedisClient,
  isRedisReady,
  type RedisClient,
  waitForRedisReady,
} from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { silentLogger } from "../../src/util/logger.js";
import { waitFor } from "../support/free-port.js";
import { RedisClusterProcess, RedisServerProcess } from "../support/redis-server.js";
import { amendmentEntry, cdrEntry, makeRecord, quality } from "./support/cdr-fixtures.js";

interface Instance {
  readonly client: RedisClient;
  readonly log: RedisCdrStream;
  readonly dir: string;
  close(): Promise<void>;
}

async function openInstance(
  settings: unknown,
  dir = mkdtempSync(join(tmpdir(), "dialgate-cdr-stream-")),
  options: { readonly commitIntervalMs?: number; readonly replayIntervalMs?: number } = {},
): Promise<Instance> {
  const client = createRedisClient({ settings: redisSchema.parse(settings) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 10_000, "test redis");
  const spool = await openCdrJournal({
    file: join(dir, "cdr.jsonl"),
    ...(options.commitIntervalMs === undefined ? {} : { commitIntervalMs: options.commitIntervalMs }),
  });
  const log = await RedisCdrStream.open({
    client,
    keys: new RedisKeys("dialgate"),
    spool,
    replayCursorFile: join(dir, "cdr.jsonl.redis-replayed"),
    retentionMs: 30 * 24 * 3_600_000,
    now: () => Date.now(),
    logger: silentLogger(),
    replayIntervalMs: options.replayIntervalMs ?? 100,
  });
  return {
    client,
    log,
    dir,
    async close() {
      await log.close();
      await spool.close();
      client.disconnect();
    },
  };
}

async function allIds(log: RedisCdrStream): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await log.readAfter(after, 7);
    if (page.length === 0) return ids;
    for (const c of page) if (c.entry.kind === "cdr") ids.push(c.entry.record.id);
    after = page[page.length - 1]?.position ?? after;
  }
}

describe("Redis Stream CDR log (standalone)", () => {
  let redis: RedisServerProcess;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    redis = await RedisServerProcess.start({ persistent: true });
    a = await openInstance({ url: redis.url });
    b = await openInstance({ url: redis.url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.cleanup();
  });

  it("shows each instance's records through the other, in commit order, paged by position", async () => {
    for (let i = 0; i < 5; i++) {
      await a.log.append(cdrEntry(`a-${i}`));
      await b.log.append(cdrEntry(`b-${i}`));
    }
    const ids = await allIds(b.log);
    expect(ids).toEqual(["a-0", "b-0", "a-1", "b-1", "a-2", "b-2", "a-3", "b-3", "a-4", "b-4"]);
    const first = await a.log.readAfter(null, 3);
    expect(first.every((c) => a.log.isValidPosition(c.position))).toBe(true);
    const next = await a.log.readAfter(first[2]?.position ?? null, 2);
    expect(next.map((c) => (c.entry.kind === "cdr" ? c.entry.record.id : ""))).toEqual(["b-1", "a-2"]);
    expect(a.log.isValidPosition("forged")).toBe(false);
  });

  it("does not append the same CDR twice (its id is the idempotency key)", async () => {
    const first = await a.log.append(cdrEntry("dup-1"));
    const again = await b.log.append(cdrEntry("dup-1"));
    expect(again).toBe(first);
    expect((await allIds(a.log)).filter((id) => id === "dup-1")).toHaveLength(1);
  });

  it("appends the CDRs of one event-loop turn in one script call, each once, in order", async () => {
    const evals = async () =>
      Number(/cmdstat_eval:calls=(\d+)/.exec(await a.client.info("commandstats"))?.[1] ?? 0);
    const before = await evals();
    const names = Array.from({ length: 20 }, (_, i) => `turn-${i}`);
    // One already in the stream: the batch returns its first position instead of a copy.
    const earlier = await a.log.append(cdrEntry("turn-5"));
    const positions = await Promise.all(names.map((n) => a.log.append(cdrEntry(n))));
    expect((await evals()) - before).toBe(2);
    expect(positions[5]).toBe(earlier);
    const fresh = positions.filter((_, i) => i !== 5);
    expect([...fresh].sort(compareIds)).toEqual(fresh);
    const ids = (await allIds(b.log)).filter((id) => id.startsWith("turn-"));
    expect(ids).toEqual(["turn-5", ...names.filter((n) => n !== "turn-5")]);
  });
  it("merges quality amendments into findById", async () => {
    const record = makeRecord("q-1");
    await a.log.append({ kind: "cdr", record });
    await b.log.append(amendmentEntry(record, quality("caller-phone", 4.1)));
    const found = await a.log.findById("q-1");
    expect(found?.quality?.caller?.mosLq).toBe(4.1);
    expect(await a.log.findById("no-such-id")).toBeNull();
  });

  it("delivers through a consumer group, acknowledged entries not again", async () => {
    const batch = await a.log.readGroup("webhook-fabrikam", "worker-1", 1000);
    expect(batch.length).toBeGreaterThan(0);
    // Not acknowledged yet: the same consumer gets them again (at-least-once).
    const again = await a.log.readGroup("webhook-fabrikam", "worker-1", 1000);
    expect(again.map((c) => c.position)).toEqual(batch.map((c) => c.position));
    await a.log.ack(
      "webhook-fabrikam",
      batch.map((c) => c.position),
    );
    await b.log.append(cdrEntry("after-ack"));
    const rest = await a.log.readGroup("webhook-fabrikam", "worker-1", 1000);
    expect(rest.map((c) => (c.entry.kind === "cdr" ? c.entry.record.id : ""))).toEqual(["after-ack"]);
  });

  it("spools to the journal while Redis is down and replays every CDR once when it returns", async () => {
    const before = (await allIds(a.log)).length;
    await redis.stop();
    await waitFor(
      () => !isRedisReady(a.client) && !isRedisReady(b.client),
      20_000,
      "clients to see the outage",
    );
    const positions: string[] = [];
    for (let i = 0; i < 5; i++) {
      positions.push(await a.log.append(cdrEntry(`down-a-${i}`)));
      positions.push(await b.log.append(cdrEntry(`down-b-${i}`)));
    }
    expect(positions.every((p) => p.startsWith("spool:"))).toBe(true);
    expect(a.log.spooled).toBe(5);
    expect(a.log.health().writable).toBe(true);
    await redis.start();
    await waitFor(() => a.log.spooled === 0 && b.log.spooled === 0, 30_000, "the spools to be replayed");
    const ids = await allIds(a.log);
    expect(ids).toHaveLength(before + 10);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 0; i < 5; i++) expect(ids).toContain(`down-a-${i}`);
    // Spooled order is kept per instance.
    const mine = ids.filter((id) => id.startsWith("down-a-"));
    expect(mine).toEqual(["down-a-0", "down-a-1", "down-a-2", "down-a-3", "down-a-4"]);
  });

  it("replays a spool again after losing its cursor without duplicating anything", async () => {
    const count = (await allIds(a.log)).length;
    const dir = a.dir;
    await a.close();
    rmSync(join(dir, "cdr.jsonl.redis-replayed"));
    a = await openInstance({ url: redis.url }, dir);
    expect(a.log.spooled).toBe(5);
    await waitFor(() => a.log.spooled === 0, 30_000, "the replay");
    expect(await allIds(a.log)).toHaveLength(count);
  });

  it("replays while a spooled append is still committing: waits for it instead of spinning", async () => {
    // Commits spaced 5 s apart: the second spooled append is still waiting for its commit when
    // the replay has copied the first and finds nothing more to read. The replay used to read
    // again at once, forever, on promise callbacks alone: the commit's I/O never ran and the
    // process hung at 100% CPU (a Redis outage under load, test/store/redis-outage.test.ts).
    const c = await openInstance({ url: redis.url }, undefined, {
      commitIntervalMs: 5_000,
      replayIntervalMs: 3_600_000,
    });
    try {
      await redis.stop();
      await waitFor(() => !isRedisReady(c.client), 20_000, "the client to see the outage");
      await c.log.append(cdrEntry("inflight-1"));
      await redis.start();
      await waitFor(() => isRedisReady(c.client), 20_000, "the client to reconnect");
      let secondDone = false;
      const second = c.log.append(cdrEntry("inflight-2")).then((p) => {
        secondDone = true;
        return p;
      });
      expect(c.log.spooled).toBe(1);
      // Still not durable after a commit's usual time: the spacing holds it, so the replay below
      // meets an append in flight (the case under test), not one already committed.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(secondDone).toBe(false);
      await c.log.replay();
      expect(secondDone).toBe(true);
      expect((await second).startsWith("spool:")).toBe(true);
      expect(c.log.spooled).toBe(0);
      const ids = await allIds(c.log);
      expect(ids.filter((id) => id.startsWith("inflight-"))).toEqual(["inflight-1", "inflight-2"]);
    } finally {
      await c.close();
    }
  });
});

describe("Redis Stream CDR log (cluster)", () => {
  let cluster: RedisClusterProcess;
  let a: Instance;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start();
    a = await openInstance({ url: cluster.urls[0], cluster: true, clusterNodes: cluster.urls.slice(1) });
  });
  afterAll(async () => {
    await a?.close();
    await cluster?.cleanup();
  });

  it("appends, amends and reads with every key of a command in one slot", async () => {
    const record = makeRecord("c-1");
    await a.log.append({ kind: "cdr", record });
    await a.log.append(amendmentEntry(record, quality("caller-phone", 3.9)));
    await a.log.append(cdrEntry("c-2"));
    expect(await allIds(a.log)).toEqual(["c-1", "c-2"]);
    expect((await a.log.findById("c-1"))?.quality?.caller?.mosLq).toBe(3.9);
    const entry: CdrLogEntry = cdrEntry("c-1");
    expect(await a.log.append(entry)).toBe((await a.log.readAfter(null, 1))[0]?.position);
  });
});

describe("Redis Stream CDR log retention", () => {
  let redis: RedisServerProcess;
  let client: RedisClient;
  let log: RedisCdrStream;
  let spool: Awaited<ReturnType<typeof openCdrJournal>>;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
    await waitForRedisReady(client, 10_000, "test redis");
    const dir = mkdtempSync(join(tmpdir(), "dialgate-cdr-retention-"));
    spool = await openCdrJournal({ file: join(dir, "cdr.jsonl") });
    log = await RedisCdrStream.open({
      client,
      keys: new RedisKeys("dialgate"),
      spool,
      replayCursorFile: join(dir, "cdr.jsonl.redis-replayed"),
      retentionMs: 2_000,
      now: () => Date.now(),
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await log?.close();
    await spool?.close();
    client?.disconnect();
    await redis?.cleanup();
  });

  it("trims records older than the retention (by age, in whole stream nodes) and their index", async () => {
    for (let i = 0; i < 30; i++) await log.append(cdrEntry(`old-${i}`));
    expect(await allIds(log)).toHaveLength(30);
    await new Promise((r) => setTimeout(r, 2_500));
    await log.append(cdrEntry("new-0"));
    const ids = await allIds(log);
    expect(ids).toContain("new-0");
    // MINID ~ drops every stream node wholly past the horizon; only the node the new record
    // shares with the last old ones may keep a few (a node holds 4 KB of entries: 2-3 CDRs).
    expect(ids.filter((id) => id.startsWith("old-")).length).toBeLessThan(10);
    expect(await log.findById("old-0")).toBeNull();
    expect(await client.hlen(new RedisKeys("dialgate").cdrIndex)).toBeLessThanOrEqual(5);
  });
});

/** Stream ids in numeric order (`<ms>-<seq>`). */
function compareIds(x: string, y: string): number {
  const [xm = 0, xs = 0] = x.split("-").map(Number);
  const [ym = 0, ys = 0] = y.split("-").map(Number);
  return xm - ym || xs - ys;
}

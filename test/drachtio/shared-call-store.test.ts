// drachtio-server's CDR events kept by Call-ID in Redis (src/store/redis/drachtio-call-store.ts),
// for several dialgate instances behind one drachtio-server: drachtio-server hands each CDR
// event to one connected application, round-robin, so the instance that bridges a call only
// learns how it ended through the shared store. Real redis-server (and a real three-master
// Cluster for the key layout), real drachtio-server, two drachtio edges, SIPp.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallEventBus } from "../../src/calls/events.js";
import { validateConfig } from "../../src/config/load.js";
import { redisSchema } from "../../src/config/schema.js";
import type {
  DrachtioCallRecord,
  DrachtioCallStore,
  DrachtioCallUpdate,
} from "../../src/sip/drachtio/call-store.js";
import { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisDrachtioCallStore } from "../../src/store/redis/drachtio-call-store.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { ALICE, HOST } from "../support/cdr-e2e.js";
import { uacScenario } from "../support/cdr-scenarios.js";
import { DrachtioServer } from "../support/drachtio-server.js";
import { freeUdpPort, waitFor } from "../support/free-port.js";
import { RedisClusterProcess, RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

async function connect(settings: unknown): Promise<RedisClient> {
  const client = createRedisClient({ settings: redisSchema.parse(settings) });
  client.on("error", () => undefined);
  await waitForRedisReady(client, 15_000, "test redis");
  return client;
}

/** The store contract, seen from two instances (two connections). */
function storeCases(open: () => Promise<[RedisDrachtioCallStore, RedisDrachtioCallStore]>) {
  it("merges the events written by one instance into what another reads; the sweep's queries", async () => {
    const [a, b] = await open();
    const t = 1_800_000_000_000;
    await a.update("one@test", { attemptAt: t }, t);
    await b.update("one@test", { startAt: t + 1_000 }, t + 1_000);
    await a.update("one@test", { stopAt: t + 9_000, stopReason: "normal-release:network" }, t + 9_000);
    expect(await b.get("one@test")).toEqual({
      callId: "one@test",
      attemptAt: t,
      startAt: t + 1_000,
      stopAt: t + 9_000,
      stopReason: "normal-release:network",
      updatedAt: t + 9_000,
    });
    await b.update("two@test", { attemptAt: t + 500 }, t + 500);
    expect((await a.idleSince(t + 5_000)).map((r) => r.callId)).toEqual(["two@test"]);
    expect((await a.idleSince(t + 10_000)).map((r) => r.callId).sort()).toEqual(["one@test", "two@test"]);
    await b.delete("two@test");
    expect(await a.get("two@test")).toBeUndefined();
    expect((await a.idleSince(t + 10_000)).map((r) => r.callId)).toEqual(["one@test"]);
    await a.delete("one@test");
  });
}

describe("the Redis drachtio call store (standalone)", () => {
  let redis: RedisServerProcess;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    redis = await RedisServerProcess.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.cleanup();
  });
  storeCases(async () => {
    const keys = new RedisKeys("dialgate");
    const [x, y] = [await connect({ url: redis.url }), await connect({ url: redis.url })];
    clients.push(x, y);
    return [new RedisDrachtioCallStore(x, keys), new RedisDrachtioCallStore(y, keys)];
  });
});

describe("the Redis drachtio call store (cluster)", () => {
  let cluster: RedisClusterProcess;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    cluster = await RedisClusterProcess.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.cleanup();
  });
  // Every command and script of the store stays in the `{<prefix>:drachtio}` slot.
  storeCases(async () => {
    const settings = { url: cluster.urls[0], cluster: true, clusterNodes: cluster.urls.slice(1) };
    const keys = new RedisKeys("dialgate");
    const [x, y] = [await connect(settings), await connect(settings)];
    clients.push(x, y);
    return [new RedisDrachtioCallStore(x, keys), new RedisDrachtioCallStore(y, keys)];
  });
});

/** The shared store, noting which Call-IDs this instance received CDR events for. */
class NotingStore implements DrachtioCallStore {
  readonly written = new Set<string>();
  constructor(private readonly inner: DrachtioCallStore) {}
  update(callId: string, update: DrachtioCallUpdate, now: number): Promise<void> {
    this.written.add(callId);
    return this.inner.update(callId, update, now);
  }
  get(callId: string): Promise<DrachtioCallRecord | undefined> {
    return this.inner.get(callId);
  }
  idleSince(cutoff: number): Promise<readonly DrachtioCallRecord[]> {
    return this.inner.idleSince(cutoff);
  }
  delete(callId: string): Promise<void> {
    return this.inner.delete(callId);
  }
}

describe("two dialgate instances behind one drachtio-server", () => {
  let redis: RedisServerProcess;
  let server: DrachtioServer;
  const clients: RedisClient[] = [];
  const edges: { edge: DrachtioEdge; store: NotingStore; owned: Set<string> }[] = [];
  let gatewayPort: number;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    server = await DrachtioServer.start();
    gatewayPort = await freeUdpPort();
    const r = validateConfig({
      sip: {
        edge: "drachtio",
        listen: [
          { transport: "udp", host: HOST, port: server.sipPort },
          { transport: "tcp", host: HOST, port: server.sipPort },
        ],
        recordRouteHost: HOST,
        drachtio: server.connection,
      },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const router = new TestRouter(() => forward(serialSteps([loopbackTarget(gatewayPort)])));
    for (let i = 0; i < 2; i++) {
      const client = await connect({ url: redis.url });
      clients.push(client);
      const store = new NotingStore(new RedisDrachtioCallStore(client, new RedisKeys("dialgate")));
      const events = new CallEventBus();
      const owned = new Set<string>();
      events.subscribe((e) => {
        if (e.type === "received") owned.add(e.callId);
      });
      const drachtio = r.config.sip.drachtio;
      if (drachtio === undefined) throw new Error("no sip.drachtio");
      const edge = new DrachtioEdge({ settings: r.config.sip, drachtio, router, events, callStore: store });
      await edge.start();
      edges.push({ edge, store, owned });
    }
  });

  afterAll(async () => {
    await killAllSipp();
    for (const e of edges) await e.edge.stop();
    for (const c of clients) c.disconnect();
    await server?.stop();
    await redis?.cleanup();
  });

  it("lets the instance that bridges a call see the end drachtio-server reported to the other", async () => {
    const calls = 6;
    const gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort, calls });
    const uac = await SippProcess.start({
      scenario: uacScenario({ mode: "caller-hangs-up", from: ALICE }),
      remote: { host: HOST, port: server.sipPort },
      service: "+14255550123",
      calls,
      rate: 5,
      pauseMs: 200,
    });
    const result = await uac.wait();
    await gateway.wait();
    expect(result.exitCode, result.errors).toBe(0);
    const callIds = [
      ...new Set(
        result.messages
          .filter((m) => m.direction === "sent" && m.method === "INVITE")
          .map((m) => m.header("Call-ID")[0] ?? ""),
      ),
    ];
    expect(callIds).toHaveLength(calls);

    // Every instance, for every call it bridged, finds drachtio-server's stop in the store.
    await waitFor(
      async () => {
        for (const { edge, owned } of edges) {
          await edge.cdr.settled();
          for (const id of owned) if ((await edge.callStore.get(id))?.stopAt == null) return false;
        }
        return true;
      },
      20_000,
      "every bridged call's stop in the shared store",
    );
    const [a, b] = edges;
    if (a === undefined || b === undefined) throw new Error("two edges");
    expect(a.owned.size + b.owned.size).toBe(calls);
    // The case the store is for happened: CDR events of a call went to the instance that did
    // not bridge it (with a store per process, that instance's record would stay incomplete).
    const crossed = callIds.filter(
      (id) => (a.owned.has(id) && b.store.written.has(id)) || (b.owned.has(id) && a.store.written.has(id)),
    );
    expect(crossed.length).toBeGreaterThan(0);
  });
});

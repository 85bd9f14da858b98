// The `redis` section's connection options against real servers: a password from the
// environment (`passwordEnv`) or the URL, TLS (`rediss://`, `tls.caFile`) to a redis-server with
// a TLS port and a throwaway CA, and Sentinel (`sentinel.masterName`, `sentinel.sentinels`)
// with a real redis-sentinel in front of the master. Cluster is covered by the key-layout tests
// (config-push, cdr-stream, shared-call-store).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisSchema } from "../../src/config/schema.js";
import {
  createRedisClient,
  describeRedisTarget,
  type RedisClient,
  waitForRedisReady,
} from "../../src/store/redis/connection.js";
import { RedisSentinelProcess, RedisServerProcess, redisCommand } from "../support/redis-server.js";

const clients: RedisClient[] = [];

/** A client for `settings`; resolves once ready, or rejects with the connection error. */
async function open(settings: unknown, env: NodeJS.ProcessEnv = {}): Promise<RedisClient> {
  const parsed = redisSchema.parse(settings);
  const client = createRedisClient({ settings: parsed, env });
  client.on("error", () => undefined);
  clients.push(client);
  await waitForRedisReady(client, 5_000, describeRedisTarget(parsed));
  return client;
}

afterAll(() => {
  for (const c of clients) c.disconnect();
});

describe("password", () => {
  let redis: RedisServerProcess;
  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    expect(await redisCommand(redis.port, "CONFIG SET requirepass s3cret-pw")).toMatch(/^\+OK/);
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  it("is read from the environment variable named by passwordEnv", async () => {
    const client = await open(
      { url: redis.url, passwordEnv: "DIALGATE_REDIS_PASSWORD" },
      { DIALGATE_REDIS_PASSWORD: "s3cret-pw" },
    );
    await client.set("dialgate-test:pw", "1");
    expect(await client.get("dialgate-test:pw")).toBe("1");
  });

  it("or from the URL", async () => {
    const client = await open({ url: `redis://:s3cret-pw@127.0.0.1:${redis.port}` });
    expect(await client.ping()).toBe("PONG");
  });

  it("is needed: without it, or with the wrong one, the client is not ready", async () => {
    await expect(open({ url: redis.url })).rejects.toThrow(/not reachable.*(NOAUTH|auth)/i);
    await expect(
      open({ url: redis.url, passwordEnv: "DIALGATE_REDIS_PASSWORD" }, { DIALGATE_REDIS_PASSWORD: "wrong" }),
    ).rejects.toThrow(/not reachable.*(WRONGPASS|invalid)/i);
  });
});

describe("TLS", () => {
  let redis: RedisServerProcess;
  let tlsPort: number;
  let caFile: string;
  beforeAll(async () => {
    ({ redis, tlsPort, caFile } = await RedisServerProcess.startWithTls());
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  it("connects with rediss:// and the CA from tls.caFile", async () => {
    const client = await open({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { caFile } });
    await client.set("dialgate-test:tls", "1");
    expect(await client.get("dialgate-test:tls")).toBe("1");
  });

  it("turns TLS on for a redis:// URL with a tls section", async () => {
    const client = await open({ url: `redis://127.0.0.1:${tlsPort}`, tls: { caFile } });
    expect(await client.ping()).toBe("PONG");
  });

  it("refuses a server whose certificate does not chain to a trusted CA", async () => {
    await expect(open({ url: `rediss://127.0.0.1:${tlsPort}` })).rejects.toThrow(
      /not reachable.*(self[- ]signed|unable to (get|verify))/i,
    );
  });
});

describe("Sentinel", () => {
  let master: RedisServerProcess;
  let sentinel: RedisSentinelProcess;
  beforeAll(async () => {
    master = await RedisServerProcess.start();
    sentinel = await RedisSentinelProcess.start("dialgate-master", master);
  });
  afterAll(async () => {
    await sentinel?.cleanup();
    await master?.cleanup();
  });

  it("finds the master through the sentinels and writes to it", async () => {
    const settings = {
      // With Sentinel the URL only carries the password and database, never the address.
      url: "redis://127.0.0.1:1",
      sentinel: { masterName: "dialgate-master", sentinels: [{ host: "127.0.0.1", port: sentinel.port }] },
    };
    expect(describeRedisTarget(redisSchema.parse(settings))).toBe("sentinel master dialgate-master");
    const client = await open(settings);
    await client.set("dialgate-test:sentinel", "via-sentinel");
    expect(await redisCommand(master.port, "GET dialgate-test:sentinel")).toContain("via-sentinel");
  });
});

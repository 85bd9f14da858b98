// The Redis capacity counter's lease writes against a real redis-server: lease changes are
// written in one pipeline per window (not two commands per call), an attempt that fails inside
// the window never reaches Redis, and this instance's own unwritten leases count at once, so a
// burst through one instance cannot overshoot maxConcurrentSessions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallEvent } from "../../src/calls/events.js";
import { redisSchema } from "../../src/config/schema.js";
import type { RouteTarget } from "../../src/routing/decision.js";
import type { PstnGateway } from "../../src/routing/gateways.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisGatewayCapacity } from "../../src/store/redis/gateway-capacity.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { silentLogger } from "../../src/util/logger.js";
import { RedisServerProcess } from "../support/redis-server.js";

let redis: RedisServerProcess;
let client: RedisClient;
const keys = new RedisKeys("leasetest");
// Only what the counter reads of a gateway.
const gateway = { fqdn: "sbc9.example.com", maxConcurrentSessions: 3 } as PstnGateway;
const target: RouteTarget = {
  requestUri: "sip:+14255550100@sbc9.example.com;user=phone",
  destination: { host: "127.0.0.1", port: 5099, transport: "udp" },
  label: gateway.fqdn,
  gateway: gateway.fqdn,
};

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
});

afterAll(async () => {
  client?.disconnect();
  await redis?.cleanup();
});

/** How many times redis-server ran `command` so far (INFO commandstats). */
async function calls(command: string): Promise<number> {
  const info = await client.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

function counter(): RedisGatewayCapacity {
  return new RedisGatewayCapacity({ client, keys, logger: silentLogger(), now: Date.now, leaseSeconds: 30 });
}

const sent = (callId: string): CallEvent => ({
  type: "attempt-sent",
  callId,
  at: Date.now(),
  step: 0,
  target,
});

describe("Redis capacity leases", () => {
  it("counts this instance's unwritten leases at once and writes a window's leases in one ZADD", async () => {
    const c = counter();
    const zaddsBefore = await calls("zadd");
    for (const id of ["b1", "b2", "b3"]) c.onEvent(sent(id));
    // Nothing written yet, but the gateway is full for this instance's next call.
    expect(await client.zcard(keys.gatewayLeases(gateway.fqdn))).toBe(0);
    expect([...(await c.atCapacity([gateway]))]).toEqual([gateway.fqdn]);
    await c.flush();
    expect(await client.zcard(keys.gatewayLeases(gateway.fqdn))).toBe(3);
    expect((await calls("zadd")) - zaddsBefore).toBe(1);
    // Another instance sees them.
    expect([...(await counter().atCapacity([gateway]))]).toEqual([gateway.fqdn]);

    for (const id of ["b1", "b2", "b3"])
      c.onEvent({ type: "ended", callId: id, at: Date.now(), by: "caller" });
    expect([...(await c.atCapacity([gateway]))]).toEqual([]);
    await c.flush();
    expect(await client.zcard(keys.gatewayLeases(gateway.fqdn))).toBe(0);
  });

  it("counts leases flushed while a count is under way (neither in Redis's answer nor unwritten by then)", async () => {
    const c = counter();
    for (const id of ["r1", "r2", "r3"]) c.onEvent(sent(id));
    // The count goes out first (auto-pipelined: at the end of this turn); the window's flush
    // follows it on the same connection, before the answer can be read. Redis answers without
    // the three leases, and by the time it answers they are no longer unwritten.
    const full = c.atCapacity([gateway]);
    await new Promise((resolve) => setImmediate(resolve));
    await c.flush();
    expect([...(await full)]).toEqual([gateway.fqdn]);
    for (const id of ["r1", "r2", "r3"])
      c.onEvent({ type: "ended", callId: id, at: Date.now(), by: "caller" });
    await c.flush();
  });

  it("never writes a lease taken and given back inside one window", async () => {
    const c = counter();
    const zaddsBefore = await calls("zadd");
    const zremsBefore = await calls("zrem");
    c.onEvent(sent("quick"));
    c.onEvent({
      type: "attempt-failed",
      callId: "quick",
      at: Date.now(),
      step: 0,
      target,
      status: 503,
      cause: "response",
    });
    await c.flush();
    expect((await calls("zadd")) - zaddsBefore).toBe(0);
    expect((await calls("zrem")) - zremsBefore).toBe(0);
    expect(c.leasesHeld).toBe(0);
  });
});

// With Redis a pushed routing version may name a gateway whose transport this instance has no
// listener for (the push validated the routing file's own `sip`): the version is applied -- its
// other gateways route -- but the instance says so, as an error in its log and on /metrics,
// instead of failing every call to that gateway with 503 and nothing else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema, redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { validateRoutingDocument } from "../../src/store/routing-document.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRoutingDocument } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { capturingLogger } from "./support/cdr-fixtures.js";

let redis: RedisServerProcess;
let client: RedisClient;
let dialgate: Dialgate;
const { logger, lines } = capturingLogger();

async function push(gateways: object[]): Promise<void> {
  const checked = validateRoutingDocument({ gateways });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  await pushRoutingDocument(new RedisRoutingStore(client, new RedisKeys("dialgate")), checked.document);
}

async function unreachableGauge(): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${dialgate.http.address.port}/metrics`)).text();
  return /^dialgate_routing_gateways_without_listener (\d+)$/m.exec(text)?.[1];
}

const udpGateway = { fqdn: "sbc1.contoso.com", address: "127.0.0.1", enabled: true };
const tlsGateway = { fqdn: "sbc2.contoso.com", address: "127.0.0.1", transport: "tls", enabled: true };

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  await push([udpGateway, tlsGateway]);
  const port = await freeSipPort();
  dialgate = await startDialgate(
    dialgateConfigSchema.parse({
      sip: { listen: [{ transport: "udp", host: "127.0.0.1", port }], recordRouteHost: "127.0.0.1" },
      http: { port: 0 },
      redis: { url: redis.url },
    }),
    { logger },
  );
}, 60_000);

afterAll(async () => {
  await dialgate?.stop();
  client?.disconnect();
  await redis?.cleanup();
});

describe("a routing version with a gateway this instance has no listener for", () => {
  it("is applied, logged as an error naming the gateway, and counted on /metrics", async () => {
    expect(dialgate.sharedState?.routing.version).toBe(1);
    const error = lines.find((l) => l.level >= 50 && l.msg.includes("no listener for"));
    expect(error).toMatchObject({ version: 1, gateways: ["sbc2.contoso.com (tls)"] });
    expect(await unreachableGauge()).toBe("1");

    // The next version drops it: the count goes back to 0, and nothing more is logged.
    const logged = lines.length;
    await push([udpGateway]);
    await waitFor(() => dialgate.sharedState?.routing.version === 2, 10_000, "version 2 in use");
    expect(await unreachableGauge()).toBe("0");
    expect(lines.slice(logged).some((l) => l.msg.includes("no listener for"))).toBe(false);
  });
});

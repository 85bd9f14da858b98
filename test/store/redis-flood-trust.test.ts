// With Redis the instance file holds no gateways or tenants: the flood allow list must come from
// the routing version in use (its gateways' addresses, its tenants' trustedClientNetworks), and
// follow the next push. Real redis-server and real sockets on loopback.
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema, redisSchema } from "../../src/config/schema.js";
import type { NativeEdge } from "../../src/sip/native/native-edge.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRoutingText } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";

let redis: RedisServerProcess;
let client: RedisClient;
let dialgate: Dialgate;
let sipPort: number;
let source: Socket;
const received: string[] = [];

/** Routing objects: one gateway at `gatewayAddress`, one tenant trusting `network`. */
function routing(gatewayAddress: string, network: string): string {
  return `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
gateways:
  - { fqdn: sbc1.contoso.com, address: ${gatewayAddress}, sipSignalingPort: 5060, enabled: true, sendSipOptions: false }
tenants:
  - { id: contoso, domains: [contoso.com], trustedClientNetworks: ['${network}'] }
`;
}

async function push(text: string): Promise<void> {
  await pushRoutingText(new RedisRoutingStore(client, new RedisKeys("dialgate")), text);
}

function options(i: number): Buffer {
  const port = source.address().port;
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKtrust${i};rport`,
      "Max-Forwards: 70",
      `From: <sip:ping@sbc1.contoso.com>;tag=t${i}`,
      `To: <sip:127.0.0.1:${sipPort}>`,
      `Call-ID: trust-${i}@127.0.0.1`,
      "CSeq: 1 OPTIONS",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
}

async function burst(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) source.send(options(i), sipPort, "127.0.0.1");
}

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  source = createSocket("udp4");
  source.on("message", (d) => received.push(d.toString("latin1")));
  await new Promise<void>((resolve) => source.bind(0, "127.0.0.1", () => resolve()));
  // Version 1: the gateway sends from 127.0.0.1.
  await push(routing("127.0.0.1", "10.20.0.0/16"));
  sipPort = await freeSipPort();
  dialgate = await startDialgate(
    dialgateConfigSchema.parse({
      sip: {
        listen: [{ transport: "udp", host: "127.0.0.1", port: sipPort }],
        recordRouteHost: "127.0.0.1",
        drainTimeoutSeconds: 0,
        overload: { enabled: false },
        // The instance file trusts nobody itself.
        flood: { threshold: 20, windowSeconds: 60, banSeconds: 600, allow: [] },
      },
      http: { port: 0 },
      redis: { url: redis.url },
    }),
  );
}, 60_000);

afterAll(async () => {
  source?.close();
  await dialgate?.stop();
  client?.disconnect();
  await redis?.cleanup();
});

describe("flood allow list with the routing objects in Redis", () => {
  it("trusts the gateways and networks of the routing version in use, and follows a push", async () => {
    const edge = dialgate.edge as NativeEdge;
    await burst(0, 100);
    await waitFor(() => received.length === 100, 10_000, "every OPTIONS from the gateway answered");
    expect(edge.protectionStats).toMatchObject({ bans: 0, droppedMessages: 0 });

    // Version 2: the gateway moved away, and the tenant's network covers 127.0.0.0/8 instead.
    await push(routing("192.0.2.10", "127.0.0.0/8"));
    await waitFor(() => dialgate.sharedState?.routing.version === 2, 10_000, "version 2 in use");
    await burst(100, 100);
    await waitFor(() => received.length === 200, 10_000, "every OPTIONS from the trusted network answered");
    expect(edge.protectionStats).toMatchObject({ bans: 0, droppedMessages: 0 });

    // Version 3: neither trusts 127.0.0.1 any more: the same burst bans it.
    await push(routing("192.0.2.10", "10.20.0.0/16"));
    await waitFor(() => dialgate.sharedState?.routing.version === 3, 10_000, "version 3 in use");
    await burst(200, 100);
    await waitFor(() => edge.protectionStats.bans === 1, 10_000, "127.0.0.1 banned");
  });
});

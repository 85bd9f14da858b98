// With Redis, gateways without `address` are routing objects in Redis: their RFC 3263 lookup
// must follow the routing version in use (not the instance file, which has no gateways), and a
// push that adds such a gateway is resolved without a restart.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema, redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { pushRoutingText } from "../support/redis-dialgate.js";
import { RedisServerProcess } from "../support/redis-server.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";

let redis: RedisServerProcess;
let client: RedisClient;
let dns: TestDnsServer;
let dialgate: Dialgate;
let sipPort: number;
let first: SippProcess;

/** A gateway's UDP SRV record pointing at `target`:`port`, and the target's loopback A record. */
function srvZone(fqdn: string, target: string, port: number): never {
  return [
    { name: `_sip._udp.${fqdn}`, type: "SRV", ttl: 300, data: { priority: 10, weight: 0, port, target } },
    { name: target, type: "A", ttl: 300, data: "127.0.0.1" },
  ] as never;
}

/** The routing objects: one gateway known only by its FQDN (no address); bob at `bobContact`. */
function routing(fqdn: string, bobContact = "sip:bob@127.0.0.1:9"): string {
  return `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
gateways:
  - { fqdn: ${fqdn}, sipSignalingPort: 5060, enabled: true, sendSipOptions: false, tenant: contoso }
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.0/8]
    pstnUsages: [US]
    voiceRoutes:
      - { identity: r1, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [${fqdn}] }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [US] }
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US }
      - { id: bob@contoso.com, lineUri: '+14255550101', usageLocation: US, contact: '${bobContact}' }
`;
}

async function push(fqdn: string, bobContact?: string): Promise<void> {
  await pushRoutingText(new RedisRoutingStore(client, new RedisKeys("dialgate")), routing(fqdn, bobContact));
}

async function callAsAlice(): Promise<number | null> {
  const uac = await SippProcess.start({
    scenario: "uac-user-call.xml",
    remote: { host: "127.0.0.1", port: sipPort },
    keys: { from_user: "alice", from_domain: "contoso.com" },
    service: "+14255550123",
    timeoutSeconds: 60,
  });
  return (await uac.wait()).exitCode;
}

beforeAll(async () => {
  redis = await RedisServerProcess.start();
  client = createRedisClient({ settings: redisSchema.parse({ url: redis.url }) });
  await waitForRedisReady(client, 10_000, "test redis");
  first = await SippProcess.start({ scenario: "uas-answer.xml", calls: 1, timeoutSeconds: 90 });
  dns = await startDnsServer(srvZone("sbc1.dns.test", "a.dns.test", first.port));
  await push("sbc1.dns.test");
  sipPort = await freeSipPort();
  dialgate = await startDialgate(
    dialgateConfigSchema.parse({
      sip: {
        listen: [{ transport: "udp", host: "127.0.0.1", port: sipPort }],
        recordRouteHost: "127.0.0.1",
        drainTimeoutSeconds: 0,
        dnsServers: [`127.0.0.1:${dns.port}`],
      },
      http: { port: 0 },
      redis: { url: redis.url },
    }),
  );
}, 60_000);

afterAll(async () => {
  await killAllSipp();
  await dialgate?.stop();
  await dns?.close();
  client?.disconnect();
  await redis?.cleanup();
});

describe("gateway DNS with the routing objects in Redis", () => {
  it("resolves the gateways of the version in use, and of the next push", async () => {
    await waitFor(
      () => dns.questions.includes("A a.dns.test"),
      20_000,
      "dialgate to resolve sbc1's SRV target",
    );
    expect(await callAsAlice()).toBe(0);
    expect((await first.wait()).exitCode).toBe(0);

    // A push that brings another DNS-only gateway: looked up without a restart.
    const second = await SippProcess.start({ scenario: "uas-answer.xml", calls: 1, timeoutSeconds: 60 });
    dns.setZone(srvZone("sbc2.dns.test", "b.dns.test", second.port));
    await push("sbc2.dns.test");
    await waitFor(
      () => dns.questions.includes("A b.dns.test"),
      20_000,
      "dialgate to resolve sbc2 after the push",
    );
    expect(await callAsAlice()).toBe(0);
    expect((await second.wait()).exitCode).toBe(0);
  });

  it("recognises a gateway of the version in use calling in from an address its FQDN resolves to", async () => {
    const bob = await SippProcess.start({ scenario: "uas-answer.xml", calls: 1, timeoutSeconds: 60 });
    dns.setZone(srvZone("sbc3.dns.test", "c.dns.test", 5060));
    await push("sbc3.dns.test", `sip:bob@127.0.0.1:${bob.port}`);
    await waitFor(() => dns.questions.includes("A c.dns.test"), 20_000, "dialgate to resolve sbc3");
    // The gateway's INVITE: from 127.0.0.1 (c.dns.test's address), Contact host its FQDN. Not
    // recognised, it would be a stranger inside the tenant's trusted network: 403.
    const scenario = join(mkdtempSync(join(tmpdir(), "dg-gw-in-")), "uac-gateway.xml");
    writeFileSync(
      scenario,
      readFileSync(new URL("../../sipp-scenarios/uac-user-call.xml", import.meta.url), "utf8").replace(
        "Contact: <sip:[from_user]@[local_ip]:[local_port];transport=[transport]>",
        "Contact: <sip:[from_user]@sbc3.dns.test:[local_port]>",
      ),
    );
    const gateway = await SippProcess.start({
      scenario,
      remote: { host: "127.0.0.1", port: sipPort },
      keys: { from_user: "+12065550199", from_domain: "sbc3.dns.test" },
      service: "+14255550101",
      timeoutSeconds: 60,
    });
    const answered = await gateway.wait();
    expect(answered.exitCode, answered.messages.map((m) => m.startLine).join(" | ")).toBe(0);
    expect((await bob.wait()).exitCode).toBe(0);
  });
});

// Shared set-up of the CDR end-to-end tests: the real router and the real journal behind the
// native edge, SIPp as callers and gateways, and the CDR a carrier would read back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { validateConfig } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";
import type { TimerService } from "../../src/sip/native/timer-service.js";
import { freeUdpPort } from "../support/free-port.js";

export const HOST = "127.0.0.1";

export interface CdrPorts {
  readonly edge: number;
  readonly gw1: number;
  readonly gw2: number;
  readonly gw3: number;
  readonly silent: number;
  /** Nobody sends from it: a test binds it with SilentUdpGateway (test/support/silent-udp-gateway.ts). */
  readonly blackhole: number;
  readonly dead: number;
  readonly bob: number;
  readonly ivr: number;
}

export async function cdrPorts(): Promise<CdrPorts> {
  return {
    edge: await freeUdpPort(),
    gw1: await freeUdpPort(),
    gw2: await freeUdpPort(),
    gw3: await freeUdpPort(),
    silent: await freeUdpPort(),
    blackhole: await freeUdpPort(),
    dead: await freeUdpPort(),
    bob: await freeUdpPort(),
    ivr: await freeUdpPort(),
  };
}

/**
 * Tenant contoso: Alice on the Redmond dial plan (7-digit numbers → +1425...), voice routes Main
 * (gw1, gw2), Backup (gw3), Denver (a dead TCP gateway, then gw2), Silent (a UDP gateway nobody
 * answers), Atlanta (a gateway that sends nothing, failover timer 2 s, then gw2); carriers acme (gw1) and globex (gw2), numbersco owning Alice's and Bob's numbers.
 */
export function cdrConfig(p: CdrPorts, cdr: Record<string, unknown> = {}): DialgateConfig {
  const gateway = (fqdn: string, port: number, extra: object = {}) => ({
    fqdn,
    address: HOST,
    sipSignalingPort: port,
    enabled: true,
    sendSipOptions: false,
    failoverTimeSeconds: 2,
    ...extra,
  });
  const r = validateConfig({
    sip: {
      listen: [
        { transport: "udp", host: HOST, port: p.edge },
        { transport: "tcp", host: HOST, port: p.edge },
      ],
      recordRouteHost: HOST,
      // Timer B = 64 × T1 = 3.2 s: an unanswered UDP gateway times out quickly.
      timers: { t1Ms: 50, t2Ms: 500 },
      drainTimeoutSeconds: 0,
    },
    http: { port: 0 },
    cdr: { file: join(mkdtempSync(join(tmpdir(), "dialgate-cdr-e2e-")), "cdr.jsonl"), ...cdr },
    gateways: [
      gateway("gw1.e2e.test", p.gw1, { carrier: "acme", tenant: "contoso" }),
      gateway("gw2.e2e.test", p.gw2, { carrier: "globex" }),
      gateway("gw3.e2e.test", p.gw3),
      gateway("silent.e2e.test", p.silent, { failoverTimeSeconds: 30 }),
      gateway("blackhole.e2e.test", p.blackhole),
      gateway("dead.e2e.test", p.dead, { transport: "tcp" }),
    ],
    tenants: [
      {
        id: "contoso",
        domains: ["contoso.com"],
        trustedClientNetworks: ["127.0.0.1/32"],
        dialPlans: {
          plans: [
            {
              identity: "Redmond",
              normalizationRules: [{ name: "7digit", pattern: "^(\\d{7})$", translation: "+1425$1" }],
            },
          ],
        },
        pstnUsages: ["US", "Slow"],
        voiceRoutes: [
          {
            identity: "Main",
            numberPattern: "^\\+1(425|206)",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["gw1.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Backup",
            numberPattern: "^\\+1425",
            priority: 2,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["gw3.e2e.test"],
          },
          {
            identity: "Denver",
            numberPattern: "^\\+1303",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["dead.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Atlanta",
            numberPattern: "^\\+1404",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["blackhole.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Silent",
            numberPattern: "^\\+1555",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["silent.e2e.test"],
          },
        ],
        voiceRoutingPolicies: [{ identity: "Global", onlinePstnUsages: ["US"] }],
        unassignedNumberTreatment: { target: `sip:ivr@${HOST}:${p.ivr}` },
        users: [
          {
            id: "alice@contoso.com",
            displayName: "Alice",
            lineUri: "+14255550100",
            usageLocation: "US",
            tenantDialPlan: "Redmond",
          },
          {
            id: "bob@contoso.com",
            displayName: "Bob",
            lineUri: "+14255550101",
            usageLocation: "US",
            contact: `sip:bob@${HOST}:${p.bob}`,
          },
        ],
      },
    ],
    carriers: [
      { id: "acme", name: "Acme Telecom" },
      { id: "globex", name: "Globex" },
      {
        id: "numbersco",
        name: "Numbers Co",
        numbers: [
          { number: "+14255550100", tenant: "contoso" },
          { number: "+14255550101", tenant: "contoso" },
        ],
      },
    ],
  });
  if (!r.ok) throw new Error(r.problems.map((x) => `${x.path}: ${x.message}`).join("\n"));
  return r.config;
}

export async function startCdrProxy(config: DialgateConfig, timerService?: TimerService): Promise<Dialgate> {
  // r close to 1 keeps a route's gateways in their listed order (Fisher–Yates j = i).
  return startDialgate(config, { random: () => 0.999, ...(timerService ? { timerService } : {}) });
}

export const ALICE = '"Alice" <sip:alice@contoso.com>';

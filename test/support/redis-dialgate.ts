// Dialgate instances on shared Redis, for tests: a routing file to push (one tenant, users
// alice and bob on loopback, gateway sbc1 played by a SIPp UAS), an instance file with only
// sip/http/redis, and helpers to push and start in-process instances.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { parseConfigText } from "../../src/config/load.js";
import { type DialgateConfig, dialgateConfigSchema } from "../../src/config/schema.js";
import type { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { writeRouting } from "../../src/store/redis/routing-writer.js";
import { type RoutingDocument, routingDocumentOf } from "../../src/store/routing-document.js";
import { freeSipPort } from "./free-port.js";

export interface RoutingFileOptions {
  readonly gatewayPort: number;
  /** Translation of the Redmond plan's 7-digit rule (the push tests change it). */
  readonly sevenDigitTranslation?: string;
  readonly maxConcurrentSessions?: number;
  /** A second gateway, sbc2, in a route tried after sbc1's (failover). */
  readonly backupGatewayPort?: number;
  /** Carriers (their numbers, API keys and webhooks), added as they are. */
  readonly carriers?: DialgateConfig["carriers"];
}

export function routingYaml(o: RoutingFileOptions): string {
  return `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
gateways:
  - fqdn: sbc1.contoso.com
    address: 127.0.0.1
    sipSignalingPort: ${o.gatewayPort}
    transport: udp
    enabled: true
    sendSipOptions: false
${o.maxConcurrentSessions !== undefined ? `    maxConcurrentSessions: ${o.maxConcurrentSessions}\n` : ""}${
  o.backupGatewayPort === undefined
    ? ""
    : `  - { fqdn: sbc2.contoso.com, address: 127.0.0.1, sipSignalingPort: ${o.backupGatewayPort}, transport: udp, enabled: true, sendSipOptions: false }\n`
}
tenants:
  - id: contoso
    domains: [contoso.com]
    trustedClientNetworks: [127.0.0.0/8]
    dialPlans:
      plans:
        - identity: Redmond
          normalizationRules:
            - { name: 7digit, pattern: '^(\\d{7})$', translation: '${o.sevenDigitTranslation ?? "+1425$1"}' }
    pstnUsages: [US]
    voiceRoutes:
      - { identity: All, numberPattern: '^\\+1\\d{10}$', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [sbc1.contoso.com] }${
        o.backupGatewayPort === undefined
          ? ""
          : "\n      - { identity: Backup, numberPattern: '^\\+1\\d{10}$', priority: 2, onlinePstnUsages: [US], onlinePstnGatewayList: [sbc2.contoso.com] }"
      }
    voiceRoutingPolicies:
      - { identity: Global, onlinePstnUsages: [US] }
    users:
      - { id: alice@contoso.com, lineUri: '+14255550100', usageLocation: US, tenantDialPlan: Redmond }
      - { id: bob@contoso.com, lineUri: '+14255550101', usageLocation: US, tenantDialPlan: Redmond }
      - { id: carol@contoso.com, lineUri: '+14255550102', usageLocation: US }
`;
}

export function routingConfig(o: RoutingFileOptions): DialgateConfig {
  const r = parseConfigText(routingYaml(o));
  if (!r.ok) throw new Error(`test routing file invalid: ${JSON.stringify(r.problems)}`);
  return o.carriers === undefined ? r.config : { ...r.config, carriers: o.carriers };
}

export async function pushRouting(store: RedisRoutingStore, o: RoutingFileOptions): Promise<number> {
  return pushRoutingDocument(store, routingDocumentOf(routingConfig(o)));
}

/** Pushes routing objects written as a configuration file (its `sip` only has to be valid). */
export async function pushRoutingText(store: RedisRoutingStore, yaml: string): Promise<number> {
  const r = parseConfigText(yaml);
  if (!r.ok) throw new Error(`test routing file invalid: ${JSON.stringify(r.problems)}`);
  return pushRoutingDocument(store, routingDocumentOf(r.config));
}

/** Writes `document` as the routing version in use, as `dialgate config push` does; its version. */
export async function pushRoutingDocument(
  store: RedisRoutingStore,
  document: RoutingDocument,
): Promise<number> {
  const r = await writeRouting(store, () => ({ ok: true, document }));
  if (!r.ok || r.version === null) throw new Error(`push failed: ${JSON.stringify(r)}`);
  return r.version;
}

export interface RedisSection {
  readonly url: string;
  readonly cluster?: boolean;
  readonly clusterNodes?: readonly string[];
  readonly versionCheckSeconds?: number;
  readonly capacityLeaseSeconds?: number;
  readonly keyPrefix?: string;
}

export function instanceConfig(sipPort: number, redis: RedisSection, adminToken?: string): DialgateConfig {
  return dialgateConfigSchema.parse({
    sip: {
      listen: [{ transport: "udp", host: "127.0.0.1", port: sipPort }],
      recordRouteHost: "127.0.0.1",
      drainTimeoutSeconds: 0,
    },
    http: { port: 0, ...(adminToken !== undefined ? { adminToken } : {}) },
    redis,
    // Each instance has its own journal (the local spool while Redis is down).
    cdr: { file: join(mkdtempSync(join(tmpdir(), "dialgate-instance-")), "cdr.jsonl") },
  });
}

export async function startInstance(
  redis: RedisSection,
  adminToken?: string,
): Promise<{ dialgate: Dialgate; port: number }> {
  const port = await freeSipPort();
  const dialgate = await startDialgate(instanceConfig(port, redis, adminToken));
  return { dialgate, port };
}

/** A SIPp scenario file: one REGISTER of `user`@contoso.com with one contact, expecting `status`. */
export function registerScenario(dir: string, user: string, contactPort: number, status = 200): string {
  const file = join(dir, `register-${user}-${status}.xml`);
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register ${user}">
  <send retrans="500"><![CDATA[

      REGISTER sip:contoso.com SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:${user}@contoso.com>;tag=[pid]reg[call_number]
      To: <sip:${user}@contoso.com>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:${user}@127.0.0.1:${contactPort}>
      Expires: 300
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="${status}"/>
</scenario>`,
  );
  return file;
}

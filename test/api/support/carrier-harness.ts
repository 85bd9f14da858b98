// A real dialgate (SIP edge on a free loopback port, HTTP on port 0, the real CDR journal in a
// temp directory) with two carriers, for tests of the carrier and admin APIs over real HTTP.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dialgate, type DialgateDeps, startDialgate } from "../../../src/app.js";
import type { CallRecord } from "../../../src/calls/call-record.js";
import { type DialgateConfig, dialgateConfigSchema } from "../../../src/config/schema.js";
import { makeRecord } from "../../store/support/cdr-fixtures.js";
import { freeSipPort } from "../../support/free-port.js";
import { TestRouter } from "../../support/test-router.js";

export const FABRIKAM_KEY = "fabrikam-key-1";
export const FABRIKAM_KEY_2 = "fabrikam-key-2";
export const NORTHWIND_KEY = "northwind-key-1";
export const ADMIN_TOKEN = "admin-token-for-tests";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Overrides merged into the base configuration (carriers, http...). */
export type ConfigPatch = (base: Record<string, unknown>) => Record<string, unknown>;

export function baseConfig(dir: string, sipPort: number): Record<string, unknown> {
  return {
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: sipPort }], recordRouteHost: "127.0.0.1" },
    http: { port: 0, adminToken: ADMIN_TOKEN },
    cdr: { file: join(dir, "var", "cdr.jsonl") },
    gateways: [
      {
        fqdn: "sbc1.contoso.com",
        address: "127.0.0.1",
        sipSignalingPort: 5090,
        enabled: true,
        carrier: "fabrikam",
      },
      {
        fqdn: "sbc9.northwind.example",
        address: "127.0.0.1",
        sipSignalingPort: 5099,
        enabled: true,
        carrier: "northwind",
      },
    ],
    tenants: [
      {
        id: "contoso",
        domains: ["contoso.com"],
        pstnUsages: ["US and Canada"],
        voiceRoutes: [
          {
            identity: "Redmond1",
            numberPattern: "^\\+1(425|206)(\\d{7})$",
            priority: 1,
            onlinePstnUsages: ["US and Canada"],
            onlinePstnGatewayList: ["sbc1.contoso.com"],
          },
        ],
        voiceRoutingPolicies: [{ identity: "Global", onlinePstnUsages: ["US and Canada"] }],
        dialPlans: {
          plans: [
            {
              identity: "Redmond",
              normalizationRules: [{ name: "7digit", pattern: "^(\\d{7})$", translation: "+1425$1" }],
            },
          ],
        },
        users: [
          {
            id: "alice@contoso.com",
            displayName: "Alice",
            lineUri: "+14255550100",
            usageLocation: "US",
            tenantDialPlan: "Redmond",
            onlineVoiceRoutingPolicy: "Global",
            sipPasswordHa1: "910f40e96d7d731e9b385d5ae3980ae5",
          },
          { id: "bob@contoso.com", lineUri: "+14255550101;ext=0101", usageLocation: "US" },
        ],
      },
    ],
    carriers: [
      {
        id: "fabrikam",
        name: "Fabrikam Telecom",
        apiKeySha256: [sha(FABRIKAM_KEY), sha(FABRIKAM_KEY_2)],
        numbers: [
          { number: "+14255550100", tenant: "contoso" },
          { number: "+14255550101", tenant: "contoso" },
          { number: "+14255550199", tenant: "contoso" },
        ],
      },
      {
        id: "northwind",
        name: "Northwind Networks",
        apiKeySha256: [sha(NORTHWIND_KEY)],
        numbers: [{ number: "+12065550142", tenant: "contoso" }],
      },
    ],
  };
}

export interface Harness {
  readonly dir: string;
  dialgate: Dialgate;
  readonly config: DialgateConfig;
  url(path: string): string;
  /** A request with the given bearer token (null: none). */
  call(
    path: string,
    token: string | null,
    init?: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }>;
  /** Appends a CDR (durably) and returns it. */
  append(record: CallRecord): Promise<CallRecord>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  options: { patch?: ConfigPatch; deps?: DialgateDeps; dir?: string } = {},
): Promise<Harness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "dialgate-carrier-")));
  const sipPort = await freeSipPort();
  const raw = (options.patch ?? ((b) => b))(baseConfig(dir, sipPort));
  const config = dialgateConfigSchema.parse(raw);
  const deps: DialgateDeps = { router: new TestRouter(), ...options.deps };
  let dialgate = await startDialgate(config, deps);
  const h: Harness = {
    dir,
    config,
    get dialgate() {
      return dialgate;
    },
    set dialgate(d) {
      dialgate = d;
    },
    url: (path) => `http://127.0.0.1:${dialgate.http.address.port}${path}`,
    async call(path, token, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (init.rawBody !== undefined) body = init.rawBody;
      else if (init.body !== undefined) body = JSON.stringify(init.body);
      if (body !== undefined && headers["content-type"] === undefined)
        headers["content-type"] = "application/json";
      const res = await fetch(h.url(path), {
        method: init.method ?? "GET",
        headers,
        ...(body ? { body } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
    },
    async append(record) {
      await dialgate.cdrLog.append({ kind: "cdr", record });
      return record;
    },
    async restart() {
      await dialgate.stop();
      dialgate = await startDialgate(config, deps);
    },
    async close() {
      await dialgate.stop();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

let serial = 0;
/** A CDR visible to `carrierIds`, with a unique id and correlationId. */
export function cdr(carrierIds: readonly string[], overrides: Partial<CallRecord> = {}): CallRecord {
  serial++;
  const base = makeRecord(
    `cdr-${process.pid}-${serial}`,
    overrides.inviteDateTime ? Date.parse(overrides.inviteDateTime) : undefined,
  );
  return { ...base, carrierIds: [...carrierIds], carrierId: carrierIds[0] ?? null, ...overrides };
}

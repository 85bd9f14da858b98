// Test helpers for the routing core: a stand-in regex dialect and dial plan (plain JavaScript
// regexes; the real .NET-dialect engine has its own tests), a request builder that plays the
// SIP edge, and a digest client.
import { createHash } from "node:crypto";
import { validateConfig } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";
import { InMemoryRegistrationStore } from "../../src/directory/registrations.js";
import type {
  InboundRequest,
  NameAddrView,
  RoutingDecision,
  SipTransport,
  UriView,
} from "../../src/routing/decision.js";
import type { CallerDialPlan, RoutingRegexDialect } from "../../src/routing/dial-plan-port.js";
import { type CallRouterDeps, everyGatewayHealthy, unlimitedCapacity } from "../../src/routing/index.js";
import { ManualClock, seededRandom } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";

export const jsDialect: RoutingRegexDialect = {
  compileNumberPattern(pattern) {
    try {
      const re = new RegExp(pattern);
      return { ok: true, value: { test: (s) => re.test(s) } };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  },
  compileTranslationRule(pattern, translation) {
    try {
      const re = new RegExp(pattern);
      return {
        ok: true,
        value: {
          apply: (s) => {
            const m = re.exec(s);
            return m === null ? null : translation.replace(/\$(\d)/g, (_, g: string) => m[Number(g)] ?? "");
          },
        },
      };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  },
};

/**
 * A toy dial plan: `+…` unchanged, four digits → `+1425555dddd`, other digits → `+1…`.
 * Characters other than digits, `*`, `#`, `+` and `;ext=` are refused, like dialplan.md step 1.
 */
export const toyDialPlan: CallerDialPlan = {
  clean(dialled) {
    const s = dialled.replace(/[-.() ]/g, "");
    if (!/^[0-9*#+]+(;ext=\d{1,12})?$/.test(s))
      return { ok: false, error: `'${dialled}' is not a dialled number` };
    return { ok: true, value: s };
  },
  normalize(_userId, dialled) {
    const c = this.clean(dialled);
    if (!c.ok) return c;
    const s = c.value;
    const translated = s.startsWith("+")
      ? s
      : /^\d{4}$/.test(s)
        ? `+1425555${s}`
        : /^\d+$/.test(s)
          ? `+1${s}`
          : s;
    return {
      ok: true,
      value: {
        translatedNumber: translated,
        matchingRule: translated === s ? null : "toy",
        effectiveTenantDialPlanName: "Service Country",
        fallbackApplied: false,
        externalAccessPrefixStripped: false,
      },
    };
  },
};

export function loadConfig(yaml: object): DialgateConfig {
  const r = validateConfig(yaml);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return r.config;
}

export function uri(raw: string): UriView {
  const m = /^(sips?|tel):(?:([^@]+)@)?([^:;>]+)(?::(\d+))?((?:;[^;]+)*)$/.exec(raw);
  if (m === null) throw new Error(`bad test uri ${raw}`);
  const params = new Map<string, string | null>();
  for (const p of (m[5] ?? "").split(";").filter(Boolean)) {
    const [k = "", v] = p.split("=");
    params.set(k.toLowerCase(), v ?? null);
  }
  return {
    raw,
    scheme: m[1] ?? "sip",
    user: m[2] ?? null,
    host: m[3] ?? "",
    port: m[4] === undefined ? null : Number(m[4]),
    params,
  };
}

export function nameAddr(
  raw: string,
  displayName: string | null = null,
  tag: string | null = null,
): NameAddrView {
  return { displayName, uri: uri(raw), tag };
}

export interface RequestSpec {
  method?: string;
  requestUri: string;
  from: string;
  to?: string;
  contact?: string | null;
  contacts?: { uri: string; expires?: number | null }[] | "star";
  expires?: number | null;
  source?: string;
  sourcePort?: number;
  transport?: SipTransport;
  headers?: Record<string, string[]>;
  pai?: string;
  callId?: string;
  cseq?: number;
  addressedToProxy?: boolean;
}

export function request(spec: RequestSpec): InboundRequest {
  const headers = new Map<string, string[]>();
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers.set(k.toLowerCase(), v);
  const contacts = spec.contacts ?? [];
  return {
    method: spec.method ?? "INVITE",
    requestUri: uri(spec.requestUri),
    from: nameAddr(spec.from, null, "fromtag"),
    to: nameAddr(spec.to ?? spec.requestUri),
    callId: spec.callId ?? "call-1",
    cseq: spec.cseq ?? 1,
    source: {
      address: spec.source ?? "192.0.2.10",
      port: spec.sourcePort ?? 5060,
      transport: spec.transport ?? "udp",
    },
    contact: spec.contact === null || spec.contact === undefined ? null : nameAddr(spec.contact),
    contacts:
      contacts === "star"
        ? "star"
        : contacts.map((c) => ({ nameAddr: nameAddr(c.uri), expires: c.expires ?? null })),
    expires: spec.expires ?? null,
    pai: spec.pai === undefined ? null : nameAddr(spec.pai),
    header: (name) => headers.get(name.toLowerCase()) ?? [],
    addressedToProxy: spec.addressedToProxy ?? false,
  };
}

export function testDeps(overrides: Partial<CallRouterDeps> = {}): CallRouterDeps & { clock: ManualClock } {
  return {
    clock: new ManualClock(),
    random: seededRandom(1),
    logger: silentLogger(),
    registrations: new InMemoryRegistrationStore(),
    health: everyGatewayHealthy,
    capacity: unlimitedCapacity,
    dialPlan: toyDialPlan,
    dialect: jsDialect,
    nonceSecret: new Uint8Array(32).fill(7),
    ...overrides,
  } as CallRouterDeps & { clock: ManualClock };
}

/** Builds a digest Authorization value the way a client does (RFC 7616 §3.4.1). */
export function digestAnswer(opts: {
  challenge: string;
  username: string;
  password: string;
  method: string;
  uri: string;
  nc?: number;
  cnonce?: string;
}): string {
  const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(opts.challenge)?.[1] ?? "";
  const realm = param("realm");
  const nonce = param("nonce");
  const algorithm = param("algorithm") || "MD5";
  const h = (s: string) =>
    createHash(algorithm === "SHA-256" ? "sha256" : "md5")
      .update(s)
      .digest("hex");
  const nc = (opts.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = opts.cnonce ?? "0a4f113b";
  const ha1 = h(`${opts.username}:${realm}:${opts.password}`);
  const ha2 = h(`${opts.method}:${opts.uri}`);
  const response = h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${opts.username}", realm="${realm}", nonce="${nonce}", uri="${opts.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

export function headerOf(decision: RoutingDecision, name: string): string[] {
  if (decision.kind !== "respond") return [];
  return (decision.headers ?? []).filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

export function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}
export function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

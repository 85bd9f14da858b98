// The routing objects of a configuration (gateways, translation rules, tenants with their dial
// plans, routes, policies and users, carriers) as one document: what `config push` stores in
// Redis and what every instance loads, separate from each instance's own settings (sip, http,
// redis, cdr). Also the object-by-object diff a push prints, and which users' effective dial
// plans a change touches (the cache invalidation of the Redis issue).
import { validateConfig } from "../config/load.js";
import type { ConfigProblem } from "../config/problem.js";
import type { DialgateConfig, TenantConfig } from "../config/schema.js";

export interface RoutingDocument {
  readonly gateways: DialgateConfig["gateways"];
  readonly translationRules: DialgateConfig["translationRules"];
  readonly tenants: DialgateConfig["tenants"];
  readonly carriers: DialgateConfig["carriers"];
}

export const ROUTING_SECTIONS = ["gateways", "translationRules", "tenants", "carriers"] as const;

export function emptyRoutingDocument(): RoutingDocument {
  return { gateways: [], translationRules: [], tenants: [], carriers: [] };
}

export function routingDocumentOf(config: DialgateConfig): RoutingDocument {
  return {
    gateways: config.gateways,
    translationRules: config.translationRules,
    tenants: config.tenants,
    carriers: config.carriers,
  };
}

/** Whether a file holds routing objects of its own (refused together with a `redis` section). */
export function hasRoutingObjects(config: DialgateConfig): boolean {
  return ROUTING_SECTIONS.some((s) => config[s].length > 0);
}

/**
 * The instance's own settings plus a routing document, validated as one configuration file is
 * (schema and every semantic check), so what Redis holds is refused or accepted exactly as
 * `config check` would the equivalent file.
 */
export function mergeRoutingDocument(
  instance: DialgateConfig,
  document: RoutingDocument,
): { ok: true; config: DialgateConfig } | { ok: false; problems: readonly ConfigProblem[] } {
  // Not refused for a gateway this instance has no listener for: logged when applied instead.
  const r = validateConfig({ ...instance, ...document }, { runnable: false });
  return r.ok ? { ok: true, config: r.config } : { ok: false, problems: r.problems };
}

/** Settings that make a routing document a complete configuration for validation alone. */
const VALIDATION_SIP = {
  listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }],
  recordRouteHost: "127.0.0.1",
};

/** Validates a routing document on its own (admin writes: validated like the file). */
export function validateRoutingDocument(
  document: unknown,
): { ok: true; document: RoutingDocument } | { ok: false; problems: readonly ConfigProblem[] } {
  const r = validateConfig({ sip: VALIDATION_SIP, ...(document as object) }, { runnable: false });
  return r.ok ? { ok: true, document: routingDocumentOf(r.config) } : { ok: false, problems: r.problems };
}

// ---------------------------------------------------------------------------------------------
// Objects and diff

/** One named routing object, e.g. `tenant contoso user alice@contoso.com`. */
export type RoutingObjects = ReadonlyMap<string, string>;

function tenantSettings(t: TenantConfig): unknown {
  const {
    dialPlans: _p,
    users: _u,
    voiceRoutes: _r,
    voiceRoutingPolicies: _v,
    emergencyCallRoutingPolicies: _e,
    ...rest
  } = t;
  return rest;
}

/** Every object of the document by name, with a canonical JSON text to compare. */
export function routingObjects(document: RoutingDocument): RoutingObjects {
  const out = new Map<string, string>();
  const put = (name: string, value: unknown) => out.set(name, JSON.stringify(value));
  for (const g of document.gateways) put(`gateway ${g.fqdn}`, g);
  for (const r of document.translationRules) put(`translationRule ${r.identity}`, r);
  for (const c of document.carriers) put(`carrier ${c.id}`, c);
  for (const t of document.tenants) {
    const base = `tenant ${t.id}`;
    put(base, tenantSettings(t));
    if (t.dialPlans.global !== undefined) put(`${base} dialPlan Global`, t.dialPlans.global);
    for (const p of t.dialPlans.plans) put(`${base} dialPlan ${p.identity}`, p);
    for (const u of t.users) put(`${base} user ${u.id}`, u);
    for (const r of t.voiceRoutes) put(`${base} voiceRoute ${r.identity}`, r);
    for (const p of t.voiceRoutingPolicies) put(`${base} voiceRoutingPolicy ${p.identity}`, p);
    for (const p of t.emergencyCallRoutingPolicies)
      put(`${base} emergencyCallRoutingPolicy ${p.identity}`, p);
  }
  return out;
}

export interface RoutingDiff {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export function diffRoutingDocuments(before: RoutingDocument, after: RoutingDocument): RoutingDiff {
  const a = routingObjects(before);
  const b = routingObjects(after);
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [name, text] of b) {
    const old = a.get(name);
    if (old === undefined) added.push(name);
    else if (old !== text) changed.push(name);
  }
  for (const name of a.keys()) if (!b.has(name)) removed.push(name);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

export function isEmptyDiff(d: RoutingDiff): boolean {
  return d.added.length + d.changed.length + d.removed.length === 0;
}

/**
 * The users whose effective dial plan a change can alter (lower-cased ids): a changed user; the
 * users assigned a changed user-scoped plan; the users with no plan of their own when the
 * tenant-global plan changed; every user of an added or removed tenant. Policies and routes do
 * not enter the effective dial plan: they live in the per-tenant routing tables, which are
 * rebuilt with the new version.
 */
export function affectedUsers(before: RoutingDocument, after: RoutingDocument): Set<string> {
  const out = new Set<string>();
  const byId = (doc: RoutingDocument) => new Map(doc.tenants.map((t) => [t.id.toLowerCase(), t]));
  const old = byId(before);
  const next = byId(after);
  const json = (v: unknown) => JSON.stringify(v ?? null);
  for (const id of new Set([...old.keys(), ...next.keys()])) {
    const a = old.get(id);
    const b = next.get(id);
    const users = [...(a?.users ?? []), ...(b?.users ?? [])];
    if (a === undefined || b === undefined) {
      for (const u of users) out.add(u.id.toLowerCase());
      continue;
    }
    const globalChanged = json(a.dialPlans.global) !== json(b.dialPlans.global);
    const plans = (t: TenantConfig) =>
      new Map(t.dialPlans.plans.map((p) => [p.identity.toLowerCase(), json(p)]));
    const pa = plans(a);
    const pb = plans(b);
    const changedPlans = new Set<string>();
    for (const k of new Set([...pa.keys(), ...pb.keys()])) if (pa.get(k) !== pb.get(k)) changedPlans.add(k);
    const ua = new Map(a.users.map((u) => [u.id.toLowerCase(), json(u)]));
    const ub = new Map(b.users.map((u) => [u.id.toLowerCase(), json(u)]));
    for (const u of users) {
      const uid = u.id.toLowerCase();
      const plan = u.tenantDialPlan?.toLowerCase();
      if (
        ua.get(uid) !== ub.get(uid) ||
        (plan === undefined ? globalChanged : changedPlans.has(plan)) ||
        // A user whose plan was removed falls back to the tenant-global plan.
        (plan !== undefined && globalChanged && !pb.has(plan))
      )
        out.add(uid);
    }
  }
  return out;
}

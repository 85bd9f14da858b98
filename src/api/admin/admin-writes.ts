// Admin API writes (the Redis issue): create or replace (PUT) and delete (DELETE) users, dial
// plans, voice routes, voice routing policies and gateways. Each write is applied to the
// routing objects in Redis exactly as `config push` applies a file: the whole result is
// validated like the file (every problem with its path), stored as a new version switched in one
// step, and announced so every instance evicts the effective dial plans it touches. PUT is
// create-or-replace (idempotent; 201 when created, 200 when replaced). While Redis is
// unreachable a write answers 503 and changes nothing. Only served with a `redis` section: with
// the embedded store the file is the source of truth.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { TenantConfig } from "../../config/schema.js";
import { GLOBAL_PLAN_IDENTITY } from "../../dialplan/index.js";
import type { RedisRoutingStore } from "../../store/redis/routing-store.js";
import { type RoutingMutation, writeRouting } from "../../store/redis/routing-writer.js";
import type { RoutingDocument } from "../../store/routing-document.js";
import { retryLaterResponse } from "../api-error.js";
import { bearerToken, sha256Hex, TokenHashes } from "../bearer.js";
import { apiError, type HttpPlugin } from "../http-server.js";
import { ADMIN_SECURITY } from "../openapi.js";

export interface AdminWritesOptions {
  readonly adminToken: string | undefined;
  readonly store: RedisRoutingStore;
  /** Called after a switch, so this instance reads its own write at once (others hear pub/sub). */
  readonly afterWrite: () => Promise<void>;
}

type Item = Record<string, unknown>;

/** One kind of tenant object: where it lives in the tenant and what names it. */
interface TenantCollection {
  readonly path: string;
  readonly what: string;
  readonly idField: "id" | "identity";
  readonly caseInsensitive: boolean;
  get(t: TenantConfig): readonly Item[];
  set(t: TenantConfig, items: readonly Item[]): TenantConfig;
}

const collections: readonly TenantCollection[] = [
  {
    path: "users",
    what: "user",
    idField: "id",
    caseInsensitive: true,
    get: (t) => t.users as unknown as Item[],
    set: (t, items) => ({ ...t, users: items as unknown as TenantConfig["users"] }),
  },
  {
    path: "voiceRoutes",
    what: "voice route",
    idField: "identity",
    caseInsensitive: false,
    get: (t) => t.voiceRoutes as unknown as Item[],
    set: (t, items) => ({ ...t, voiceRoutes: items as unknown as TenantConfig["voiceRoutes"] }),
  },
  {
    path: "voiceRoutingPolicies",
    what: "voice routing policy",
    idField: "identity",
    caseInsensitive: false,
    get: (t) => t.voiceRoutingPolicies as unknown as Item[],
    set: (t, items) => ({
      ...t,
      voiceRoutingPolicies: items as unknown as TenantConfig["voiceRoutingPolicies"],
    }),
  },
  {
    path: "dialPlans",
    what: "dial plan",
    idField: "identity",
    caseInsensitive: true,
    get: (t) => t.dialPlans.plans as unknown as Item[],
    set: (t, items) => ({
      ...t,
      dialPlans: { ...t.dialPlans, plans: items as unknown as TenantConfig["dialPlans"]["plans"] },
    }),
  },
];

const same = (a: unknown, b: string, ci: boolean) =>
  typeof a === "string" && (ci ? a.toLowerCase() === b.toLowerCase() : a === b);

function withTenant(
  doc: RoutingDocument,
  tenantId: string,
  change: (t: TenantConfig) => TenantConfig | "missing",
): RoutingMutation {
  const i = doc.tenants.findIndex((t) => t.id.toLowerCase() === tenantId.toLowerCase());
  const tenant = doc.tenants[i];
  if (tenant === undefined)
    return { ok: false, status: 404, problems: [{ path: "tenantId", message: `no tenant '${tenantId}'` }] };
  const changed = change(tenant);
  if (changed === "missing") return { ok: false, status: 404, problems: [] };
  const tenants = [...doc.tenants];
  tenants[i] = changed;
  return { ok: true, document: { ...doc, tenants } };
}

/** Replaces the item named `id` (or appends it), keeping the others' order. */
function upsert(items: readonly Item[], field: string, id: string, ci: boolean, body: Item): Item[] {
  const i = items.findIndex((x) => same(x[field], id, ci));
  if (i < 0) return [...items, body];
  const out = [...items];
  out[i] = body;
  return out;
}

const bodySchema = {
  type: "object",
  additionalProperties: true,
  description: "The object exactly as in the configuration file (config.md field names)",
} as const;
const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: { type: "array", items: {} },
      },
    },
  },
} as const;
const resultSchema = {
  type: "object",
  properties: {
    routingVersion: { type: "integer" },
    created: { type: "boolean" },
    changed: { type: "array", items: { type: "string" } },
  },
} as const;

export function adminWritesPlugin(o: AdminWritesOptions): HttpPlugin {
  const tokens = new TokenHashes<true>();
  if (o.adminToken !== undefined) tokens.add(sha256Hex(o.adminToken), true);

  const apply = async (
    reply: FastifyReply,
    mutate: (doc: RoutingDocument) => RoutingMutation,
    what: string,
    status: { created: boolean },
    onDelete = false,
  ) => {
    let result: Awaited<ReturnType<typeof writeRouting>>;
    try {
      result = await writeRouting(o.store, mutate);
    } catch (err) {
      return reply
        .status(503)
        .header("retry-after", "30")
        .send(
          apiError(
            "store_unavailable",
            `the shared state store (Redis) is unreachable; nothing was changed (${(err as Error).message})`,
          ),
        );
    }
    if (!result.ok) {
      if (result.status === 404)
        return reply
          .status(404)
          .send(apiError("not_found", result.problems[0]?.message ?? `no such ${what}`));
      return reply.status(result.status).send(
        apiError(
          result.status === 409 ? "conflict" : "invalid_object",
          result.status === 409
            ? "the routing objects kept changing; try again"
            : `the ${what} is invalid; nothing was changed`,
          result.problems.map((p) => `${p.path}: ${p.message}`),
        ),
      );
    }
    await o.afterWrite().catch(() => undefined);
    if (onDelete) return reply.status(204).send();
    return reply.status(status.created ? 201 : 200).send({
      routingVersion: result.version,
      created: status.created,
      changed: [...result.diff.added, ...result.diff.changed, ...result.diff.removed],
    });
  };

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addHook("onRequest", async (request, reply) => {
        const token = bearerToken(request.headers.authorization);
        if (tokens.size === 0 || token === null || tokens.resolve(token) === null)
          return reply
            .status(401)
            .header("www-authenticate", 'Bearer realm="dialgate-admin"')
            .send(
              apiError(
                "unauthorized",
                tokens.size === 0
                  ? "the admin API is off: set http.adminToken in the configuration"
                  : "send the admin token as 'Authorization: Bearer <http.adminToken>'",
              ),
            );
      });
      const schemaFor = (summary: string, withBody: boolean) => ({
        schema: {
          tags: ["admin"],
          security: [...ADMIN_SECURITY],
          summary,
          ...(withBody ? { body: bodySchema } : {}),
          response: {
            200: resultSchema,
            201: resultSchema,
            204: { description: "Deleted", type: "null" },
            400: errorSchema,
            401: errorSchema,
            404: errorSchema,
            409: errorSchema,
            429: retryLaterResponse("Too many failed authentications from this address (see Retry-After)"),
            503: errorSchema,
          },
        },
      });

      for (const c of collections) {
        const route = `/v1/admin/tenants/:tenantId/${c.path}/:id`;
        scope.put(
          route,
          schemaFor(`Create or replace a ${c.what} (validated like the file)`, true),
          async (request, reply) => {
            const { tenantId, id } = request.params as { tenantId: string; id: string };
            const body = { ...(request.body as Item) };
            if (body[c.idField] === undefined) body[c.idField] = id;
            if (!same(body[c.idField], id, c.caseInsensitive))
              return reply
                .status(400)
                .send(apiError("bad_request", `${c.idField} in the body must match the path ('${id}')`));
            const status = { created: false };
            const isGlobal =
              c.path === "dialPlans" && id.toLowerCase() === GLOBAL_PLAN_IDENTITY.toLowerCase();
            return apply(
              reply,
              (doc) =>
                withTenant(doc, tenantId, (t) => {
                  if (isGlobal) {
                    const { identity: _i, simpleName: _s, ...plan } = body;
                    status.created = t.dialPlans.global === undefined;
                    return {
                      ...t,
                      dialPlans: { ...t.dialPlans, global: plan as TenantConfig["dialPlans"]["global"] },
                    };
                  }
                  status.created = !c.get(t).some((x) => same(x[c.idField], id, c.caseInsensitive));
                  return c.set(t, upsert(c.get(t), c.idField, id, c.caseInsensitive, body));
                }),
              c.what,
              status,
            );
          },
        );
        scope.delete(route, schemaFor(`Delete a ${c.what}`, false), async (request, reply) => {
          const { tenantId, id } = request.params as { tenantId: string; id: string };
          const isGlobal = c.path === "dialPlans" && id.toLowerCase() === GLOBAL_PLAN_IDENTITY.toLowerCase();
          return apply(
            reply,
            (doc) =>
              withTenant(doc, tenantId, (t) => {
                if (isGlobal) {
                  if (t.dialPlans.global === undefined) return "missing";
                  const { global: _g, ...rest } = t.dialPlans;
                  return { ...t, dialPlans: rest as TenantConfig["dialPlans"] };
                }
                const items = c.get(t);
                const kept = items.filter((x) => !same(x[c.idField], id, c.caseInsensitive));
                return kept.length === items.length ? "missing" : c.set(t, kept);
              }),
            c.what,
            { created: false },
            true,
          );
        });
      }

      scope.put(
        "/v1/admin/gateways/:fqdn",
        schemaFor("Create or replace a PSTN gateway", true),
        async (request, reply) => {
          const { fqdn } = request.params as { fqdn: string };
          const body = { ...(request.body as Item) };
          if (body.fqdn === undefined) body.fqdn = fqdn;
          if (!same(body.fqdn, fqdn, true))
            return reply
              .status(400)
              .send(apiError("bad_request", `fqdn in the body must match the path ('${fqdn}')`));
          const status = { created: false };
          return apply(
            reply,
            (doc) => {
              status.created = !doc.gateways.some((g) => same(g.fqdn, fqdn, true));
              const gateways = upsert(doc.gateways as unknown as Item[], "fqdn", fqdn, true, body);
              return {
                ok: true,
                document: { ...doc, gateways: gateways as unknown as RoutingDocument["gateways"] },
              };
            },
            "gateway",
            status,
          );
        },
      );
      scope.delete(
        "/v1/admin/gateways/:fqdn",
        schemaFor("Delete a PSTN gateway", false),
        async (request, reply) => {
          const { fqdn } = request.params as { fqdn: string };
          return apply(
            reply,
            (doc) => {
              const gateways = doc.gateways.filter((g) => !same(g.fqdn, fqdn, true));
              if (gateways.length === doc.gateways.length)
                return {
                  ok: false,
                  status: 404,
                  problems: [{ path: "fqdn", message: `no gateway '${fqdn}'` }],
                };
              return { ok: true, document: { ...doc, gateways } };
            },
            "gateway",
            { created: false },
            true,
          );
        },
      );
    });
  };
}

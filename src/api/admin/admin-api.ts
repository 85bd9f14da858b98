// The read-only admin API (carrier-api.md "Access"): the dial plan test and the route test —
// answering exactly what `dialgate dialplan test --json` and `dialgate route test --json` print,
// from the same functions — the effective dial plan of a user, and read access to tenants,
// users, gateways and routing objects. Authenticated by `http.adminToken`; when no token is
// configured the admin API is off (every request 401, saying so). Writes arrive with the Redis
// store, behind the same `AdminConfigSource` port.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { DialgateConfig, TenantConfig, UserConfig } from "../../config/schema.js";
import { dialPlanTest, effectiveDialPlanReport } from "../../dialplan/dialplan-report.js";
import { createDialPlanEngine, type DialPlanEngine } from "../../dialplan/index.js";
import { routeTest } from "../../routing/route-test.js";
import { retryLaterResponse } from "../api-error.js";
import { bearerToken, sha256Hex, TokenHashes } from "../bearer.js";
import { apiError, type HttpPlugin } from "../http-server.js";
import { ADMIN_SECURITY } from "../openapi.js";

/** Where the admin API reads the configuration objects it shows (the Redis store can serve it). */
export interface AdminConfigSource {
  current(): DialgateConfig;
}

export function staticConfigSource(config: DialgateConfig): AdminConfigSource {
  return { current: () => config };
}

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

const errors = {
  400: { description: "Bad input, every problem with its path", ...errorSchema },
  401: { description: "No or wrong admin token, or the admin API is off", ...errorSchema },
  404: { description: "No such object", ...errorSchema },
  429: retryLaterResponse("Too many failed authentications from this address (see Retry-After)"),
} as const;

/** Objects are shown as configured; open-ended shapes, documented by their config.md names. */
const anyObject = { type: "object", additionalProperties: true } as const;
const listOf = (key: string) =>
  ({
    type: "object",
    required: [key],
    properties: { [key]: { type: "array", items: anyObject } },
  }) as const;

const testBody = {
  type: "object",
  additionalProperties: false,
  required: ["user", "number"],
  properties: {
    user: { type: "string", minLength: 1, maxLength: 256, description: "the user's SIP address" },
    number: { type: "string", maxLength: 256, description: "what was dialled" },
  },
} as const;

/** The user as configured, without the digest hashes (password-equivalent secrets). */
function publicUser(u: UserConfig, tenantId: string) {
  const { sipPasswordHa1, sipPasswordHa1Sha256, ...rest } = u;
  return {
    ...rest,
    tenantId,
    hasDigestCredentials: sipPasswordHa1 !== undefined || sipPasswordHa1Sha256 !== undefined,
  };
}

function publicTenant(t: TenantConfig) {
  const { users, ...rest } = t;
  return { ...rest, userCount: users.length };
}

function notFound(reply: FastifyReply, what: string) {
  return reply.status(404).send(apiError("not_found", `no such ${what}`));
}

export interface AdminApiOptions {
  readonly adminToken: string | undefined;
  readonly source: AdminConfigSource;
}

export function adminApiPlugin(o: AdminApiOptions): HttpPlugin {
  const tokens = new TokenHashes<true>();
  if (o.adminToken !== undefined) tokens.add(sha256Hex(o.adminToken), true);
  let engineFor: { config: DialgateConfig; engine: DialPlanEngine } | null = null;
  const engine = (): DialPlanEngine => {
    const config = o.source.current();
    if (engineFor === null || engineFor.config !== config)
      engineFor = { config, engine: createDialPlanEngine(config) };
    return engineFor.engine;
  };
  const tenantOf = (id: string) =>
    o.source.current().tenants.find((t) => t.id.toLowerCase() === id.toLowerCase());
  const userOf = (id: string) => {
    for (const t of o.source.current().tenants) {
      const u = t.users.find((x) => x.id === id.toLowerCase());
      if (u !== undefined) return { user: u, tenant: t };
    }
    return undefined;
  };

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addHook("onRequest", async (request, reply) => {
        if (tokens.size === 0) {
          return reply
            .status(401)
            .send(apiError("unauthorized", "the admin API is off: set http.adminToken in the configuration"));
        }
        const token = bearerToken(request.headers.authorization);
        if (token === null || tokens.resolve(token) === null) {
          return reply
            .status(401)
            .header("www-authenticate", 'Bearer realm="dialgate-admin"')
            .send(
              apiError("unauthorized", "send the admin token as 'Authorization: Bearer <http.adminToken>'"),
            );
        }
      });
      const tags = ["admin"];
      const security = [...ADMIN_SECURITY];
      const idParam = (name: string) =>
        ({
          type: "object",
          additionalProperties: false,
          required: [name],
          properties: { [name]: { type: "string", minLength: 1, maxLength: 256 } },
        }) as const;

      scope.post(
        "/v1/admin/dialplan/test",
        {
          schema: {
            tags,
            security,
            summary:
              "What `dialgate dialplan test --json` prints: the number through the user's effective dial plan",
            body: testBody,
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const { user, number } = request.body as { user: string; number: string };
          const r = dialPlanTest(engine(), user, number);
          if (!r.ok) {
            const status = r.error.code === "unknown_user" ? 404 : 400;
            return reply.status(status).send(apiError(r.error.code, r.error.message));
          }
          return r.value;
        },
      );

      scope.post(
        "/v1/admin/route/test",
        {
          schema: {
            tags,
            security,
            summary:
              "What `dialgate route test --json` prints: the normalized number and the ordered gateway attempts",
            body: {
              ...testBody,
              properties: {
                ...testBody.properties,
                seed: {
                  type: "integer",
                  minimum: 0,
                  maximum: 9_999_999_999,
                  description: "seed of the gateway shuffle (as --seed); default 0",
                },
              },
            },
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const { user, number, seed } = request.body as { user: string; number: string; seed?: number };
          const outcome = await routeTest(o.source.current(), { user, number, seed: seed ?? 0 });
          if (!outcome.ok) {
            return reply
              .status(outcome.code === "unknown_user" ? 404 : 400)
              .send(apiError(outcome.code, outcome.message));
          }
          return outcome.report;
        },
      );

      scope.get(
        "/v1/admin/users/:userId/effective-dial-plan",
        {
          schema: {
            tags,
            security,
            summary: "What `dialgate dialplan effective --json` prints: the user's rules in evaluation order",
            params: idParam("userId"),
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const { userId } = request.params as { userId: string };
          const report = effectiveDialPlanReport(engine(), userId);
          return report ?? notFound(reply, "user");
        },
      );

      scope.get(
        "/v1/admin/tenants",
        {
          schema: {
            tags,
            security,
            summary: "Tenants (without their users)",
            response: { 200: listOf("tenants"), ...errors },
          },
        },
        async () => ({ tenants: o.source.current().tenants.map(publicTenant) }),
      );

      scope.get(
        "/v1/admin/tenants/:tenantId",
        {
          schema: {
            tags,
            security,
            summary: "One tenant: domains, dial plans, PSTN usages, voice routes and policies",
            params: idParam("tenantId"),
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const t = tenantOf((request.params as { tenantId: string }).tenantId);
          return t === undefined ? notFound(reply, "tenant") : publicTenant(t);
        },
      );

      scope.get(
        "/v1/admin/tenants/:tenantId/users",
        {
          schema: {
            tags,
            security,
            summary: "The tenant's users (digest hashes are never shown)",
            params: idParam("tenantId"),
            response: { 200: listOf("users"), ...errors },
          },
        },
        async (request, reply) => {
          const t = tenantOf((request.params as { tenantId: string }).tenantId);
          return t === undefined
            ? notFound(reply, "tenant")
            : { users: t.users.map((u) => publicUser(u, t.id)) };
        },
      );

      scope.get(
        "/v1/admin/tenants/:tenantId/routing",
        {
          schema: {
            tags,
            security,
            summary:
              "The tenant's routing objects: PSTN usages, voice routes, voice routing and emergency policies",
            params: idParam("tenantId"),
            response: {
              200: {
                type: "object",
                properties: {
                  pstnUsages: { type: "array", items: { type: "string" } },
                  voiceRoutes: { type: "array", items: anyObject },
                  voiceRoutingPolicies: { type: "array", items: anyObject },
                  emergencyCallRoutingPolicies: { type: "array", items: anyObject },
                  unassignedNumberTreatment: { type: ["object", "null"], additionalProperties: true },
                },
              },
              ...errors,
            },
          },
        },
        async (request, reply) => {
          const t = tenantOf((request.params as { tenantId: string }).tenantId);
          if (t === undefined) return notFound(reply, "tenant");
          return {
            pstnUsages: t.pstnUsages,
            voiceRoutes: t.voiceRoutes,
            voiceRoutingPolicies: t.voiceRoutingPolicies,
            emergencyCallRoutingPolicies: t.emergencyCallRoutingPolicies,
            unassignedNumberTreatment: t.unassignedNumberTreatment ?? null,
          };
        },
      );

      scope.get(
        "/v1/admin/users/:userId",
        {
          schema: {
            tags,
            security,
            summary: "One user by SIP address (digest hashes are never shown)",
            params: idParam("userId"),
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const found = userOf((request.params as { userId: string }).userId);
          return found === undefined ? notFound(reply, "user") : publicUser(found.user, found.tenant.id);
        },
      );

      scope.get(
        "/v1/admin/gateways",
        {
          schema: {
            tags,
            security,
            summary: "PSTN gateways",
            response: { 200: listOf("gateways"), ...errors },
          },
        },
        async () => ({ gateways: o.source.current().gateways }),
      );

      scope.get(
        "/v1/admin/gateways/:fqdn",
        {
          schema: {
            tags,
            security,
            summary: "One PSTN gateway by FQDN",
            params: idParam("fqdn"),
            response: { 200: anyObject, ...errors },
          },
        },
        async (request, reply) => {
          const fqdn = (request.params as { fqdn: string }).fqdn.toLowerCase();
          const g = o.source.current().gateways.find((x) => x.fqdn === fqdn);
          return g ?? notFound(reply, "gateway");
        },
      );

      scope.get(
        "/v1/admin/translation-rules",
        {
          schema: {
            tags,
            security,
            summary: "Number translation rules (referenced by gateways)",
            response: { 200: listOf("translationRules"), ...errors },
          },
        },
        async () => ({ translationRules: o.source.current().translationRules }),
      );

      scope.get(
        "/v1/admin/carriers",
        {
          schema: {
            tags,
            security,
            summary: "Carriers: numbers and webhook URL (API key hashes are not shown)",
            response: { 200: listOf("carriers"), ...errors },
          },
        },
        async () => ({
          carriers: o.source
            .current()
            .carriers.map(({ apiKeySha256, ...c }) => ({ ...c, apiKeyCount: apiKeySha256.length })),
        }),
      );
    });
  };
}

// The HTTP server (fastify): /healthz, /readyz, and whatever plugins the wiring passes in
// (metrics, carrier API, admin API). One place owns the error shape of carrier-api.md's wire
// contract — {"error": {"code", "message", "details"}} — so no route can leak a stack trace.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "../util/logger.js";
import { apiError } from "./api-error.js";
import { limitFailedAuthentication } from "./auth-failure-limit.js";
import { refuseEncodedBodies } from "./content-coding.js";
import { registerOpenApi } from "./openapi.js";
import type { Readiness } from "./readiness.js";
import { StoreUnavailableError, sendStoreUnavailable } from "./store-unavailable.js";
import { requestValidatorCompiler } from "./validation.js";

/** A route group: registers its routes (and their schemas) on the server. */
export type HttpPlugin = (app: FastifyInstance) => Promise<void> | void;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly readiness: Readiness;
  readonly plugins: readonly HttpPlugin[];
  readonly logger: Logger;
  /** Largest request body in bytes (larger: 413). */
  readonly bodyLimit?: number;
}

export interface HttpServer {
  readonly app: FastifyInstance;
  /** The bound address (port 0 in the config picks one). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

// Route modules import the error shape from here, next to the handler that enforces it.
export { type ApiErrorBody, apiError } from "./api-error.js";

/** The /readyz body: every check by name (sip, cdrLog, redis, webhookDelivery...). */
const readinessSchema = {
  type: "object",
  required: ["status", "checks"],
  properties: {
    status: { type: "string", enum: ["ready", "degraded"] },
    checks: {
      type: "object",
      additionalProperties: {
        type: "object",
        required: ["ok"],
        properties: {
          ok: { type: "boolean" },
          detail: { type: "string", description: "What is wrong, in words an operator can act on" },
        },
      },
    },
  },
} as const;

/** Longest path parameter the router accepts (fastify's default, 100, is shorter than some ids). */
const MAX_PATH_PARAM_CHARS = 1024;

const ERROR_CODES: Readonly<Record<number, string>> = {
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  429: "rate_limited",
};

export async function buildHttpApp(
  options: Omit<HttpServerOptions, "host" | "port">,
): Promise<FastifyInstance> {
  const log = options.logger.child({ component: "http" });
  const bodyLimit = options.bodyLimit ?? 8 * 1024 * 1024;
  const app = Fastify({
    logger: false,
    bodyLimit,
    // Path parameters (a CDR id, a user id) up to this length reach the routes, whose schemas
    // decide; longer ones are refused by the router (414, through frameworkErrors below).
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    // Errors the router raises before any route runs (a bad %-escape, an over-long path
    // parameter) get the contract's error shape too, not fastify's own.
    frameworkErrors: (err, _request, reply) => {
      const status = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? 414 : 400;
      const detail =
        status === 414
          ? `url: a path segment is longer than ${MAX_PATH_PARAM_CHARS} characters`
          : "url: is not a valid URL (bad percent-encoding)";
      void (reply as FastifyReply)
        .status(status)
        .send(
          apiError(status === 414 ? "uri_too_long" : "bad_request", "the request URL is invalid", [detail]),
        );
    },
  });
  // Schemas are the validation (src/api/validation.ts): unknown fields are errors (not silently
  // dropped), body types are not coerced, and every problem is reported at once with its path.
  // (Schemas shared with app.addSchema are not seen by this compiler: inline them.)
  app.setValidatorCompiler(requestValidatorCompiler());
  // Every body is JSON (carrier-api.md "Wire contract"), whatever Content-Type the client sent:
  // `curl -d` without `-H 'content-type: application/json'` sends form encoding, and a carrier
  // expects the JSON it sent to be read (or refused as JSON, with 400), not a 415. The parser is
  // fastify's own JSON parser (prototype poisoning refused).
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "string" }, app.getDefaultJsonParser("error", "error"));
  // A gzip body is refused as what it is (415), not as bad JSON (content-coding.ts).
  app.addHook("preParsing", refuseEncodedBodies);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (err.validation) {
      const details = err.validation.map((v) => {
        const params = v.params as { missingProperty?: unknown; additionalProperty?: unknown };
        const named = params.missingProperty ?? params.additionalProperty;
        const path = `${err.validationContext ?? "body"}${v.instancePath.replaceAll("/", ".")}${
          typeof named === "string" ? `.${named}` : ""
        }`;
        const message =
          typeof params.additionalProperty === "string"
            ? "is not a known field"
            : (v.message ?? "is invalid");
        return `${path}: ${message}`;
      });
      return reply.status(400).send(apiError("bad_request", "the request is invalid", details));
    }
    if (typeof err.code === "string" && err.code.startsWith("FST_ERR_CTP_")) {
      // The body could not be read as JSON (or was too large): say so, with its path.
      const detail =
        err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
          ? `body: is larger than ${bodyLimit} bytes`
          : err.code === "FST_ERR_CTP_EMPTY_JSON_BODY"
            ? "body: is empty; send a JSON object"
            : err.code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH"
              ? "body: its length is not the Content-Length"
              : "body: is not valid JSON";
      const code = status === 413 ? "too_large" : status === 415 ? "unsupported_media_type" : "bad_request";
      const message =
        status === 413 ? "the request body is too large" : "the request body is not a JSON document";
      return reply.status(status).send(apiError(code, message, [detail]));
    }
    if ((err as unknown) instanceof StoreUnavailableError) {
      // Not a bug: the store is away (a Redis blip, a full disk). The client comes back later.
      const unavailable = err as unknown as StoreUnavailableError;
      log.error({ err: unavailable.reason, url: request.url }, "a store cannot be read");
      return sendStoreUnavailable(reply, `${unavailable.what} cannot be read now; try again later`);
    }
    if (status >= 500) {
      log.error({ err: err.message, url: request.url }, "request failed");
      return reply.status(500).send(apiError("internal", "internal error"));
    }
    return reply.status(status).send(apiError(ERROR_CODES[status] ?? "bad_request", err.message));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send(apiError("not_found", "no such resource")),
  );

  // Before any route: a root hook reaches every route group's 401 (auth-failure-limit.ts).
  limitFailedAuthentication(app, { logger: log });
  await registerOpenApi(app);

  // Liveness: the process answers. Readiness: everything calls depend on is usable.
  app.get(
    "/healthz",
    { schema: { tags: ["health"], summary: "Liveness: the process answers" } },
    async () => ({
      status: "ok",
    }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: 200 when every check passes, else 503 naming it",
        response: {
          200: { description: "Every check passes", ...readinessSchema },
          503: { description: "A check fails: each check with what is degraded", ...readinessSchema },
        },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = await options.readiness.evaluate();
      return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "degraded", checks });
    },
  );

  for (const plugin of options.plugins) await plugin(app);
  return app;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = await buildHttpApp(options);
  await app.listen({ host: options.host, port: options.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : options.port;
  return { app, address: { host: options.host, port }, close: () => app.close() };
}

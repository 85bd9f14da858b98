// What a worker that does not serve HTTP has in place of the HTTP server and the carrier services:
// in a cluster only the first worker serves the carrier and admin APIs, runs webhook delivery and
// owns the durations file (single writer); the others only carry calls. Their CDRs reach the
// first worker's APIs through the Redis stream, their metrics through the primary.
import Fastify from "fastify";
import type { CarrierServices } from "../api/carrier/services.js";
import type { HttpServer } from "../api/http-server.js";

export function disabledHttpServer(): HttpServer {
  // An application that never listens: nothing is bound, port 0 says so.
  const app = Fastify();
  return { app, address: { host: "", port: 0 }, close: () => app.close() };
}

export function disabledCarrierServices(): CarrierServices {
  return {
    plugins: [],
    webhooks: {
      carriers: [],
      start: () => {},
      stop: () => Promise.resolve(),
      readiness: () => ({ ok: true }),
    },
    problem: null,
    reload: () => {},
    start: () => {},
    close: () => Promise.resolve(),
  };
}

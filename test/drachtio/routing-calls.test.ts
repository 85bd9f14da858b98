// The routing end-to-end cases (test/e2e/routing-cases.ts) against the drachtio edge: a real
// drachtio-server (test/support/drachtio-server.ts) on loopback ports, dialgate connected to it
// with drachtio-srf, SIPp calling drachtio-server's SIP port.
import { afterAll } from "vitest";
import { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { routingCallsSuite } from "../e2e/routing-cases.js";
import { DrachtioServer } from "../support/drachtio-server.js";

let server: DrachtioServer | null = null;

afterAll(async () => {
  await server?.stop();
});

routingCallsSuite({
  name: "drachtio",
  async prepare() {
    server = await DrachtioServer.start();
    return server.sipPort;
  },
  sipOverrides: () => ({ edge: "drachtio", drachtio: server?.connection }),
  async start(config, router, events) {
    const drachtio = config.sip.drachtio;
    if (drachtio === undefined) throw new Error("no sip.drachtio in the test config");
    const edge = new DrachtioEdge({ settings: config.sip, drachtio, router, events });
    await edge.start();
    return { requester: edge, stop: () => edge.stop() };
  },
});

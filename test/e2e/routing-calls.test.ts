// The routing end-to-end cases (test/e2e/routing-cases.ts) against the native edge.
import { NativeEdge } from "../../src/sip/native/native-edge.js";
import { freeUdpPort } from "../support/free-port.js";
import { routingCallsSuite } from "./routing-cases.js";

routingCallsSuite({
  name: "native",
  prepare: () => freeUdpPort(),
  sipOverrides: () => ({}),
  async start(config, router, events) {
    const edge = new NativeEdge({ settings: config.sip, router, events });
    await edge.start();
    return { requester: edge, stop: () => edge.stop() };
  },
});

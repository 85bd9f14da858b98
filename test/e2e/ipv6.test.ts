// The native edge on IPv6 loopback: it listens on ::1 and answers over UDP and TCP.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { freeSipPort } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { TestRouter } from "../support/test-router.js";

let dialgate: Dialgate | null = null;
const clients: RawSipClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await dialgate?.stop();
});

describe("IPv6", () => {
  it("listens on ::1 over UDP and TCP and answers OPTIONS addressed to itself", async () => {
    const port = await freeSipPort("::1");
    const config = dialgateConfigSchema.parse({
      sip: {
        listen: [
          { transport: "udp", host: "::1", port },
          { transport: "tcp", host: "::1", port },
        ],
        recordRouteHost: "::1",
      },
      http: { port: 0 },
      cdr: { file: join(mkdtempSync(join(tmpdir(), "dialgate-cdr-")), "cdr.jsonl") },
    });
    dialgate = await startDialgate(config, { router: new TestRouter() });
    for (const transport of ["udp", "tcp"] as const) {
      const c = await RawSipClient.open(transport, { host: "::1", port });
      clients.push(c);
      c.send(
        rawRequest("OPTIONS", `sip:[::1]:${port}`, transport).replace("127.0.0.1:@PORT@", "[::1]:@PORT@"),
      );
      const r = await c.response();
      expect(r.status).toBe(200);
      expect(r.header("Via")).toContain("[::1]");
    }
  });
});

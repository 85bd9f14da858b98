// dialgate's drachtio edge on a test drachtio-server (test/support/drachtio-server.ts): a whole
// dialgate's configuration moved onto it, or the bare edge (the B2BUA without the app around it).
// Both ping every second, so a test that restarts drachtio-server sees the connection drop soon.
import { validateConfig } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";
import { DrachtioEdge, type DrachtioEdgeOptions } from "../../src/sip/drachtio/drachtio-edge.js";
import type { DrachtioServer } from "./drachtio-server.js";

const HOST = "127.0.0.1";

/**
 * `base` with the drachtio edge on `server`'s SIP port (UDP and TCP) in place of the native
 * edge's listeners: the same routing and CDRs, so a test can run both side by side.
 */
export function onDrachtioEdge(base: DialgateConfig, server: DrachtioServer): DialgateConfig {
  return {
    ...base,
    sip: {
      ...base.sip,
      edge: "drachtio",
      listen: [
        { transport: "udp", host: HOST, port: server.sipPort },
        { transport: "tcp", host: HOST, port: server.sipPort },
      ],
      drachtio: { ...server.connection, pingIntervalSeconds: 1 },
    },
  };
}

/** A started DrachtioEdge on `server`'s UDP SIP port, record-routing as 127.0.0.1. */
export async function startDrachtioEdge(
  server: DrachtioServer,
  options: Omit<DrachtioEdgeOptions, "settings" | "drachtio">,
): Promise<DrachtioEdge> {
  const r = validateConfig({
    sip: {
      edge: "drachtio",
      listen: [{ transport: "udp", host: HOST, port: server.sipPort }],
      recordRouteHost: HOST,
      drachtio: { ...server.connection, pingIntervalSeconds: 1 },
    },
  });
  if (!r.ok || r.config.sip.drachtio === undefined) throw new Error("invalid test config");
  const edge = new DrachtioEdge({ ...options, settings: r.config.sip, drachtio: r.config.sip.drachtio });
  await edge.start();
  return edge;
}

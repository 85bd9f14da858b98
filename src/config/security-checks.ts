// Semantic checks of the SIP settings (issue #15) that the schema cannot express alone: what a
// listener or an edge needs, and that every gateway can be reached through a listener.
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";

export function validateSecuritySettings(config: DialgateConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // config.md: the drachtio edge connects to drachtio-server's admin port, so it needs one.
  if (config.sip.edge === "drachtio" && config.sip.drachtio === undefined)
    problems.push({
      path: "sip.drachtio",
      message: "sip.edge is drachtio: give drachtio-server's admin { host, port, secret }",
    });
  const tls = config.sip.tls;
  config.sip.listen.forEach((l, i) => {
    if (l.transport !== "tls") return;
    if (tls?.certFile === undefined)
      problems.push({
        path: `sip.listen[${i}].transport`,
        message: "a tls listener needs sip.tls.certFile (PEM chain, leaf first) and sip.tls.keyFile",
      });
    else if (tls.keyFile === undefined)
      problems.push({ path: "sip.tls.keyFile", message: "must be set when sip.tls.certFile is" });
  });
  if ((tls?.certFile === undefined) !== (tls?.keyFile === undefined) && tls !== undefined) {
    const missing = tls.certFile === undefined ? "certFile" : "keyFile";
    if (!problems.some((p) => p.path === `sip.tls.${missing}`))
      problems.push({
        path: `sip.tls.${missing}`,
        message: "certFile and keyFile go together (the certificate and its private key)",
      });
  }
  const workers = config.sip.workers;
  if (workers !== "auto" && workers > 1) {
    if (config.redis === undefined)
      problems.push({
        path: "sip.workers",
        message:
          'more than one worker needs a redis section: registrations, gateway capacity and CDRs are shared through it (use 1 or "auto" without Redis)',
      });
    if (config.sip.edge !== "native")
      problems.push({
        path: "sip.workers",
        message: "workers apply to the native edge; with drachtio, drachtio-server owns the SIP sockets",
      });
  }
  return problems;
}

/**
 * A request to a gateway leaves through a listener of the gateway's transport (its Via and
 * Record-Route name that listener, RFC 3261 §18.1.1): without one, every call to the gateway
 * fails with 503 "No Listener For Transport" and nothing says why. Refused here, at the gateway.
 */
export function validateGatewayTransports(config: DialgateConfig): ConfigProblem[] {
  return gatewaysWithoutListener(config).map(({ index, transport }) => ({
    path: `gateways[${index}].transport`,
    message: `needs a ${transport} entry in sip.listen (requests to this gateway leave through a ${transport} listener)`,
  }));
}

/** The gateways whose transport no listener offers (also checked on routing versions from Redis). */
export function gatewaysWithoutListener(
  config: Pick<DialgateConfig, "sip" | "gateways">,
): { index: number; fqdn: string; transport: string }[] {
  const offered = new Set(config.sip.listen.map((l) => l.transport));
  return config.gateways.flatMap((g, index) =>
    offered.has(g.transport) ? [] : [{ index, fqdn: g.fqdn, transport: g.transport }],
  );
}

// Semantic checks of the hardening settings (issue #15) that the schema cannot express alone.
import type { ConfigProblem } from "./problem.js";
import type { DialgateConfig } from "./schema.js";

export function validateSecuritySettings(config: DialgateConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
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

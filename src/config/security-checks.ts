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
  return problems;
}

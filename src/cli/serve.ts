// `dialgate serve [--config <file>]`: start the proxy on the configuration's SIP listen
// addresses, log one line when listening, and on SIGTERM/SIGINT drain (new INVITEs get 503 +
// Retry-After, calls in progress get up to sip.drainTimeoutSeconds) and exit 0.
import { parseArgs } from "node:util";
import { startDialgate } from "../app.js";
import { createRootLogger } from "../util/logger.js";
import { type CliCommand, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

export const serve: CliCommand = async (argv, io) => {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: "string" } }, strict: true });
  const file = configPath(values.config);
  const config = await loadConfigOrReport(file, io, "dialgate serve: ");
  if (config === null) return ExitCode.invalidConfig;
  // Logs go to stderr; stdout stays free for command output.
  const logger = createRootLogger({ level: process.env.DIALGATE_LOG_LEVEL ?? "info", destinationFd: 2 });
  let dialgate: Awaited<ReturnType<typeof startDialgate>>;
  try {
    dialgate = await startDialgate(config, { logger, env: process.env });
  } catch (err) {
    io.err(`dialgate serve: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const where = dialgate.listenAddresses.map((a) => `${a.transport}:${a.host}:${a.port}`).join(", ");
  const http = `http:${dialgate.http.address.host}:${dialgate.http.address.port}`;
  logger.info(
    { listen: dialgate.listenAddresses, http: dialgate.http.address, config: file },
    `dialgate listening on ${where}, ${http}`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      const drainMs = config.sip.drainTimeoutSeconds * 1000;
      logger.info(
        { signal, drainTimeoutSeconds: config.sip.drainTimeoutSeconds },
        "draining: new calls get 503",
      );
      dialgate.shutdown(drainMs).then(
        (clean) => {
          logger.info({ clean }, "stopped");
          logger.flush();
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
          resolve(ExitCode.ok);
        },
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, "shutdown failed");
          logger.flush();
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
};

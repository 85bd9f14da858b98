// `dialgate serve [--config <file>]`: start the proxy on the configuration's SIP listen
// addresses, log one line when listening, and on SIGTERM/SIGINT drain (new INVITEs get 503 +
// Retry-After, calls in progress get up to sip.drainTimeoutSeconds) and exit 0. SIGHUP re-reads
// the configuration (cli/reload.ts); --pid-file writes the pid for `dialgate reload`.
import { parseArgs } from "node:util";
import { startDialgate } from "../app.js";
import { createRootLogger } from "../util/logger.js";
import { type CliCommand, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";
import { reloadFromFile, writePidFile } from "./reload.js";

export const serve: CliCommand = async (argv, io) => {
  const { values } = parseArgs({
    args: [...argv],
    options: { config: { type: "string" }, "pid-file": { type: "string" } },
    strict: true,
  });
  const file = configPath(values.config);
  const loaded = await loadConfigOrReport(file, io, "dialgate serve: ");
  if (loaded === null) return ExitCode.invalidConfig;
  // Replaced by each successful reload (SIGHUP, `dialgate reload`: cli/reload.ts).
  let config = loaded;
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
  const removePidFile = values["pid-file"] === undefined ? () => {} : writePidFile(values["pid-file"]);
  // Reloads run one at a time, in the order asked.
  let reloading = Promise.resolve();
  const onHangUp = () => {
    reloading = reloading.then(async () => {
      config = await reloadFromFile(file, config, dialgate, logger);
    });
  };
  process.on("SIGHUP", onHangUp);

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
          process.off("SIGHUP", onHangUp);
          removePidFile();
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

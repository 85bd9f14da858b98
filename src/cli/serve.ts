// `dialgate serve [--config <file>]`: start the proxy on the configuration's SIP listen
// addresses, log one line when listening, and on SIGTERM/SIGINT drain (new INVITEs get 503 +
// Retry-After, calls in progress get up to sip.drainTimeoutSeconds) and exit 0. SIGHUP re-reads
// the configuration (cli/reload.ts); --pid-file writes the pid for `dialgate reload`.
//
// With more than one worker (`sip.workers`, src/cluster/) this process becomes the cluster
// primary: it forks the workers, which run this same command as full instances on the shared
// ports, and passes SIGHUP and SIGTERM on to them.
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { type Dialgate, startDialgate } from "../app.js";
import { ClusterSupervisor } from "../cluster/supervisor.js";
import { workerCount } from "../cluster/worker-count.js";
import { WorkerLink } from "../cluster/worker-link.js";
import { workerIdentityFromEnv } from "../cluster/worker-role.js";
import type { DialgateConfig } from "../config/schema.js";
import { createRootLogger, type Logger } from "../util/logger.js";
import { type CliCommand, type CliIo, ExitCode } from "./io.js";
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
  // Logs go to stderr; stdout stays free for command output.
  const root = createRootLogger({ level: process.env.DIALGATE_LOG_LEVEL ?? "info", destinationFd: 2 });
  const count = workerCount(loaded);
  if (cluster.isPrimary && count > 1) return runPrimary(count, loaded, file, values["pid-file"], root, io);
  const identity = cluster.isWorker ? workerIdentityFromEnv(process.env) : null;
  const link = identity === null ? undefined : new WorkerLink(identity, process);
  const logger = identity === null ? root : root.child({ worker: identity.index });
  // Replaced by each successful reload (SIGHUP, `dialgate reload`: cli/reload.ts).
  let config = loaded;
  let dialgate: Dialgate;
  try {
    dialgate = await startDialgate(config, { logger, env: process.env, ...(link ? { worker: link } : {}) });
  } catch (err) {
    io.err(`dialgate serve: cannot start: ${(err as Error).message}`);
    link?.close();
    return 1;
  }
  // The primary owns the pid file when there are workers.
  const pidFile = identity === null ? values["pid-file"] : undefined;
  const removePidFile = pidFile === undefined ? () => {} : writePidFile(pidFile);
  // Reloads run one at a time, in the order asked.
  let reloading = Promise.resolve();
  const onHangUp = () => {
    reloading = reloading.then(async () => {
      config = await reloadFromFile(file, config, dialgate, logger);
    });
  };
  process.on("SIGHUP", onHangUp);

  // The signal handlers go in before the "listening" line: a supervisor that sends SIGTERM the
  // moment it sees the proxy ready gets a drain and exit 0, never the default action's kill.
  const stopped = new Promise<number>((resolve) => {
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
  const http = `http:${dialgate.http.address.host}:${dialgate.http.address.port}`;
  if (identity === null) {
    const where = dialgate.listenAddresses.map((a) => `${a.transport}:${a.host}:${a.port}`).join(", ");
    logger.info(
      { listen: dialgate.listenAddresses, http: dialgate.http.address, config: file },
      `dialgate listening on ${where}, ${http}`,
    );
  } else {
    logger.info({ listen: dialgate.listenAddresses, http: dialgate.http.address }, "worker serving");
    process.send?.({ dg: "ready", index: identity.index });
  }
  const code = await stopped;
  // A worker's IPC channel would keep it alive after the drain.
  if (link !== undefined) {
    link.close();
    process.disconnect?.();
  }
  return code;
};

/** The cluster primary: workers up, one "listening" line, signals passed on, exit with them. */
async function runPrimary(
  count: number,
  config: DialgateConfig,
  file: string,
  pidFileOption: string | undefined,
  logger: Logger,
  io: CliIo,
): Promise<number> {
  const supervisor = new ClusterSupervisor({ count, logger });
  const stopOnSignal = () => void supervisor.stop("SIGTERM");
  // A signal during start-up stops the workers started so far.
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGINT", stopOnSignal);
  try {
    await supervisor.start();
  } catch (err) {
    io.err(`dialgate serve: cannot start: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off("SIGTERM", stopOnSignal);
    process.off("SIGINT", stopOnSignal);
  }
  const removePidFile = pidFileOption === undefined ? () => {} : writePidFile(pidFileOption);
  const onHangUp = () => {
    logger.info("reload: passing SIGHUP to the workers");
    supervisor.reload();
  };
  process.on("SIGHUP", onHangUp);
  // As for a single process: the handlers are in place before the "listening" line.
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping: the workers drain their calls");
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      void supervisor.stop("SIGTERM").then(resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  const where = config.sip.listen.map((a) => `${a.transport}:${a.host}:${a.port}`).join(", ");
  logger.info(
    {
      listen: config.sip.listen,
      http: config.http,
      workers: count,
      pids: supervisor.workerPids,
      config: file,
    },
    `dialgate listening on ${where}, http:${config.http.host}:${config.http.port} (${count} workers)`,
  );
  await stopped;
  process.off("SIGHUP", onHangUp);
  logger.info("stopped");
  logger.flush();
  removePidFile();
  return ExitCode.ok;
}

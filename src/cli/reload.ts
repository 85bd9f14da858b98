// Live reload from the command line (issue #15). The running `dialgate serve` re-reads its
// configuration file on SIGHUP; `dialgate reload` is the operator's way to send it:
//
//   dialgate serve  --config /etc/dialgate/dialgate.yaml --pid-file /run/dialgate.pid
//   dialgate reload --pid-file /run/dialgate.pid [--config /etc/dialgate/dialgate.yaml]
//
// A pid file (rather than an HTTP admin call) because a reload must work when the HTTP side is
// misconfigured too, needs no token on the command line, and is what init systems already do
// (`systemctl reload` → `kill -HUP $MAINPID`). With --config the file is validated here first,
// so the operator sees every problem at once and nothing is signalled for a broken file; the
// server validates again (the file may change in between) and keeps its configuration when the
// file is invalid. The outcome is logged by the server ("configuration reloaded" / "reload refused").
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Dialgate } from "../app.js";
import { loadConfigFile } from "../config/load.js";
import { describeProblem } from "../config/problem.js";
import type { DialgateConfig } from "../config/schema.js";
import type { Logger } from "../util/logger.js";
import { type CliCommand, ExitCode } from "./io.js";
import { loadConfigOrReport } from "./load-config.js";

export const reload: CliCommand = async (argv, io) => {
  const { values } = parseArgs({
    args: [...argv],
    options: { "pid-file": { type: "string" }, config: { type: "string" } },
    strict: true,
  });
  const pidFile = values["pid-file"];
  if (pidFile === undefined) {
    io.err("dialgate reload: --pid-file <file> is required (the file `dialgate serve --pid-file` writes)");
    return ExitCode.usage;
  }
  if (values.config !== undefined) {
    const config = await loadConfigOrReport(values.config, io, "dialgate reload: ");
    if (config === null) return ExitCode.invalidConfig;
  }
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch (err) {
    io.err(`dialgate reload: cannot read ${pidFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    io.err(`dialgate reload: ${pidFile} does not hold a process id`);
    return 1;
  }
  try {
    process.kill(pid, "SIGHUP");
  } catch (err) {
    io.err(`dialgate reload: cannot signal process ${pid}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    return 1;
  }
  io.out(`dialgate reload: asked process ${pid} to reload (see its log for the outcome)`);
  return ExitCode.ok;
};

/** Writes our pid for `dialgate reload`; returns the clean-up. */
export function writePidFile(file: string): () => void {
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}

/**
 * Re-reads `file` and applies it: an invalid file is refused with every problem logged and the
 * running configuration kept. Resolves with the configuration now in force.
 */
export async function reloadFromFile(
  file: string,
  running: DialgateConfig,
  dialgate: Dialgate,
  logger: Logger,
): Promise<DialgateConfig> {
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    logger.error(
      { config: file, problems: loaded.problems.map(describeProblem) },
      `reload refused: ${loaded.problems.length} problem(s) in ${file}; the running configuration is kept`,
    );
    return running;
  }
  const outcome = await dialgate.reload(loaded.config);
  if (!outcome.ok) {
    logger.error(
      { config: file, problems: outcome.problems.map(describeProblem) },
      `reload refused: ${outcome.problems.length} problem(s); the running configuration is kept`,
    );
    return running;
  }
  logger.info(
    { config: file, restartNeeded: outcome.restartNeeded },
    outcome.restartNeeded.length === 0
      ? "configuration reloaded"
      : `configuration reloaded; takes effect on restart only: ${outcome.restartNeeded.join(", ")}`,
  );
  return loaded.config;
}

#!/usr/bin/env -S node --max-semi-space-size=8
// The young generation is capped at 8 MiB per semi-space (Node's default is 16 MiB): a proxy's
// garbage is short-lived, so the smaller nursery costs no measurable CPU, and the default one
// added ~30 MB of RSS as soon as calls flowed (bench/README.md, held calls). `npm start` and the
// Dockerfile pass the same flag; V8 reads it only at start-up.
// The dialgate command line: `dialgate <group> <command> [options]`.
import { cdrTail } from "./cdr-tail.js";
import { configCheck } from "./config-check.js";
import { configPush } from "./config-push.js";
import { dialplanEffective, dialplanTest } from "./dialplan.js";
import { type CliCommand, ExitCode, processIo } from "./io.js";
import { reload } from "./reload.js";
import { routeTest } from "./route.js";
import { serve } from "./serve.js";

const commands: Record<string, CliCommand> = {
  "config check": configCheck,
  "config push": configPush,
  "dialplan test": dialplanTest,
  "dialplan effective": dialplanEffective,
  "route test": routeTest,
  "cdr tail": cdrTail,
  serve,
  reload,
};

const usage = `usage: dialgate <command> [options]
  serve               [--config <file>] [--pid-file <file>]   start the proxy
  reload              --pid-file <file> [--config <file>]
                                            re-read the running proxy's configuration (SIGHUP)
  config check        --config <file>       validate a configuration file
  config push         --config <file> --redis <url> [--cluster] [--dry-run]
                                            load the file's routing objects into Redis
  dialplan test       --config <file> --user <id> --number <dialled> [--json]
  dialplan effective  --config <file> --user <id> [--json]
  route test          --config <file> --user <id> --number <dialled> [--seed <n>] [--json]
  cdr tail            --config <file> [--follow] [--json] [--limit <n>]
                                            the latest CDRs of the local journal (cdr.file)`;

async function main(argv: readonly string[]): Promise<number> {
  const two = `${argv[0] ?? ""} ${argv[1] ?? ""}`;
  const command = commands[two] ? two : argv[0];
  const run = command === undefined ? undefined : commands[command];
  if (run === undefined || command === undefined) {
    processIo.err(usage);
    return argv.length === 0 || argv[0] === "--help" ? ExitCode.ok : ExitCode.usage;
  }
  try {
    return await run(argv.slice(command.split(" ").length), processIo);
  } catch (err) {
    // parseArgs throws on unknown options: that is a usage error, not a crash.
    processIo.err(`dialgate ${command}: ${(err as Error).message}`);
    return ExitCode.usage;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

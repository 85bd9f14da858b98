// What a CLI command needs from the process, injected so commands are testable in-process.
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** `config check`: the configuration is invalid. */
  invalidConfig: 1,
  /** `dialplan test` and friends: unknown user, bad input or invalid config. */
  cannotCompute: 2,
  /** `config push`: the shared store (Redis) cannot be reached or refused the write. */
  storeUnavailable: 3,
  usage: 64,
} as const;

export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<number>;

// Structured logging with pino: one root logger per process, one child per component
// (`component: "dialplan" | "sip" | "router" | ...`), and per-call children that carry the
// call's ids. Secrets are redacted by path so that a careless log call cannot leak them.
import { type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level?: string;
  /** Write to this file descriptor instead of stdout (the CLI logs to stderr). */
  readonly destinationFd?: number;
}

export function createRootLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "dialgate" },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "proxyAuthorization",
          "*.proxyAuthorization",
          "sipPasswordHa1",
          "*.sipPasswordHa1",
          "sipPasswordHa1Sha256",
          "*.sipPasswordHa1Sha256",
          "secret",
          "*.secret",
          "adminToken",
          "*.adminToken",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd: options.destinationFd ?? 1, sync: false }),
  );
}

/** A logger that discards everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}

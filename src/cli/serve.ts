// Placeholder owned by the native edge work: `serve` starts the proxy.
import type { CliCommand } from "./io.js";

export const serve: CliCommand = async (_argv, io) => {
  io.err("serve: not implemented yet");
  return 2;
};

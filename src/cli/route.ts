// Placeholder owned by the routing work: `route test`.
import type { CliCommand } from "./io.js";

export const routeTest: CliCommand = async (_argv, io) => {
  io.err("route test: not implemented yet");
  return 2;
};

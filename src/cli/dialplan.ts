// Placeholder owned by the dial plan engine work: `dialplan test` and `dialplan effective`.
import type { CliCommand } from "./io.js";

export const dialplanTest: CliCommand = async (_argv, io) => {
  io.err("dialplan test: not implemented yet");
  return 2;
};
export const dialplanEffective: CliCommand = async (_argv, io) => {
  io.err("dialplan effective: not implemented yet");
  return 2;
};

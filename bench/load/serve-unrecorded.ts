// The recorder-off side of issue #12's A/B (`BENCH_RIGS=dialgate,dialgate-unrecorded`): the
// same instance as `dialgate serve --config <file>` (one process, native edge, the CDR journal
// opened and idle, metrics on), except that the call recorder never subscribes to the call
// events, so no per-call record state is kept and no CDR is written. What the "dialgate" rig
// costs more than this one is the recorder and its journal.
import { parseArgs } from "node:util";
import { startDialgate } from "../../src/app.js";
import { loadConfigFile } from "../../src/config/load.js";
import { createRootLogger } from "../../src/util/logger.js";

const { values } = parseArgs({ options: { config: { type: "string" } }, strict: true });
if (values.config === undefined) throw new Error("serve-unrecorded: --config <file> is required");
const loaded = await loadConfigFile(values.config);
if (!loaded.ok)
  throw new Error(`serve-unrecorded: invalid configuration: ${JSON.stringify(loaded.problems)}`);
const logger = createRootLogger({ level: process.env.DIALGATE_LOG_LEVEL ?? "warn", destinationFd: 2 });
const dialgate = await startDialgate(loaded.config, { logger, env: process.env, recordCalls: false });
const stop = () => {
  void dialgate.stop().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

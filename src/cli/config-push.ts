// `dialgate config push --config <file> --redis <url> [--dry-run]`: validate the file exactly as
// `config check` does, then load its routing objects (gateways, translation rules, tenants,
// carriers) into Redis as one new version, switched in one step, and print what was added,
// changed and removed. An invalid file exits 1 without touching Redis; --dry-run prints the diff
// against what Redis holds and changes nothing.
import { parseArgs } from "node:util";
import { redisSchema } from "../config/schema.js";
import { createRedisClient, describeRedisTarget, waitForRedisReady } from "../store/redis/connection.js";
import { RedisKeys } from "../store/redis/keys.js";
import { RedisRoutingStore } from "../store/redis/routing-store.js";
import { writeRouting } from "../store/redis/routing-writer.js";
import { routingDocumentOf } from "../store/routing-document.js";
import { type CliCommand, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

export const configPush: CliCommand = async (argv, io) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      redis: { type: "string" },
      cluster: { type: "boolean", default: false },
      "key-prefix": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
    strict: true,
  });
  const file = configPath(values.config);
  const config = await loadConfigOrReport(file, io, "dialgate config push: ");
  if (config === null) return ExitCode.invalidConfig;
  // --redis names the server; everything else (TLS, credentials, key prefix, Sentinel) comes
  // from the file's own redis section when it has one, so `--redis rediss://...` still trusts
  // the file's tls.caFile and writes under its keyPrefix. Without --redis, the section alone.
  const fromFile = config.redis;
  const settingsInput =
    values.redis !== undefined
      ? {
          ...fromFile,
          url: values.redis,
          cluster: values.cluster || (fromFile?.cluster ?? false),
          ...(values["key-prefix"] !== undefined ? { keyPrefix: values["key-prefix"] } : {}),
        }
      : fromFile;
  if (settingsInput === undefined) {
    io.err("dialgate config push: give --redis <url> (or a redis section in the file)");
    return ExitCode.usage;
  }
  const parsed = redisSchema.safeParse(settingsInput);
  if (!parsed.success) {
    io.err(`dialgate config push: --redis: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    return ExitCode.usage;
  }
  const settings = parsed.data;
  const client = createRedisClient({ settings, env: process.env });
  // The client reconnects forever; a CLI should report an unreachable Redis instead.
  let lastError = "";
  client.on("error", (err: Error) => {
    lastError = err.message;
  });
  try {
    // An operator command can afford to wait: a Cluster client first fetches the slot map, then
    // connects to every master, which takes seconds on a loaded host.
    await waitForRedisReady(client, 15_000, describeRedisTarget(settings));
    const store = new RedisRoutingStore(client, new RedisKeys(settings.keyPrefix));
    const document = routingDocumentOf(config);
    const result = await writeRouting(store, () => ({ ok: true, document }), {
      dryRun: values["dry-run"],
    });
    if (!result.ok) {
      io.err(`dialgate config push: refused, ${result.problems.length} problem(s)`);
      for (const p of result.problems) io.err(`  ${p.path}: ${p.message}`);
      return ExitCode.invalidConfig;
    }
    const { diff } = result;
    for (const name of diff.added) io.out(`added    ${name}`);
    for (const name of diff.changed) io.out(`changed  ${name}`);
    for (const name of diff.removed) io.out(`removed  ${name}`);
    const counts = `${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed`;
    const target = describeRedisTarget(settings);
    if (values["dry-run"]) io.out(`dry run: ${counts}; nothing written to ${target}`);
    else if (!result.switched) io.out(`no change: ${target} already holds version ${result.version}`);
    else
      io.out(
        `pushed ${file} to ${target}: version ${result.version} (was ${result.previousVersion ?? "none"}); ${counts}`,
      );
    return ExitCode.ok;
  } catch (err) {
    io.err(
      `dialgate config push: cannot write to Redis at ${describeRedisTarget(settings)}: ${lastError || (err as Error).message}`,
    );
    return ExitCode.storeUnavailable;
  } finally {
    client.disconnect();
  }
};

// `dialgate cdr tail --config <file> [--follow] [--json] [--limit N]`: the latest CDRs of the
// local journal (`cdr.file`), oldest first, as a table or as JSON lines (one CDR per line, for
// jq); with --follow, then every CDR as it is committed, until interrupted.
//
// It opens the journal read-only while `dialgate serve` writes it: no lock, no recovery, and
// bytes after the last newline are taken as a write in progress. A late quality report is shown
// as the CDR again with the report merged and the next revision (readers: "newest wins").
import { parseArgs } from "node:util";
import { applyAmendment } from "../calls/amend.js";
import type { CallRecord } from "../calls/call-record.js";
import type { CommittedEntry } from "../calls/cdr-log.js";
import { type CdrJournal, openCdrJournal } from "../store/cdr-journal/index.js";
import { cdrTableHeader, cdrTableRow } from "./cdr-table.js";
import { type CliCommand, type CliIo, ExitCode } from "./io.js";
import { configPath, loadConfigOrReport } from "./load-config.js";

const DEFAULT_LIMIT = 20;

export const cdrTail: CliCommand = async (argv, io) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      follow: { type: "boolean", short: "f", default: false },
      json: { type: "boolean", default: false },
      limit: { type: "string", short: "n" },
    },
    strict: true,
  });
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > 100_000) {
    io.err(`dialgate cdr tail: --limit must be a whole number from 0 to 100000, not "${values.limit}"`);
    return ExitCode.usage;
  }
  const file = configPath(values.config);
  const config = await loadConfigOrReport(file, io, "dialgate cdr tail: ", { checkFiles: false });
  if (config === null) return ExitCode.invalidConfig;

  const journal = await openCdrJournal({ file: config.cdr.file, readOnly: true });
  const show = printer(journal, io, values.json);
  try {
    if (!values.json) io.out(cdrTableHeader());
    const latest = await journal.readLast(limit);
    await show(latest);
    if (!values.follow) return ExitCode.ok;
    let after = latest.at(-1)?.position ?? journal.lastPosition();
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      while (!stop.signal.aborted) {
        if (!(await journal.waitForCommit(after, { signal: stop.signal, timeoutMs: 5000 }))) continue;
        const page = await journal.readAfter(after, 1000);
        await show(page);
        after = page.at(-1)?.position ?? after;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return ExitCode.ok;
  } finally {
    await journal.close();
  }
};

function printer(journal: CdrJournal, io: CliIo, json: boolean) {
  // Records seen in this run, so an amendment is merged without searching the journal.
  const recent = new Map<string, CallRecord>();
  return async (entries: readonly CommittedEntry[]) => {
    for (const { entry } of entries) {
      let record: CallRecord | null;
      if (entry.kind === "cdr") record = entry.record;
      else {
        const base = recent.get(entry.amendment.cdrId);
        record =
          base === undefined
            ? await journal.findById(entry.amendment.cdrId)
            : applyAmendment(base, entry.amendment);
      }
      if (record === null) continue;
      recent.set(record.id, record);
      if (recent.size > 10_000) recent.delete(recent.keys().next().value as string);
      io.out(json ? JSON.stringify(record) : cdrTableRow(record));
    }
  };
}

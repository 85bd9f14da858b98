// The embedded CDR log: see journal.ts (durability, faults, recovery) and segment-files.ts (layout).
export {
  CdrJournal,
  type CdrJournalOptions,
  type CdrJournalStats,
  type CommitInfo,
  DEFAULT_SEGMENT_BYTES,
  JournalError,
  openCdrJournal,
} from "./journal.js";
export { comparePositions } from "./position.js";

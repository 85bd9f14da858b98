// Child process for the crash test: appends CDRs to the journal at `argv[2]` as fast as it can
// (many in flight, so group commits and rotations happen), and prints each id once its append
// has resolved — i.e. once the journal acknowledged it as durable. The parent SIGKILLs it.
import { openCdrJournal } from "../../../dist/src/store/cdr-journal/index.js";

const [file, segmentBytes] = process.argv.slice(2);
const journal = await openCdrJournal({ file, segmentBytes: Number(segmentBytes) });
let next = 0;
function record(id) {
  const now = new Date().toISOString();
  return {
    id,
    correlationId: `${id}@crash`,
    tenantId: null,
    userId: null,
    userPrincipalName: null,
    userDisplayName: null,
    callType: "dr_in",
    callerNumber: null,
    calleeNumber: null,
    dialedNumber: null,
    matchingRule: null,
    effectiveTenantDialPlanName: null,
    voiceRoute: null,
    pstnUsage: null,
    trunkFullyQualifiedDomainName: null,
    carrierId: null,
    carrierIds: [],
    attempts: [],
    inviteDateTime: now,
    startDateTime: now,
    failureDateTime: now,
    endDateTime: null,
    duration: 0,
    successfulCall: false,
    finalSipCode: 486,
    finalSipCodePhrase: "Busy Here",
    endedBy: "callee",
    revision: 1,
  };
}
function one() {
  const id = `k${next++}`;
  journal.append({ kind: "cdr", record: record(id) }).then(() => {
    process.stdout.write(`${id}\n`);
    one();
  });
}
for (let i = 0; i < 32; i++) one();

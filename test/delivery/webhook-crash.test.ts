// Webhook delivery across a crash, with the binary operators run: `dialgate serve` is killed with
// SIGKILL (no shutdown) while a batch is in flight, records are committed while it is down, and
// after the restart every record has been delivered at least once, each carrying its id, every
// batch signed.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/calls/call-record.js";
import { verifySignature } from "../../src/delivery/webhook/signature.js";
import { openCdrJournal } from "../../src/store/cdr-journal/index.js";
import { cdr } from "../api/support/carrier-harness.js";
import { freeSipPort, waitFor } from "../support/free-port.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const SECRET = "whsec-crash-test";

let dir: string | null = null;
let receiver: WebhookReceiver | null = null;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((resolve) => c.once("exit", resolve));
      c.kill("SIGKILL");
      await gone;
    }
  }
  await receiver?.close();
  receiver = null;
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

/** Commits records to the journal while no dialgate holds it (as calls ending would). */
async function commit(cdrFile: string, records: readonly CallRecord[]): Promise<void> {
  const journal = await openCdrJournal({ file: cdrFile });
  try {
    await Promise.all(records.map((record) => journal.append({ kind: "cdr", record })));
  } finally {
    await journal.close();
  }
}

async function serve(configFile: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [MAIN, "serve", "--config", configFile], {
    env: { ...process.env, FABRIKAM_WEBHOOK_SECRET: SECRET },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await waitFor(
    () => stderr.includes("dialgate listening on") || child.exitCode !== null,
    30_000,
    "dialgate serve to listen",
  );
  if (child.exitCode !== null) throw new Error(`dialgate serve exited: ${stderr}`);
  return { child, exited };
}

describe("webhook delivery across a SIGKILL", () => {
  it("delivers every record at least once, with its id, after dialgate is killed mid-delivery and restarted", async () => {
    dir = await mkdtemp(join(tmpdir(), "dialgate-webhook-crash-"));
    const cdrFile = join(dir, "var", "cdr.jsonl");
    const rx = await WebhookReceiver.start();
    receiver = rx;
    // The first batch (100 records, the default bound) is acknowledged; the second hangs.
    rx.behaviour = (n) => (n === 0 ? 200 : "hang");
    const before = Array.from({ length: 150 }, (_, i) => cdr([i % 5 === 4 ? "northwind" : "fabrikam"]));
    const mine = (rs: readonly CallRecord[]) => rs.filter((r) => r.carrierIds.includes("fabrikam"));
    await commit(cdrFile, before);
    const configFile = join(dir, "dialgate.yaml");
    await writeFile(
      configFile,
      `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${await freeSipPort()} }]
  recordRouteHost: 127.0.0.1
http: { host: 127.0.0.1, port: 0 }
cdr: { file: ${JSON.stringify(cdrFile)} }
carriers:
  - id: fabrikam
    name: Fabrikam
    cdrWebhook: { url: ${JSON.stringify(rx.url)}, secretEnv: FABRIKAM_WEBHOOK_SECRET }
  - { id: northwind, name: Northwind }
`,
    );

    const first = await serve(configFile);
    await waitFor(() => rx.requests.length >= 2, 30_000, "the second batch in flight");
    first.child.kill("SIGKILL");
    await first.exited;
    expect(first.child.signalCode).toBe("SIGKILL");

    // Calls end while dialgate is down; then it comes back and the receiver accepts.
    const during = Array.from({ length: 20 }, () => cdr(["fabrikam"]));
    await commit(cdrFile, during);
    rx.behaviour = () => 200;
    const again = await serve(configFile);
    const expected = [...mine(before), ...during].map((r) => r.id);
    await waitFor(
      () => {
        const acked = new Set(rx.acknowledgedIds());
        return expected.every((id) => acked.has(id));
      },
      60_000,
      "every record acknowledged after the restart",
    );
    again.child.kill("SIGTERM");
    await again.exited;

    const now = Math.floor(Date.now() / 1000);
    const sent = new Set<string>();
    for (const r of rx.requests) {
      expect(verifySignature(r.headers["dialgate-signature"] as string, r.rawBody, SECRET, now).ok).toBe(
        true,
      );
      for (const record of (JSON.parse(r.rawBody) as { records: { id?: unknown; carrierId?: unknown }[] })
        .records) {
        expect(typeof record.id).toBe("string");
        sent.add(record.id as string);
      }
    }
    // Only the carrier's own records, and none the journal does not hold.
    expect([...sent].sort()).toEqual([...expected].sort());
    // The batch that was in flight at the kill went again after the restart.
    const inFlight = (JSON.parse(rx.requests[1]?.rawBody ?? "{}") as { records: { id: string }[] }).records;
    const acknowledged = new Set(rx.acknowledgedIds());
    for (const r of inFlight) expect(acknowledged.has(r.id)).toBe(true);
  });
});

// /readyz reports the CDR journal: ready when it is writable, 503 with what is degraded when it
// is not (an unwritable location, or a full disk on a tiny tmpfs) — while SIP keeps answering.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { dialgateConfigSchema } from "../../src/config/schema.js";
import { cdrEntry } from "../store/support/cdr-fixtures.js";
import { freeSipPort } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { TestRouter } from "../support/test-router.js";

let dir: string;
let dialgate: Dialgate | null = null;
let mounted: string | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialgate-readyz-"));
});
afterEach(async () => {
  await dialgate?.stop();
  dialgate = null;
  if (mounted !== null) execFileSync("umount", [mounted]);
  mounted = null;
  await rm(dir, { recursive: true, force: true });
});

async function start(cdrFile: string): Promise<{ dialgate: Dialgate; port: number }> {
  const port = await freeSipPort();
  const config = dialgateConfigSchema.parse({
    sip: { listen: [{ transport: "udp", host: "127.0.0.1", port }], recordRouteHost: "127.0.0.1" },
    http: { port: 0 },
    cdr: { file: cdrFile },
  });
  dialgate = await startDialgate(config, { router: new TestRouter() });
  return { dialgate, port };
}

interface ReadyzBody {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function readyz(d: Dialgate): Promise<{ status: number; body: ReadyzBody }> {
  const res = await fetch(`http://127.0.0.1:${d.http.address.port}/readyz`);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  return { status: res.status, body: (await res.json()) as ReadyzBody };
}

describe("/readyz and the CDR journal", () => {
  it("is ready with a writable journal, and commits through dialgate.cdrLog", async () => {
    const { dialgate: d } = await start(join(dir, "var", "cdr.jsonl"));
    const r = await readyz(d);
    expect(r.status).toBe(200);
    expect(r.body.checks.cdrLog).toEqual({ ok: true });
    const position = await d.cdrLog.append(cdrEntry("r1"));
    expect(d.cdrLog.isValidPosition(position)).toBe(true);
    expect((await d.cdrLog.findById("r1"))?.id).toBe("r1");
  });

  it("is 503 naming the journal when its location is unwritable; SIP still answers", async () => {
    await writeFile(join(dir, "file"), "x");
    const { dialgate: d, port } = await start(join(dir, "file", "cdr.jsonl"));
    const r = await readyz(d);
    expect(r.status).toBe(503);
    expect(r.body.status).toBe("degraded");
    expect(r.body.checks.cdrLog?.ok).toBe(false);
    expect(r.body.checks.cdrLog?.detail).toMatch(/ENOTDIR|EEXIST/);
    expect(r.body.checks.sip?.ok).toBe(true);
    const c = await RawSipClient.open("udp", { host: "127.0.0.1", port });
    try {
      c.send(rawRequest("OPTIONS", `sip:127.0.0.1:${port}`, "udp"));
      expect((await c.response()).status).toBeGreaterThanOrEqual(200);
    } finally {
      c.close();
    }
  });

  it("is 503 with ENOSPC when the disk fills up, and ready again once space is freed", async () => {
    const mnt = join(dir, "mnt");
    await mkdir(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
    mounted = mnt;
    const filler = join(mnt, "filler");
    await writeFile(filler, Buffer.alloc(40 * 1024));
    const { dialgate: d } = await start(join(mnt, "cdr.jsonl"));
    expect((await readyz(d)).status).toBe(200);
    let failed = false;
    for (let i = 0; i < 10_000 && !failed; i++) {
      await d.cdrLog.append(cdrEntry(`f${i}`)).catch(() => {
        failed = true;
      });
    }
    expect(failed).toBe(true);
    const r = await readyz(d);
    expect(r.status).toBe(503);
    expect(r.body.checks.cdrLog?.detail).toMatch(/ENOSPC/);
    await rm(filler);
    await d.cdrLog.append(cdrEntry("after"));
    expect((await readyz(d)).status).toBe(200);
  });
});

// The README's admin API commands, run as written (curl in bash) against dialgate started from
// the example configuration (config/dialgate.yaml, only its ports and CDR file moved): every
// admin route of /openapi.json has a command, and every command answers 200 — so the README's
// token is the example's http.adminToken and its users, tenants and gateways exist.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { parseConfigText } from "../../src/config/load.js";
import { freeSipPort } from "../support/free-port.js";

const run = promisify(execFile);
let dir: string;
let dialgate: Dialgate;
let api: string;

beforeAll(async () => {
  const parsed = parseConfigText(await readFile("config/dialgate.yaml", "utf8"));
  if (!parsed.ok) throw new Error(`example configuration invalid: ${JSON.stringify(parsed.problems)}`);
  dir = await mkdtemp(join(tmpdir(), "dialgate-readme-admin-"));
  const port = await freeSipPort();
  const c = parsed.config;
  dialgate = await startDialgate({
    ...c,
    sip: { ...c.sip, listen: c.sip.listen.map((l) => ({ ...l, port })) },
    http: { ...c.http, port: 0 },
    cdr: { ...c.cdr, file: join(dir, "var", "cdr.jsonl") },
  });
  api = `http://127.0.0.1:${dialgate.http.address.port}`;
});

afterAll(async () => {
  await dialgate?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The shell block of the README's "Admin API" part that sets ADMIN. */
async function adminBlock(): Promise<string> {
  const readme = await readFile("README.md", "utf8");
  const section = readme.slice(readme.indexOf("### Admin API"));
  const block = /```sh\n(ADMIN=[\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("no ```sh block starting with ADMIN= under ### Admin API");
  return block;
}

describe("the README's admin API commands", () => {
  it("answer 200 for every admin route with the example configuration", async () => {
    const block = await adminBlock();
    expect(block).toContain("API=http://127.0.0.1:8080");
    // Each curl prints its status and URL instead of the body.
    const script = `curl() { command curl -sS -o /dev/null -w '%{http_code} %{url_effective}\\n' "$@"; }\n${block.replace(
      "API=http://127.0.0.1:8080",
      `API=${api}`,
    )}`;
    const { stdout } = await run("bash", ["-e", "-c", script]);
    const calls = stdout
      .trim()
      .split("\n")
      .map((line) => {
        const [status, url] = line.split(" ");
        return { status, path: new URL(url ?? "").pathname };
      });
    for (const c of calls) expect(c.status, c.path).toBe("200");

    const doc = (await (await fetch(`${api}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    const routes = Object.keys(doc.paths).filter((p) => p.startsWith("/v1/admin/"));
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of routes) {
      const pattern = new RegExp(`^${route.replace(/\{[^}]+\}/g, "[^/]+").replaceAll(".", "\\.")}$`);
      expect(
        calls.some((c) => pattern.test(c.path)),
        `a README command for ${route}`,
      ).toBe(true);
    }
  });
});

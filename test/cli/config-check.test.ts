// `dialgate config check` as operators run it: the built binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");

function check(file: string) {
  const r = spawnSync(process.execPath, [bin, "config", "check", "--config", file], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("dialgate config check", () => {
  it("exits 0 with a one-line summary for the example configuration", () => {
    const r = check(join(root, "config/dialgate.yaml"));
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(1);
    expect(r.out).toMatch(
      /valid \(1 tenant\(s\), 2 user\(s\), 2 dial plan\(s\), 3 voice route\(s\), 2 gateway\(s\)/,
    );
  });

  it("exits 1 and lists every problem with its path", () => {
    const file = join(mkdtempSync(join(tmpdir(), "dialgate-cfg-")), "bad.yaml");
    writeFileSync(
      file,
      `sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
tenants:
  - id: t
    domains: [t.example]
    dialPlans:
      global:
        normalizationRules:
          - { name: bad, pattern: '^(?(x)a|b)$' }
          - { name: worse, pattern: '^[a-z-[aeiou]]$' }
    users: [{ id: a@t.example, usageLocation: US, tenantDialPlan: Missing }]
`,
    );
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("tenants[0].users[0].tenantDialPlan: unknown dial plan 'Missing'");
    expect(r.err).toMatch(
      /tenants\[0\]\.dialPlans\.global\.normalizationRules\[1\]\.pattern: .*subtraction/i,
    );
    expect(r.err).toMatch(
      /tenants\[0\]\.dialPlans\.global\.normalizationRules\[0\]\.pattern: .*conditional/i,
    );
  });

  it("exits 1 with a clear message for a missing file", () => {
    const r = check(join(tmpdir(), "no-such-dialgate-config.yaml"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("file not found");
  });
});

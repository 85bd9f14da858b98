// `dialgate config check` as operators run it: the built binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createTestPki } from "../support/test-pki.js";

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

  it("lists the problems of every stage at once: shape, references and the TLS files", () => {
    const pki = createTestPki();
    const cert = pki.issue("proxy", ["proxy.example"]);
    const dir = mkdtempSync(join(tmpdir(), "dialgate-cfg-"));
    const file = join(dir, "three.yaml");
    writeFileSync(
      file,
      `sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }, { transport: tls, host: 127.0.0.1, port: 5061 }]
  recordRouteHost: 127.0.0.1
  flood: { threshold: -1 }
  tls: { certFile: ${cert.certFile}, keyFile: ${join(dir, "missing.key")} }
gateways:
  - { fqdn: sbc1.example, address: 127.0.0.1, enabled: true }
tenants:
  - id: t
    domains: [t.example]
    pstnUsages: [US]
    voiceRoutes:
      - { identity: r1, numberPattern: '^\\+1', priority: 1, onlinePstnUsages: [US], onlinePstnGatewayList: [sbc9.example] }
`,
    );
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("invalid configuration, 3 problem(s)");
    expect(r.err).toMatch(/^sip\.flood\.threshold: /m);
    expect(r.err).toContain(
      "tenants[0].voiceRoutes[0].onlinePstnGatewayList[0]: unknown gateway 'sbc9.example'",
    );
    expect(r.err).toContain(`sip.tls.keyFile: cannot read ${join(dir, "missing.key")}: file not found`);
  });

  it("checks the TLS files as the edge reads them: PEM, and the key of the certificate", () => {
    const pki = createTestPki();
    const cert = pki.issue("proxy", ["proxy.example"]);
    const other = pki.issue("other", ["other.example"]);
    const dir = mkdtempSync(join(tmpdir(), "dialgate-cfg-"));
    const notPem = join(dir, "ca.txt");
    writeFileSync(notPem, "not a certificate\n");
    const file = join(dir, "tls.yaml");
    writeFileSync(
      file,
      `sip:
  listen: [{ transport: tls, host: 127.0.0.1, port: 5061 }]
  recordRouteHost: 127.0.0.1
  tls: { certFile: ${cert.certFile}, keyFile: ${other.keyFile}, caFile: ${notPem} }
`,
    );
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("2 problem(s)");
    expect(r.err).toContain(`sip.tls.keyFile: ${other.keyFile} is not the private key of the certificate`);
    expect(r.err).toContain(`sip.tls.caFile: ${notPem} holds no PEM certificate`);

    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(other.keyFile, cert.keyFile).replace(notPem, pki.caFile),
    );
    expect(check(file).code).toBe(0);
  });

  it("reads the TLS files only for a tls listener: a sip.tls kept for later does not stop a UDP/TCP proxy", () => {
    const dir = mkdtempSync(join(tmpdir(), "dialgate-cfg-"));
    const file = join(dir, "later.yaml");
    const tls = `  tls: { certFile: ${join(dir, "chain.pem")}, keyFile: ${join(dir, "key.pem")}, caFile: ${join(dir, "ca.pem")} }\n`;
    const listen =
      "  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }, { transport: tcp, host: 127.0.0.1, port: 5060 }]\n";
    writeFileSync(file, `sip:\n${listen}  recordRouteHost: 127.0.0.1\n${tls}`);
    expect(check(file).code).toBe(0);
    // The same files behind a tls listener: each one that is missing is a problem.
    writeFileSync(
      file,
      `sip:\n${listen.replace("}]", "}, { transport: tls, host: 127.0.0.1, port: 5061 }]")}  recordRouteHost: 127.0.0.1\n${tls}`,
    );
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("3 problem(s)");
    expect(r.err).toContain(`sip.tls.caFile: cannot read ${join(dir, "ca.pem")}: file not found`);
  });

  it("refuses a gateway whose transport has no listener, at the gateway's path", () => {
    const file = join(mkdtempSync(join(tmpdir(), "dialgate-cfg-")), "gw.yaml");
    writeFileSync(
      file,
      `sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }, { transport: tcp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
gateways:
  - { fqdn: sbc1.example, address: 127.0.0.1, enabled: true }
  - { fqdn: sbc2.example, address: 127.0.0.1, transport: tcp, enabled: true }
  - { fqdn: sbc3.example, address: 127.0.0.1, transport: tls, enabled: true }
`,
    );
    const r = check(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("1 problem(s)");
    expect(r.err).toContain("gateways[2].transport: needs a tls entry in sip.listen");
  });

  it("exits 1 with a clear message for a missing file", () => {
    const r = check(join(tmpdir(), "no-such-dialgate-config.yaml"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("file not found");
  });
});

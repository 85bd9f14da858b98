// How many SIP workers `dialgate serve` runs, and the configurations that cannot have several.
import { describe, expect, it } from "vitest";
import { workerCount } from "../../src/cluster/worker-count.js";
import { workerCdrFile } from "../../src/cluster/worker-role.js";
import { parseConfigText } from "../../src/config/load.js";

const base = (sip: string, extra = "") => `
sip:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  recordRouteHost: 127.0.0.1
${sip}
${extra}`;
const redis = `redis: { url: "redis://127.0.0.1:6379" }`;

function load(text: string) {
  const r = parseConfigText(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

describe("sip.workers", () => {
  it('"auto" is one per core with Redis, one without (the embedded state lives in one process)', () => {
    expect(workerCount(load(base("")), 8)).toBe(1);
    expect(workerCount(load(base("", redis)), 8)).toBe(8);
    expect(workerCount(load(base("  workers: 3", redis)), 8)).toBe(3);
    expect(workerCount(load(base("  workers: 1", redis)), 8)).toBe(1);
  });

  it("refuses more than one worker without Redis, naming the setting", () => {
    const r = parseConfigText(base("  workers: 2"));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.map((p) => p.path)).toContain("sip.workers");
      expect(r.problems.find((p) => p.path === "sip.workers")?.message).toMatch(/redis/);
    }
    expect(parseConfigText(base("  workers: 0")).ok).toBe(false);
    expect(parseConfigText(base('  workers: "many"')).ok).toBe(false);
  });

  it("gives every worker but the first a journal of its own beside cdr.file", () => {
    expect(workerCdrFile("var/cdr.jsonl", 0)).toBe("var/cdr.jsonl");
    expect(workerCdrFile("var/cdr.jsonl", 2)).toBe("var/cdr-worker2.jsonl");
    expect(workerCdrFile("var/cdr", 1)).toBe("var/cdr-worker1");
  });
});

import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { lazyRequestLog } from "../../src/util/request-log.js";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe("lazyRequestLog", () => {
  it("binds the request's fields to what it logs at an enabled level", () => {
    const { logger, lines } = capture("info");
    const log = lazyRequestLog(logger, () => ({ callId: "c1", method: "INVITE" }));
    log.info({ status: 403 }, "refused");
    expect(lines).toEqual([
      expect.objectContaining({ callId: "c1", method: "INVITE", status: 403, msg: "refused" }),
    ]);
  });

  it("never builds the child (nor reads the bindings) when the level is disabled", () => {
    const { logger, lines } = capture("warn");
    let built = 0;
    const log = lazyRequestLog(logger, () => {
      built++;
      return { callId: "c2" };
    });
    log.debug({ a: 1 }, "quiet");
    log.info({ a: 2 }, "quiet too");
    expect(built).toBe(0);
    log.error({ a: 3 }, "loud");
    log.warn({ a: 4 }, "loud again");
    expect(built).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(["loud", "loud again"]);
  });
});

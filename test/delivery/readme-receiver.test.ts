// The README's webhook receiver (examples/webhook-receiver.mjs, shown verbatim in the README) run
// as its own process: it takes a freshly signed batch, refuses a replay with an old timestamp,
// a tampered body and a wrong secret, prints each record once, answers a signed body that is not
// a batch with 400 (and keeps running), and says what is missing when WEBHOOK_SECRET is not set.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/delivery/webhook/signature.js";
import { freeTcpPort, waitFor } from "../support/free-port.js";

const SECRET = "readme-secret";
let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill();
  child = null;
});

describe("the README's webhook receiver", () => {
  it("is in the README as it is in examples/", async () => {
    const readme = await readFile("README.md", "utf8");
    const code = await readFile("examples/webhook-receiver.mjs", "utf8");
    expect(readme).toContain(code.trim());
  });

  it("accepts a fresh signature, rejects a replayed old timestamp, a tampered body and another secret", async () => {
    const port = await freeTcpPort();
    let out = "";
    child = spawn(process.execPath, ["examples/webhook-receiver.mjs"], {
      env: { ...process.env, PORT: String(port), WEBHOOK_SECRET: SECRET },
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const post = (body: string, signature: string) =>
      fetch(`http://127.0.0.1:${port}/cdr`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "dialgate-signature": signature },
      }).then((r) => r.status);
    const body = JSON.stringify({
      records: [{ id: "cdr-1", callType: "dr_out", calleeNumber: "+14255550123", duration: 61 }],
    });
    const now = Math.floor(Date.now() / 1000);
    await waitFor(
      () =>
        post(body, signatureHeader(SECRET, now, body)).then(
          (s) => s === 204,
          () => false,
        ),
      20_000,
      "the receiver to answer",
    );
    expect(await post(body, signatureHeader(SECRET, now, body))).toBe(204);
    // A captured request replayed 10 minutes later: correctly signed, but too old.
    expect(await post(body, signatureHeader(SECRET, now - 600, body))).toBe(401);
    expect(await post(body.replace("61", "6100"), signatureHeader(SECRET, now, body))).toBe(401);
    expect(await post(body, signatureHeader("not-the-secret", now, body))).toBe(401);
    expect(await post(body, "garbage")).toBe(401);
    await waitFor(() => out.includes("cdr-1"), 10_000, "the record printed");
    // Sent twice and accepted twice, printed once.
    expect(out.trim().split("\n")).toEqual(["cdr-1 dr_out +14255550123 61"]);

    // Correctly signed, but not a batch: 400, and the receiver is still there for the next one.
    for (const bad of ["not json at all", "null", '{"records": "cdr-1"}', "{}"])
      expect(await post(bad, signatureHeader(SECRET, now, bad)), bad).toBe(400);
    // A sender that goes away in the middle of a body does not take the receiver down either.
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end('POST /cdr HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"rec');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    const next = JSON.stringify({
      records: [{ id: "cdr-2", callType: "dr_in", calleeNumber: "+1", duration: 0 }],
    });
    expect(await post(next, signatureHeader(SECRET, now, next))).toBe(204);
    await waitFor(() => out.includes("cdr-2"), 10_000, "the next record printed");
    expect(child?.exitCode).toBeNull();
  });

  it("exits with a clear message when WEBHOOK_SECRET is not set", async () => {
    const { WEBHOOK_SECRET: _unset, ...env } = process.env;
    const run = spawn(process.execPath, ["examples/webhook-receiver.mjs"], {
      env: { ...env, PORT: String(await freeTcpPort()) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child = run;
    let err = "";
    run.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => run.once("exit", resolve));
    expect(code).toBe(1);
    expect(err.trim()).toBe(
      "WEBHOOK_SECRET is not set: set it to the value of the variable cdrWebhook.secretEnv names",
    );
  });
});

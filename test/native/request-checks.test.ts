// What the edge answers before any transaction or routing (src/sip/native/request-checks.ts),
// for the RFC 4475 cases where a proxy has a choice to make.
import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { refuseBranch, refuseMalformed, refuseOutOfDialog } from "../../src/sip/native/request-checks.js";
import { tortureCases } from "../sip/fixtures/torture-messages.js";

function parsed(id: string) {
  const c = tortureCases.find((t) => t.id === id);
  if (c === undefined) throw new Error(`no case ${id}`);
  return parseSipMessage(c.bytes, { transport: c.transport });
}

function request(id: string): SipRequest {
  const r = parsed(id);
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error(`${id} is not a valid request`);
  return r.message;
}

describe("answers to requests that do not parse", () => {
  it("answers an unknown method whose CSeq names another with 501, as RFC 4475 §3.1.2.18 prefers", () => {
    const r = parsed("unknown-method-mismatch");
    if (r.ok) throw new Error("should not parse");
    const refusal = refuseMalformed(r.error);
    expect([refusal.status, refusal.reason]).toEqual([501, "Not Implemented"]);
    expect(refusal.headers?.find(([n]) => n === "Allow")?.[1]).toContain("INVITE");
  });

  it("answers a known method whose CSeq names another with the parser's 400 (§3.1.2.17)", () => {
    const r = parsed("cseq-method-mismatch");
    if (r.ok) throw new Error("should not parse");
    expect(refuseMalformed(r.error)).toEqual({ status: 400, reason: r.error.reason });
  });

  it("keeps the parser's status otherwise (505, 413)", () => {
    for (const [id, status] of [
      ["unknown-version", 505],
      ["oversized", 413],
    ] as const) {
      const r = parsed(id);
      if (r.ok) throw new Error("should not parse");
      expect(refuseMalformed(r.error).status).toBe(status);
    }
  });
});

describe("branches (RFC 3261 §17.2.3, RFC 4475 §3.2.1)", () => {
  it("refuses a branch that is only the magic cookie", () => {
    expect(refuseBranch(request("bare-magic-cookie-branch"))?.status).toBe(400);
  });

  it("lets an RFC 2543 request without any branch through, and any ordinary branch", () => {
    expect(refuseBranch(request("rfc2543-invite"))).toBeNull();
    expect(refuseBranch(request("valid-escapes"))).toBeNull();
  });

  it("never answers an ACK", () => {
    const c = tortureCases.find((t) => t.id === "bare-magic-cookie-branch")!;
    const ack = c.bytes.toString("latin1").replaceAll("OPTIONS", "ACK");
    const r = parseSipMessage(Buffer.from(ack, "latin1"));
    if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("ACK should parse");
    expect(refuseBranch(r.message)).toBeNull();
  });
});

describe("out-of-dialog requests the proxy does not route", () => {
  it("answers a Request-URI of an unknown scheme with 416 (RFC 4475 §3.3.2, §3.3.3)", () => {
    expect(refuseOutOfDialog(request("unknown-scheme-request-uri"), false)?.status).toBe(416);
    expect(refuseOutOfDialog(request("dotted-scheme-request-uri"), false)?.status).toBe(416);
  });

  it("answers a method made of every token character with 501 (RFC 4475 §3.1.1.2)", () => {
    expect(refuseOutOfDialog(request("every-legal-character"), false)?.status).toBe(501);
  });

  it("routes sip: Request-URIs of known methods, an RFC 2543 INVITE included", () => {
    expect(refuseOutOfDialog(request("rfc2543-invite"), false)).toBeNull();
    expect(refuseOutOfDialog(request("unknown-schemes-in-headers"), false)).toBeNull();
  });
});

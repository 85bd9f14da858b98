import { describe, expect, it } from "vitest";
import { parseSipMessage, SipRequest } from "../../src/sip/index.js";
import { chooseBestResponse, type FinalOutcome, upstreamStatus } from "../../src/sip/native/best-response.js";
import { BRANCH_PREFIX, loopHash, loopHashOfBranch } from "../../src/sip/native/loop-detection.js";
import { serverTransactionKey } from "../../src/sip/native/transaction-key.js";

const o = (status: number, seq: number, local = false): FinalOutcome => ({
  status,
  reason: String(status),
  local,
  seq,
});

describe("best response (RFC 3261 §16.7 step 6)", () => {
  it("prefers a 6xx, then the lowest class, then the first received", () => {
    expect(chooseBestResponse([o(486, 0), o(603, 1), o(302, 2)])?.status).toBe(603);
    expect(chooseBestResponse([o(503, 0), o(486, 1), o(404, 2)])?.status).toBe(486);
    expect(chooseBestResponse([o(408, 0, true), o(480, 1)])?.status).toBe(480);
    expect(chooseBestResponse([])).toBeNull();
  });

  it("turns a downstream 503 into 500 but keeps one the proxy made up", () => {
    expect(upstreamStatus(o(503, 0)).status).toBe(500);
    expect(upstreamStatus(o(503, 0, true)).status).toBe(503);
    expect(upstreamStatus(o(486, 0)).status).toBe(486);
  });
});

function request(text: string): SipRequest {
  const r = parseSipMessage(Buffer.from(text.replace(/\n/g, "\r\n")));
  if (!r.ok || !(r.message instanceof SipRequest)) throw new Error("fixture does not parse");
  return r.message;
}

const invite = (uri: string, via: string) =>
  request(`INVITE ${uri} SIP/2.0
Via: SIP/2.0/UDP ${via};branch=z9hG4bKabc
Max-Forwards: 70
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: loop@test
CSeq: 1 INVITE
Content-Length: 0

`);

describe("loop detection (RFC 3261 §16.3 step 4, RFC 5393)", () => {
  it("hashes what stays the same in a loop and changes in a spiral", () => {
    const first = invite("sip:+1@gw.example.com", "10.0.0.1:5060");
    const looped = invite("sip:+1@gw.example.com", "10.0.0.2:5060");
    const spiral = invite("sip:+2@gw.example.com", "10.0.0.1:5060");
    expect(loopHash(looped)).toBe(loopHash(first));
    expect(loopHash(spiral)).not.toBe(loopHash(first));
  });

  it("reads the hash back from our own branches only", () => {
    expect(loopHashOfBranch(`${BRANCH_PREFIX}0123abcd.x1`)).toBe("0123abcd");
    expect(loopHashOfBranch("z9hG4bKother")).toBeNull();
    expect(loopHashOfBranch(null)).toBeNull();
  });
});

describe("server transaction keys (RFC 3261 §17.2.3)", () => {
  const base = {
    method: "INVITE",
    branch: "z9hG4bK1",
    sentBy: "10.0.0.1:5060",
    requestUri: "sip:a@b",
    toTag: null,
    fromTag: "f",
    callId: "c",
    cseq: 1,
    topVia: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1",
  };

  it("matches ACK and CANCEL to the INVITE by branch and sent-by", () => {
    const k = serverTransactionKey(base);
    expect(serverTransactionKey({ ...base, method: "ACK", toTag: "t" })).toBe(k);
    expect(serverTransactionKey({ ...base, method: "CANCEL" }, "INVITE")).toBe(k);
    expect(serverTransactionKey({ ...base, method: "CANCEL" })).not.toBe(k);
    expect(serverTransactionKey({ ...base, sentBy: "10.0.0.2:5060" })).not.toBe(k);
  });

  it("falls back to RFC 2543 matching without the magic cookie", () => {
    const old = { ...base, branch: "1234", topVia: "SIP/2.0/UDP 10.0.0.1:5060;branch=1234" };
    const k = serverTransactionKey(old);
    expect(serverTransactionKey({ ...old, method: "ACK", toTag: "t" })).toBe(k);
    expect(serverTransactionKey({ ...old, cseq: 2 })).not.toBe(k);
    expect(serverTransactionKey({ ...old, callId: "other" })).not.toBe(k);
  });
});

// Completed non-INVITE requests (completed-requests.ts): a retransmission gets the final
// response again, byte for byte, for Timer J (64*T1) and at most one tick longer.
import { describe, expect, it } from "vitest";
import { CompletedRequests } from "../../src/sip/native/completed-requests.js";
import { keepBytes } from "../../src/sip/native/kept-bytes.js";
import { silentLogger } from "../../src/util/logger.js";
import { ManualTimerService } from "../support/manual-timer-service.js";

const TIMER_J = 32_000;

describe("completed non-INVITE requests", () => {
  it("answers retransmissions with the final response until Timer J, then forgets", () => {
    const timers = new ManualTimerService();
    const table = new CompletedRequests(timers, TIMER_J, silentLogger());
    const sent: Buffer[] = [];
    const upstream = { reliable: false, send: (data: Uint8Array) => sent.push(Buffer.from(data)) };
    const final = Buffer.from("SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\n\r\n", "latin1");
    table.add("bye-key", keepBytes(final), upstream);
    expect(table.size).toBe(1);
    expect(table.answerRetransmission("other-key")).toBe(false);
    expect(table.answerRetransmission("bye-key")).toBe(true);
    expect(sent.length).toBe(1);
    expect(sent[0]!.equals(final)).toBe(true);
    timers.advance(TIMER_J - 1);
    expect(table.answerRetransmission("bye-key")).toBe(true);
    timers.advance(TIMER_J / 32 + 1);
    expect(table.answerRetransmission("bye-key")).toBe(false);
    expect(table.size).toBe(0);
    expect(timers.activeCount).toBe(0);
  });
});

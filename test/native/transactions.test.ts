import { describe, expect, it } from "vitest";
import {
  InviteClientState,
  InviteClientTransaction,
} from "../../src/sip/native/invite-client-transaction.js";
import {
  InviteServerState,
  InviteServerTransaction,
} from "../../src/sip/native/invite-server-transaction.js";
import {
  NonInviteClientState,
  NonInviteClientTransaction,
} from "../../src/sip/native/non-invite-client-transaction.js";
import {
  NonInviteServerState,
  NonInviteServerTransaction,
} from "../../src/sip/native/non-invite-server-transaction.js";
import { TransactionTimers } from "../../src/sip/native/transaction-timers.js";
import type { TransactionChannel } from "../../src/sip/native/transaction-user.js";
import { ManualTimerService } from "../support/manual-timer-service.js";

const timers = new TransactionTimers({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });

class RecordingChannel implements TransactionChannel {
  readonly sent: string[] = [];
  failNext: Error | null = null;
  constructor(readonly reliable: boolean) {}
  send(data: Uint8Array, onError: (err: Error) => void): void {
    this.sent.push(Buffer.from(data).toString());
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      onError(err);
    }
  }
}

interface Res {
  status: number;
}

function clientUser() {
  const log: string[] = [];
  return {
    log,
    user: {
      onResponse: (r: Res) => log.push(`response ${r.status}`),
      onTimeout: () => log.push("timeout"),
      onTransportError: (e: Error) => log.push(`transport ${e.message}`),
      onTerminated: () => log.push("terminated"),
    },
  };
}

function inviteClient(reliable: boolean) {
  const ts = new ManualTimerService();
  const ch = new RecordingChannel(reliable);
  const u = clientUser();
  const tx = new InviteClientTransaction<Res>({
    key: "k",
    request: Buffer.from("INVITE"),
    channel: ch,
    timers,
    timerService: ts,
    user: u.user,
    buildAck: (r) => Buffer.from(`ACK ${r.status}`),
  });
  tx.start();
  return { ts, ch, log: u.log, tx };
}

describe("INVITE client transaction (RFC 3261 §17.1.1, RFC 6026)", () => {
  it("retransmits on Timer A with doubling intervals and times out on Timer B", () => {
    const { ts, ch, log, tx } = inviteClient(false);
    // Sent at 0, retransmitted at 500, 1500, 3500, 7500, 15500, 31500 ms; B fires at 32000.
    ts.advance(31_999);
    expect(ch.sent).toEqual(Array(7).fill("INVITE"));
    ts.advance(1);
    expect(log).toEqual(["timeout", "terminated"]);
    expect(tx.currentState).toBe(InviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("does not retransmit over a reliable transport but still times out", () => {
    const { ts, ch, log } = inviteClient(true);
    ts.advance(32_000);
    expect(ch.sent).toEqual(["INVITE"]);
    expect(log).toEqual(["timeout", "terminated"]);
    expect(ts.activeCount).toBe(0);
  });

  it("stops retransmitting on a provisional, then ACKs a non-2xx and absorbs its retransmissions", () => {
    const { ts, ch, log, tx } = inviteClient(false);
    tx.receiveResponse({ status: 180 });
    expect(tx.currentState).toBe(InviteClientState.Proceeding);
    expect(tx.cancellable).toBe(true);
    ts.advance(100_000);
    expect(ch.sent).toEqual(["INVITE"]);
    tx.receiveResponse({ status: 486 });
    tx.receiveResponse({ status: 486 });
    expect(ch.sent).toEqual(["INVITE", "ACK 486", "ACK 486"]);
    expect(log).toEqual(["response 180", "response 486"]);
    expect(tx.currentState).toBe(InviteClientState.Completed);
    ts.advance(timers.d(false));
    expect(tx.currentState).toBe(InviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("terminates at once after a non-2xx over a reliable transport (Timer D = 0)", () => {
    const { ts, log, tx } = inviteClient(true);
    tx.receiveResponse({ status: 503 });
    expect(log).toEqual(["response 503", "terminated"]);
    expect(tx.currentState).toBe(InviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("enters Accepted on a 2xx and passes 2xx retransmissions up until Timer M", () => {
    const { ts, ch, log, tx } = inviteClient(false);
    tx.receiveResponse({ status: 200 });
    tx.receiveResponse({ status: 200 });
    tx.receiveResponse({ status: 180 });
    expect(tx.currentState).toBe(InviteClientState.Accepted);
    expect(log).toEqual(["response 200", "response 200"]);
    expect(ch.sent).toEqual(["INVITE"]); // the ACK for a 2xx is end-to-end, not ours
    ts.advance(timers.m);
    expect(tx.currentState).toBe(InviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("reports a transport error and terminates", () => {
    const ts = new ManualTimerService();
    const ch = new RecordingChannel(false);
    ch.failNext = new Error("ECONNREFUSED");
    const u = clientUser();
    const tx = new InviteClientTransaction<Res>({
      key: "k",
      request: Buffer.from("INVITE"),
      channel: ch,
      timers,
      timerService: ts,
      user: u.user,
      buildAck: () => Buffer.from("ACK"),
    });
    tx.start();
    expect(u.log).toEqual(["transport ECONNREFUSED", "terminated"]);
    expect(ts.activeCount).toBe(0);
  });
});

describe("non-INVITE client transaction (RFC 3261 §17.1.2)", () => {
  function make(reliable: boolean, endAtFinal?: boolean) {
    const ts = new ManualTimerService();
    const ch = new RecordingChannel(reliable);
    const u = clientUser();
    const tx = new NonInviteClientTransaction<Res>({
      key: "k",
      request: Buffer.from("BYE"),
      channel: ch,
      timers,
      ...(endAtFinal === undefined ? {} : { endAtFinal }),
      timerService: ts,
      user: u.user,
    });
    tx.start();
    return { ts, ch, log: u.log, tx };
  }

  it("retransmits with Timer E capped at T2 and times out on Timer F", () => {
    const { ts, ch, log } = make(false);
    // Sent at 0, 500, 1500, 3500, then every 4000 (T2): 7500, 11500, ..., 31500.
    ts.advance(31_999);
    expect(ch.sent.length).toBe(11);
    ts.advance(1);
    expect(log).toEqual(["timeout", "terminated"]);
    expect(ts.activeCount).toBe(0);
  });

  it("retransmits every T2 in Proceeding and absorbs responses in Completed until Timer K", () => {
    const { ts, ch, log, tx } = make(false);
    tx.receiveResponse({ status: 100 });
    expect(tx.currentState).toBe(NonInviteClientState.Proceeding);
    ts.advance(500); // Timer E fires: next interval is T2
    ts.advance(4000);
    expect(ch.sent.length).toBe(3);
    tx.receiveResponse({ status: 200 });
    tx.receiveResponse({ status: 200 });
    expect(log).toEqual(["response 100", "response 200"]);
    ts.advance(timers.k(false));
    expect(tx.currentState).toBe(NonInviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("terminates at once on a final over a reliable transport (Timer K = 0)", () => {
    const { ts, log, tx } = make(true);
    tx.receiveResponse({ status: 200 });
    expect(log).toEqual(["response 200", "terminated"]);
    expect(tx.currentState).toBe(NonInviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
  });
  it("ends at its final over UDP when its owner absorbs stray responses (endAtFinal)", () => {
    const { ts, ch, log, tx } = make(false, true);
    ts.advance(500); // one retransmission on Timer E
    tx.receiveResponse({ status: 200 });
    expect(log).toEqual(["response 200", "terminated"]);
    expect(tx.currentState).toBe(NonInviteClientState.Terminated);
    expect(ts.activeCount).toBe(0);
    expect(ch.sent).toEqual(["BYE", "BYE"]);
  });
});

function serverUser() {
  const log: string[] = [];
  return {
    log,
    user: {
      onTimeout: () => log.push("timeout"),
      onTransportError: (e: Error) => log.push(`transport ${e.message}`),
      onTerminated: () => log.push("terminated"),
    },
  };
}

describe("INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)", () => {
  function make(reliable: boolean) {
    const ts = new ManualTimerService();
    const ch = new RecordingChannel(reliable);
    const u = serverUser();
    const tx = new InviteServerTransaction({ key: "k", channel: ch, timers, timerService: ts, user: u.user });
    return { ts, ch, log: u.log, tx };
  }

  it("answers INVITE retransmissions with the last provisional", () => {
    const { ch, tx } = make(false);
    tx.receiveInvite(); // nothing sent yet: absorbed
    tx.respond(100, Buffer.from("100"));
    tx.receiveInvite();
    tx.respond(180, Buffer.from("180"));
    tx.receiveInvite();
    expect(ch.sent).toEqual(["100", "100", "180", "180"]);
  });

  it("retransmits a non-2xx on Timer G until the ACK, then absorbs ACKs until Timer I", () => {
    const { ts, ch, log, tx } = make(false);
    tx.respond(486, Buffer.from("486"));
    ts.advance(500 + 1000 + 2000 + 4000 + 4000); // G: 500, 1000, 2000, 4000 (capped at T2), 4000
    expect(ch.sent.length).toBe(6);
    tx.receiveInvite();
    expect(ch.sent.length).toBe(7);
    tx.receiveAck();
    expect(tx.currentState).toBe(InviteServerState.Confirmed);
    tx.receiveAck();
    ts.advance(4000);
    expect(ch.sent.length).toBe(7);
    ts.advance(timers.i(false));
    expect(tx.currentState).toBe(InviteServerState.Terminated);
    expect(log).toEqual(["terminated"]);
    expect(ts.activeCount).toBe(0);
  });

  it("gives up on Timer H when no ACK comes", () => {
    const { ts, log, tx } = make(false);
    tx.respond(500, Buffer.from("500"));
    ts.advance(timers.h);
    expect(log).toEqual(["timeout", "terminated"]);
    expect(tx.currentState).toBe(InviteServerState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("does not retransmit over a reliable transport and ends at once on the ACK (Timer I = 0)", () => {
    const { ts, ch, tx } = make(true);
    tx.respond(404, Buffer.from("404"));
    ts.advance(10_000);
    expect(ch.sent).toEqual(["404"]);
    tx.receiveAck();
    expect(tx.currentState).toBe(InviteServerState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("moves to Accepted on a 2xx, absorbs INVITEs, lets further 2xx through until Timer L", () => {
    const { ts, ch, tx } = make(false);
    tx.respond(180, Buffer.from("180"));
    expect(tx.respond(200, Buffer.from("200"))).toBe(true);
    expect(tx.currentState).toBe(InviteServerState.Accepted);
    tx.receiveInvite();
    expect(tx.respond(200, Buffer.from("200 again"))).toBe(true);
    expect(tx.respond(486, Buffer.from("486"))).toBe(false);
    expect(ch.sent).toEqual(["180", "200", "200 again"]);
    ts.advance(timers.l);
    expect(tx.currentState).toBe(InviteServerState.Terminated);
    expect(ts.activeCount).toBe(0);
  });
});

describe("non-INVITE server transaction (RFC 3261 §17.2.2)", () => {
  function make(reliable: boolean, handOverCompleted?: (response: string) => void) {
    const ts = new ManualTimerService();
    const ch = new RecordingChannel(reliable);
    const u = serverUser();
    const tx = new NonInviteServerTransaction({
      key: "k",
      channel: ch,
      timers,
      timerService: ts,
      user: u.user,
      ...(handOverCompleted === undefined ? {} : { handOverCompleted }),
    });
    return { ts, ch, log: u.log, tx };
  }

  it("hands Completed over (Timer J elsewhere) and ends at once, over UDP only", () => {
    for (const reliable of [false, true]) {
      const handedOver: string[] = [];
      const { ts, log, tx } = make(reliable, (response) => handedOver.push(response));
      tx.respond(200, Buffer.from("SIP/2.0 200 Très bien", "utf8"));
      expect(tx.currentState).toBe(NonInviteServerState.Terminated);
      expect(log).toEqual(["terminated"]);
      expect(ts.activeCount).toBe(0);
      // Over TCP there is no Timer J: nothing to hand over.
      expect(handedOver.length).toBe(reliable ? 0 : 1);
      if (!reliable)
        expect(Buffer.from(handedOver[0]!, "latin1").toString("utf8")).toBe("SIP/2.0 200 Très bien");
    }
  });

  it("absorbs retransmissions in Trying, answers them in Proceeding and Completed, ends on Timer J", () => {
    const { ts, ch, tx } = make(false);
    tx.receiveRequest();
    expect(ch.sent).toEqual([]);
    tx.respond(100, Buffer.from("100"));
    tx.receiveRequest();
    tx.respond(200, Buffer.from("200"));
    tx.receiveRequest();
    expect(ch.sent).toEqual(["100", "100", "200", "200"]);
    expect(tx.respond(200, Buffer.from("again"))).toBe(false);
    ts.advance(timers.j(false) - 1);
    expect(tx.currentState).toBe(NonInviteServerState.Completed);
    ts.advance(1);
    expect(tx.currentState).toBe(NonInviteServerState.Terminated);
    expect(ts.activeCount).toBe(0);
  });

  it("terminates at once over a reliable transport (Timer J = 0)", () => {
    const { ts, tx, log } = make(true);
    tx.respond(200, Buffer.from("200"));
    expect(tx.currentState).toBe(NonInviteServerState.Terminated);
    expect(log).toEqual(["terminated"]);
    expect(ts.activeCount).toBe(0);
  });
});

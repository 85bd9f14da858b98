// A call settled by a 2xx keeps only what later 2xx need: RFC 6026 keeps the INVITE's
// transactions 64*T1, and the edge keeps them as a compact Accepted window entry
// (accepted-window.ts) instead of the whole call. A retransmitted 200 from the gateway still
// reaches the caller with the From and To the caller sent, although the router rewrote both
// toward the gateway; a retransmitted INVITE is absorbed, a late CANCEL gets its 200 and
// cancels nothing, and the entry expires after 64*T1.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/free-port.js";
import { RawSipClient, rawRequest } from "../support/raw-sip-client.js";
import { killAllSipp, SippProcess } from "../support/sipp.js";
import { startTestProxy } from "../support/test-proxy.js";
import { forward, loopbackTarget, serialSteps, TestRouter } from "../support/test-router.js";

afterAll(killAllSipp);

/** A gateway that answers the INVITE, then sends the same 200 again before the ACK comes. */
function doubleOkScenario(): string {
  const ok = `
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]gw[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:gw@[local_ip]:[local_port]>
      Content-Length: 0
`;
  const file = join(mkdtempSync(join(tmpdir(), "dialgate-settled-")), "uas-double-ok.xml");
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="answers twice">
  <recv request="INVITE"/>
  <send><![CDATA[${ok}]]></send>
  <pause milliseconds="200"/>
  <send><![CDATA[${ok}]]></send>
  <recv request="ACK"/>
  <timewait milliseconds="500"/>
</scenario>`,
  );
  return file;
}

describe("a call settled by a 2xx", () => {
  it("relays a retransmitted 200 with the caller's own From and To", async () => {
    const uas = await SippProcess.start({ scenario: doubleOkScenario() });
    const target = {
      ...loopbackTarget(uas.port),
      headerEdits: { from: "<sip:+14255550100@trunk.example>", toUri: "sip:+14255550123@trunk.example" },
    };
    const router = new TestRouter(() => forward(serialSteps([target])));
    // T1 = 50 ms: the Accepted window (64*T1) lasts 3.2 s.
    const proxy = await startTestProxy({ router, timers: { t1Ms: 50 } });
    const caller = await RawSipClient.open("udp", proxy);
    try {
      const uri = `sip:+14255550123@127.0.0.1:${proxy.port}`;
      caller.send(rawRequest("INVITE", uri, "udp", { branch: "z9hG4bKsettled1", callId: "settled@test" }));
      await waitFor(() => caller.received.filter((r) => r.status === 200).length === 2, 10_000, "two 200s");
      const oks = caller.received.filter((r) => r.status === 200);
      // The ACK for the 2xx goes end to end, along the Record-Route (the proxy forwards it).
      const rr = oks[0]?.header("Record-Route") ?? "";
      const to = oks[0]?.header("To") ?? "";
      caller.send(
        [
          `ACK sip:gw@127.0.0.1:${uas.port} SIP/2.0`,
          "Via: SIP/2.0/UDP 127.0.0.1:@PORT@;branch=z9hG4bKsettledack;rport",
          "Max-Forwards: 70",
          `Route: ${rr}`,
          "From: <sip:tester@127.0.0.1>;tag=raw1",
          `To: ${to}`,
          "Call-ID: settled@test",
          "CSeq: 1 ACK",
          "Content-Length: 0",
          "",
          "",
        ].join("\r\n"),
      );
      for (const ok of oks) {
        expect(ok.header("From")).toBe("<sip:tester@127.0.0.1>;tag=raw1");
        expect(ok.header("To")?.startsWith(`<${uri}>;tag=`)).toBe(true);
        expect(ok.header("Call-ID")).toBe("settled@test");
      }
      // The call itself is over; its two transactions wait in the Accepted window.
      const inWindow = proxy.dialgate.stats;
      expect(inWindow.calls).toBe(0);
      expect(inWindow.serverTransactions).toBeGreaterThanOrEqual(1);
      expect(inWindow.clientTransactions).toBe(1);
      // A retransmitted INVITE is absorbed (RFC 6026 §7.1), a CANCEL gets 200 and cancels nothing.
      const seenBefore = caller.received.length;
      caller.send(rawRequest("INVITE", uri, "udp", { branch: "z9hG4bKsettled1", callId: "settled@test" }));
      caller.send(rawRequest("CANCEL", uri, "udp", { branch: "z9hG4bKsettled1", callId: "settled@test" }));
      const answersTo = (method: string) =>
        caller.received.filter((r) => r.header("CSeq")?.endsWith(` ${method}`));
      await waitFor(() => answersTo("CANCEL").length > 0, 5_000, "the CANCEL's answer");
      const later = caller.received.slice(seenBefore);
      expect(later.map((r) => `${r.status} ${r.header("CSeq")}`)).toEqual(["200 1 CANCEL"]);
      // What the gateway saw was rewritten (so the caller's view was restored, not passed through),
      // and it got one INVITE and no CANCEL.
      await new Promise((r) => setTimeout(r, 300));
      const gw = await uas.kill();
      const invites = gw.messages.filter((m) => m.direction === "received" && m.method === "INVITE");
      expect(invites).toHaveLength(1);
      expect(invites[0]?.header("From")[0]).toMatch(/^<sip:\+14255550100@trunk\.example>;tag=raw1$/);
      expect(gw.messages.some((m) => m.direction === "received" && m.method === "CANCEL")).toBe(false);
      // The window lets its entry go after 64*T1 (3.2 s here), with its sweep timer.
      await proxy.settled(10_000);
    } finally {
      caller.close();
      await proxy.stop();
    }
  });
});

describe("a completed non-INVITE request", () => {
  it("answers a retransmission with the same final response for Timer J, without asking the router again", async () => {
    const router = new TestRouter();
    // T1 = 50 ms: Timer J (64*T1) lasts 3.2 s.
    const proxy = await startTestProxy({ router, transports: ["udp"], timers: { t1Ms: 50 } });
    const client = await RawSipClient.open("udp", proxy);
    try {
      const options = rawRequest("OPTIONS", `sip:127.0.0.1:${proxy.port}`, "udp", {
        branch: "z9hG4bKcompleted1",
        callId: "completed@test",
      });
      client.send(options);
      await waitFor(() => client.received.length === 1, 5_000, "the 200");
      // The transaction has handed Completed over (completed-requests.ts) and still counts.
      expect(proxy.dialgate.stats.serverTransactions).toBe(1);
      client.send(options);
      await waitFor(() => client.received.length === 2, 5_000, "the 200 again");
      const [first, again] = client.received;
      expect(first?.status).toBe(200);
      expect(again?.text).toBe(first?.text);
      expect(router.requests.filter((r) => r.method === "OPTIONS")).toHaveLength(1);
      // After Timer J the entry is gone.
      await proxy.settled(10_000);
    } finally {
      client.close();
      await proxy.stop();
    }
  });
});

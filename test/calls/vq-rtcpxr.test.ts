// RFC 6035 vq-rtcpxr bodies and the PUBLISH answers (200 / 415 / 489 / 400).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { QualityMetrics } from "../../src/calls/call-record.js";
import { type PublishedReport, VqRtcpxrCollector } from "../../src/calls/quality-reports.js";
import { parseVqRtcpxr } from "../../src/calls/vq-rtcpxr.js";
import { silentLogger } from "../../src/util/logger.js";
import { SESSION_REPORT } from "../support/vq-reports.js";

describe("vq-rtcpxr parser", () => {
  it("reads the identities and normalizes LocalMetrics (NLR % → rate, RTD, IAJ, MOS-LQ, codec)", () => {
    const r = parseVqRtcpxr(SESSION_REPORT);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.report).toMatchObject({
      type: "VQSessionReport",
      callId: "6dg37f1890463@10.0.0.9",
      localId: "Alice <sip:alice@contoso.com>",
      origId: "Alice <sip:alice@contoso.com>",
    });
    expect(r.report.local).toMatchObject({
      reporter: "Alice <sip:alice@contoso.com>",
      source: "vq-rtcpxr",
      packetLossRate: 0.05,
      roundTripMs: 200,
      jitterMs: 2,
      mosLq: 4.1,
      codec: "G729",
    });
    // RemoteMetrics do not leak into the reporter's own view.
    expect(r.report.local.raw?.["packetloss.JDR"]).toBe("2.0");
    expect(r.report.local.raw?.["qualityest.MOSCQ"]).toBe("4.0");
  });

  it("refuses what is not a report: wrong first line, no CallID, no LocalID, no LocalMetrics, junk lines", () => {
    const without = (name: string) =>
      SESSION_REPORT.split("\r\n")
        .filter((l) => !l.startsWith(name))
        .join("\r\n");
    expect(parseVqRtcpxr("hello")).toMatchObject({ ok: false });
    expect(parseVqRtcpxr("")).toMatchObject({ ok: false, error: "empty body" });
    expect(parseVqRtcpxr(without("CallID"))).toMatchObject({ ok: false, error: "CallID is missing" });
    expect(parseVqRtcpxr(without("LocalID"))).toMatchObject({ ok: false, error: "LocalID is missing" });
    expect(parseVqRtcpxr("VQSessionReport\r\nCallID: x\r\nLocalID: y\r\n")).toMatchObject({
      ok: false,
      error: "LocalMetrics is missing or empty",
    });
    expect(parseVqRtcpxr(`${SESSION_REPORT}this line has no colon\r\n`)).toMatchObject({ ok: false });
  });

  it("ignores bad metric values instead of refusing the report", () => {
    const r = parseVqRtcpxr(SESSION_REPORT.replace("NLR=5.0", "NLR=500").replace("MOSLQ=4.1", "MOSLQ=abc"));
    expect(r.ok && r.report.local).toMatchObject({ packetLossRate: null, mosLq: null, roundTripMs: 200 });
  });

  it("never throws on any body", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (body) => {
        parseVqRtcpxr(body);
        parseVqRtcpxr(`VQSessionReport\r\nCallID: a\r\nLocalID: b\r\nLocalMetrics:\r\n${body}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe("vq-rtcpxr PUBLISH answers", () => {
  const added: [string, string, QualityMetrics][] = [];
  const collector = new VqRtcpxrCollector(
    {
      addQuality: (id, dir, m) => {
        added.push([id, dir, m]);
        return true;
      },
    },
    silentLogger(),
  );
  const publish = (p: Partial<PublishedReport>) =>
    collector.publish({
      event: "vq-rtcpxr",
      contentType: "application/vq-rtcpxr",
      body: SESSION_REPORT,
      source: { address: "127.0.0.1", port: 5070 },
      ...p,
    });

  it("200 with a SIP-ETag, and the report goes to the call; OrigID = LocalID means the caller", () => {
    const a = publish({});
    expect(a.status).toBe(200);
    expect(a.headers?.find(([n]) => n === "SIP-ETag")?.[1]).toMatch(/^[0-9a-f]{16}$/);
    expect(added.at(-1)?.slice(0, 2)).toEqual(["6dg37f1890463@10.0.0.9", "caller"]);
    publish({
      body: SESSION_REPORT.replace("LocalID: Alice <sip:alice@contoso.com>", "LocalID: <sip:gw@x>"),
    });
    expect(added.at(-1)?.[1]).toBe("callee");
  });

  it("403 for a source that is not trusted with calls", () => {
    const strict = new VqRtcpxrCollector({ addQuality: () => true }, silentLogger(), (a) => a === "10.0.0.1");
    const base = { event: "vq-rtcpxr", contentType: "application/vq-rtcpxr", body: SESSION_REPORT };
    expect(strict.publish({ ...base, source: { address: "192.0.2.7", port: 5060 } }).status).toBe(403);
    expect(strict.publish({ ...base, source: { address: "10.0.0.1", port: 5060 } }).status).toBe(200);
  });

  it("489 for another event package, 415 for another content type, 400 for a malformed body", () => {
    expect(publish({ event: "presence" })).toMatchObject({
      status: 489,
      headers: [["Allow-Events", "vq-rtcpxr"]],
    });
    expect(publish({ event: null }).status).toBe(489);
    expect(publish({ contentType: "application/sdp" })).toMatchObject({
      status: 415,
      headers: [["Accept", "application/vq-rtcpxr"]],
    });
    const bad = publish({ body: "VQSessionReport\r\nLocalID: x\r\n" });
    expect(bad.status).toBe(400);
    expect(bad.headers?.[0]?.[1]).toBe('399 dialgate "vq-rtcpxr: CallID is missing"');
    expect(publish({ event: "vq-rtcpxr;id=1", contentType: "Application/VQ-RTCPXR; charset=x" }).status).toBe(
      200,
    );
  });
});

// Call counters from call-event sequences: one outcome per call, durations of answered calls,
// digest challenges and unidentified callers kept out of the call counts, unexpected sequences
// counted as nothing.
import { describe, expect, it } from "vitest";
import type { CallEvent } from "../../src/calls/events.js";
import { CallEventBus } from "../../src/calls/events.js";
import { outcomeOfFinalStatus, statusClass } from "../../src/metrics/call-outcome.js";
import { DialgateMetrics } from "../../src/metrics/dialgate-metrics.js";
import type { CallContext, RouteTarget } from "../../src/routing/decision.js";

const context: CallContext = {
  direction: "dr_out",
  tenantId: "contoso",
  callerUserId: "alice@contoso.com",
  calleeUserId: null,
  callerNumber: "+14255550100",
  dialledNumber: "5550123",
  normalizedNumber: "+14255550123",
  gatewayFqdn: null,
};
const target: RouteTarget = {
  requestUri: "sip:+14255550123@sbc1.contoso.com;user=phone",
  destination: { host: "127.0.0.1", port: 5090, transport: "udp" },
  label: "sbc1.contoso.com",
  gateway: "sbc1.contoso.com",
};

type Ev = CallEvent extends infer E ? (E extends CallEvent ? Omit<E, "callId" | "at"> : never) : never;

function harness() {
  const bus = new CallEventBus((err) => {
    throw err;
  });
  const metrics = new DialgateMetrics();
  metrics.attachCallEvents(bus);
  const emit = (callId: string, at: number, e: Ev) => bus.emit({ ...e, callId, at } as CallEvent);
  const value = async (name: string, labels: Record<string, string> = {}) => {
    // Histograms list their _sum/_count/_bucket series under the metric's own name.
    const series = (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
      m.values.map((v) => ({ ...v, series: (v as { metricName?: string }).metricName ?? m.name })),
    );
    const v = series.find(
      (x) =>
        x.series === name &&
        Object.entries(labels).every(([k, want]) => (x.labels as Record<string, unknown>)[k] === want),
    );
    return v?.value ?? 0;
  };
  return { emit, value, metrics };
}

describe("call metrics", () => {
  it("counts an answered call once, and its duration when it ends", async () => {
    const { emit, value } = harness();
    emit("c1", 0, { type: "received", method: "INVITE", call: context });
    emit("c1", 5, { type: "attempt-sent", step: 0, target });
    emit("c1", 900, { type: "answered", step: 0, target, status: 200 });
    emit("c1", 900, { type: "answered", step: 0, target, status: 200 }); // a retransmitted 200
    expect(await value("dialgate_calls_in_progress", { direction: "dr_out" })).toBe(1);
    emit("c1", 61_900, { type: "ended", by: "caller" });
    expect(await value("dialgate_calls_started_total", { direction: "dr_out" })).toBe(1);
    expect(await value("dialgate_calls_total", { direction: "dr_out", outcome: "answered" })).toBe(1);
    expect(await value("dialgate_call_duration_seconds_sum", { direction: "dr_out" })).toBe(61);
    expect(await value("dialgate_gateway_attempts_total", { gateway: "sbc1.contoso.com" })).toBe(1);
    expect(await value("dialgate_calls_in_progress", { direction: "dr_out" })).toBe(0);
  });

  it("classifies failures and counts gateway failures by cause", async () => {
    const { emit, value } = harness();
    emit("b", 0, { type: "received", method: "INVITE", call: context });
    emit("b", 1, { type: "attempt-sent", step: 0, target });
    emit("b", 2, { type: "attempt-failed", step: 0, target, status: 486, cause: "response" });
    emit("b", 3, { type: "rejected", status: 486, reason: "Busy Here" });
    emit("t", 0, { type: "received", method: "INVITE", call: context });
    emit("t", 1, { type: "attempt-sent", step: 0, target });
    emit("t", 2, { type: "attempt-failed", step: 0, target, status: null, cause: "timeout" });
    emit("t", 3, { type: "rejected", status: 408, reason: "Request Timeout" });
    emit("x", 0, { type: "received", method: "INVITE", call: context });
    emit("x", 1, { type: "cancelled" });
    expect(await value("dialgate_calls_total", { outcome: "busy" })).toBe(1);
    expect(await value("dialgate_calls_total", { outcome: "timeout" })).toBe(1);
    expect(await value("dialgate_calls_total", { outcome: "cancelled" })).toBe(1);
    expect(
      await value("dialgate_gateway_failures_total", { gateway: "sbc1.contoso.com", cause: "timeout" }),
    ).toBe(1);
    expect(
      await value("dialgate_gateway_failures_total", { gateway: "sbc1.contoso.com", cause: "response" }),
    ).toBe(1);
  });

  it("keeps digest challenges and unidentified callers out of the call counts", async () => {
    const { emit, value } = harness();
    emit("ch", 0, { type: "received", method: "INVITE", call: null });
    emit("ch", 0, { type: "rejected", status: 407, reason: "Proxy Authentication Required" });
    emit("sc", 0, { type: "received", method: "INVITE", call: null });
    emit("sc", 0, { type: "rejected", status: 403, reason: "Forbidden" });
    expect(await value("dialgate_calls_started_total")).toBe(0);
    expect(await value("dialgate_calls_total")).toBe(0);
    expect(await value("dialgate_invites_refused_unidentified_total", { status_class: "4xx" })).toBe(1);
  });

  it("counts a forwarded call without a call context (an injected router) once it is sent", async () => {
    const { emit, value } = harness();
    emit("u", 0, { type: "received", method: "INVITE", call: null });
    emit("u", 1, { type: "attempt-sent", step: 0, target });
    emit("u", 2, { type: "rejected", status: 503, reason: "Service Unavailable" });
    expect(await value("dialgate_calls_started_total", { direction: "unknown" })).toBe(1);
    expect(await value("dialgate_calls_total", { direction: "unknown", outcome: "failed" })).toBe(1);
  });

  it("ignores events for calls it does not know, and events after the end", async () => {
    const { emit, value } = harness();
    emit("ghost", 0, { type: "ended", by: "callee" });
    emit("ghost", 0, { type: "answered", step: 0, target, status: 200 });
    emit("r", 0, { type: "received", method: "INVITE", call: context });
    emit("r", 1, { type: "rejected", status: 404, reason: "Not Found" });
    emit("r", 2, { type: "rejected", status: 404, reason: "Not Found" });
    emit("r", 3, { type: "ended", by: "caller" });
    expect(await value("dialgate_calls_total", { outcome: "rejected" })).toBe(1);
    expect(await value("dialgate_calls_total", { outcome: "answered" })).toBe(0);
  });

  it("maps final statuses to outcomes and classes", () => {
    expect([200, 486, 600, 487, 408, 504, 404, 403, 503, 603].map(outcomeOfFinalStatus)).toEqual([
      "answered",
      "busy",
      "busy",
      "cancelled",
      "timeout",
      "timeout",
      "rejected",
      "rejected",
      "failed",
      "failed",
    ]);
    expect([100, 183, 200, 302, 404, 503, 699, 42, 700].map(statusClass)).toEqual([
      "1xx",
      "1xx",
      "2xx",
      "3xx",
      "4xx",
      "5xx",
      "6xx",
      "other",
      "other",
    ]);
  });
});

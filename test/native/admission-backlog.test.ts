// Admission control reads two signals (admission-control.ts): the event loop's utilisation and,
// where the OS shows it, the bytes waiting in the UDP sockets' receive buffers. A busy loop with
// nothing waiting is a shared host, not overload: calls keep being admitted.
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import {
  AdmissionControl,
  BACKLOG_LIMIT_BYTES,
  backlogLimitFor,
  EventLoopProbe,
} from "../../src/sip/native/admission-control.js";
import { readUdpBacklog, udpReceiveBacklog } from "../../src/sip/native/udp-backlog.js";
import { UdpTransport } from "../../src/sip/native/udp-transport.js";

const settings = { enabled: true, targetUtilization: 0.95, retryAfterSeconds: 2 };

function controlWith(backlog: () => number | null) {
  const probe = { sample: () => 1, backlogBytes: backlog };
  return new AdmissionControl(settings, probe, () => 0.5);
}

function steps(control: AdmissionControl, n: number): void {
  for (let i = 0; i < n; i++) control.update();
}

describe("admission control with the UDP receive backlog", () => {
  it("admits every call while the loop is busy but nothing waits to be read", () => {
    const control = controlWith(() => 4096);
    steps(control, 50);
    expect(control.state.rejectFraction).toBe(0);
    expect(control.admit()).toBe(true);
  });

  it("sheds when the loop is busy and datagrams pile up, and stops once the queue drains", () => {
    let backlog = BACKLOG_LIMIT_BYTES * 2;
    const control = controlWith(() => backlog);
    steps(control, 50);
    expect(control.state.rejectFraction).toBeGreaterThan(0.5);
    expect(control.state.backlogBytes).toBe(BACKLOG_LIMIT_BYTES * 2);
    expect(control.admit()).toBe(false);
    backlog = 0;
    steps(control, 50);
    expect(control.state.rejectFraction).toBe(0);
  });

  it("starts shedding in the first period of a cold start whose queue is already deep", () => {
    // Idle until now (the smoothed utilisation is far below the target), then a full loop and
    // 3 MB waiting: waiting ~1.4 s for the average to catch up is what overflowed the buffer.
    const control = controlWith(() => BACKLOG_LIMIT_BYTES * 6);
    control.update();
    expect(control.state.rejectFraction).toBeGreaterThanOrEqual(0.3);
    steps(control, 2);
    expect(control.state.rejectFraction).toBeGreaterThanOrEqual(0.9);
  });

  it("waits a period when a queue just past the limit first shows, and raises one step if it stays", () => {
    // A stall (a GC pause, the host's other processes) fills the queue once; only a queue that
    // is still there a period later is the proxy falling behind.
    const control = controlWith(() => BACKLOG_LIMIT_BYTES + 1);
    control.update();
    expect(control.state.rejectFraction).toBe(0);
    control.update();
    expect(control.state.rejectFraction).toBe(0.05);
  });

  it("sheds nothing for a stall whose queue is worked off in the next period", () => {
    const queue = [0.5, 1.9, 0.3, 0.1, 0.6, 1.7, 0.2].map((x) => Math.round(BACKLOG_LIMIT_BYTES * x));
    let i = 0;
    const control = controlWith(() => queue[i++] ?? 0);
    for (let n = 0; n < queue.length; n++) {
      control.update();
      expect(control.state.rejectFraction).toBe(0);
    }
  });

  it("holds the share while a queue past the limit is already shrinking, and raises once it grows again", () => {
    // A hiccup near the maximum: the queue jumps past the limit, then is worked off over
    // several periods at the current share. Raising in each of those periods refused calls the
    // proxy was keeping up with.
    const queue = [1.5, 1.6, 1.4, 1.2, 1.1, 1.05, 1.3].map((x) => Math.round(BACKLOG_LIMIT_BYTES * x));
    let i = 0;
    const control = controlWith(() => queue[i++] ?? 0);
    control.update();
    expect(control.state.rejectFraction).toBe(0);
    control.update();
    expect(control.state.rejectFraction).toBe(0.05);
    steps(control, 4);
    expect(control.state.rejectFraction).toBe(0.05);
    control.update();
    expect(control.state.rejectFraction).toBe(0.1);
  });

  it("raises while a queue deeper than twice the limit shrinks: the buffer is too close to full", () => {
    const queue = [5, 4, 3, 2.5].map((x) => BACKLOG_LIMIT_BYTES * x);
    let i = 0;
    const control = controlWith(() => queue[i++] ?? 0);
    steps(control, 4);
    expect(control.state.rejectFraction).toBe((5 + 4 + 3 + 2) / 20);
  });

  it("does not take a queue read before an idle spell as the previous period's", () => {
    // Shedding ended with a queue past the limit last read, the loop went quiet (no reads),
    // then a burst: the stale read must not make the new queue look like one that stayed.
    let busy = 1;
    const backlog = { bytes: BACKLOG_LIMIT_BYTES * 1.2 };
    const control = new AdmissionControl(
      settings,
      { sample: () => busy, backlogBytes: () => backlog.bytes },
      () => 0.5,
    );
    steps(control, 2);
    expect(control.state.rejectFraction).toBe(0.05);
    busy = 0.2;
    steps(control, 30);
    expect(control.state.rejectFraction).toBe(0);
    expect(control.state.backlogBytes).toBe(BACKLOG_LIMIT_BYTES * 1.2);
    busy = 1;
    backlog.bytes = BACKLOG_LIMIT_BYTES * 1.8;
    control.update();
    expect(control.state.rejectFraction).toBe(0);
    control.update();
    expect(control.state.rejectFraction).toBe(0.05);
  });

  it("keeps the share a whole number of 5% steps (no 2e-16 left on /metrics)", () => {
    let backlog = BACKLOG_LIMIT_BYTES * 7;
    const control = controlWith(() => backlog);
    steps(control, 3);
    backlog = 0;
    for (let n = 0; n < 40; n++) {
      control.update();
      expect(Math.round(control.state.rejectFraction * 20) / 20).toBe(control.state.rejectFraction);
    }
    expect(control.state.rejectFraction).toBe(0);
  });

  it("comes down twice as fast when nothing waits and the loop has room: it shed too much", () => {
    let busy = 1;
    let backlog = BACKLOG_LIMIT_BYTES * 6;
    const control = new AdmissionControl(
      settings,
      { sample: () => busy, backlogBytes: () => backlog },
      () => 0.5,
    );
    steps(control, 3);
    const high = control.state.rejectFraction;
    // Still busy, queue short: one step down per period.
    backlog = BACKLOG_LIMIT_BYTES / 8;
    control.update();
    expect(control.state.rejectFraction).toBeCloseTo(high - 0.05);
    // Idle room and an empty queue: two steps.
    busy = 0.5;
    backlog = 0;
    control.update();
    expect(control.state.rejectFraction).toBeCloseTo(high - 0.15);
  });

  it("does not read the backlog while the loop is well below its target", () => {
    let reads = 0;
    const control = new AdmissionControl(
      settings,
      { sample: () => 0.3, backlogBytes: () => ++reads },
      () => 0.5,
    );
    steps(control, 50);
    expect(reads).toBe(0);
    expect(control.state.backlogBytes).toBeNull();
  });

  it("falls back to the utilisation alone where the system cannot say", () => {
    const control = controlWith(() => null);
    steps(control, 50);
    expect(control.state.rejectFraction).toBeGreaterThan(0.5);
  });
});

describe("the backlog limit and the sockets' receive buffers", () => {
  it("is 512 KiB for a large buffer and a quarter of a buffer net.core.rmem_max capped", () => {
    expect(backlogLimitFor(8 * 1024 * 1024)).toBe(BACKLOG_LIMIT_BYTES);
    // A stock Linux: rmem_max 212,992, reported doubled.
    expect(backlogLimitFor(425_984)).toBe(106_496);
    expect(backlogLimitFor(null)).toBe(BACKLOG_LIMIT_BYTES);
  });

  it("sheds on a queue a small buffer can hold, which the default limit would never see", () => {
    // 300 KB waiting in a 416 KiB buffer: past a quarter of it, far below 512 KiB.
    const probe = { sample: () => 1, backlogBytes: () => 300_000 };
    const small = new AdmissionControl(settings, probe, () => 0.5);
    small.setBacklogLimit(backlogLimitFor(425_984));
    const unsized = new AdmissionControl(settings, probe, () => 0.5);
    steps(small, 10);
    steps(unsized, 10);
    expect(small.state.rejectFraction).toBeGreaterThan(0.5);
    expect(small.state.backlogLimitBytes).toBe(106_496);
    expect(unsized.state.rejectFraction).toBe(0);
  });
});

describe("the UDP receive backlog", () => {
  it("sums rx_queue over the proxy's ports, IPv4 and IPv6, and says null for unknown ports", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
      "  12: 0100007F:13C4 00000000:0000 07 00000000:00000A00 00:00000000 00000000  1000        0 4242 2 0000000000000000 0",
      "  13: 0100007F:13C5 00000000:0000 07 00000000:00000100 00:00000000 00000000  1000        0 4243 2 0000000000000000 0",
      "  14: 00000000000000000000000001000000:13C4 00000000000000000000000000000000:0000 07 00000000:00000200 00:00000000 00000000  1000 0 4244 2 0000000000000000 0",
    ].join("\n");
    expect(udpReceiveBacklog(table, new Set([0x13c4]))).toBe(0xa00 + 0x200);
    expect(udpReceiveBacklog(table, new Set([0x13c5]))).toBe(0x100);
    expect(udpReceiveBacklog(table, new Set([5999]))).toBeNull();
  });

  it("sees datagrams a real socket has not read yet", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const port = socket.address().port;
    try {
      expect(readUdpBacklog([port])).toBe(0);
      // While this process is blocked in execFileSync, another sends 20 datagrams: they wait in
      // the kernel, unread, when the backlog is read in the same synchronous stretch.
      const sender = `const s=require("node:dgram").createSocket("udp4");let n=0;const go=()=>s.send(Buffer.alloc(600),${port},"127.0.0.1",()=>{if(++n<20)go();else s.close();});go();`;
      execFileSync(process.execPath, ["-e", sender]);
      expect(readUdpBacklog([port])).toBeGreaterThanOrEqual(20 * 600);
    } finally {
      socket.close();
    }
  });
});

describe("admission control's limit for a process that drains slowly", () => {
  // ~400 datagrams per 100 ms: a worker sharing two vCPUs with its sibling and SIPp.
  const slowReads = 400;
  const queue = 300 * 1024;

  it("sheds a queue under the fixed limit that takes the process over 30 ms to read", () => {
    const probe = { sample: () => 1, backlogBytes: () => queue, datagramsRead: () => slowReads };
    const control = new AdmissionControl(settings, probe, () => 0.5);
    steps(control, 2);
    expect(queue).toBeLessThan(BACKLOG_LIMIT_BYTES);
    expect(control.state.rejectFraction).toBeGreaterThan(0);
    // 400 datagrams of ~1.5 KB each per 100 ms: 30 ms of them.
    expect(control.state.backlogLimitBytes).toBe(Math.floor((slowReads * 1536 * 30) / 100));
  });

  it("keeps the fixed limit for a process that reads fast, and when the read count is unknown", () => {
    for (const datagramsRead of [() => 1200, () => null]) {
      const probe = { sample: () => 1, backlogBytes: () => queue, datagramsRead };
      const control = new AdmissionControl(settings, probe, () => 0.5);
      steps(control, 5);
      expect(control.state.rejectFraction).toBe(0);
      expect(control.state.backlogLimitBytes).toBe(BACKLOG_LIMIT_BYTES);
    }
  });

  it("judges a stall's queue by the usual read rate, not by the stalled period's", () => {
    // 1,200 datagrams per 100 ms, then a period with a 70 ms stall in it: 360 read, and 600 KB
    // waiting. By that period alone the limit would be 162 KB and the queue 3.7 limits deep.
    const reads = [1200, 1200, 1200, 1200, 360, 1200];
    const queue = [0, 0, 0, 0, 600 * 1024, 0];
    let i = 0;
    let j = 0;
    const probe = {
      sample: () => 1,
      backlogBytes: () => queue[j++] ?? 0,
      datagramsRead: () => reads[i++] ?? 1200,
    };
    const control = new AdmissionControl(settings, probe, () => 0.5);
    steps(control, 5);
    expect(control.state.rejectFraction).toBe(0);
    expect(control.state.backlogLimitBytes).toBeGreaterThan(300 * 1024);
    steps(control, 1);
    expect(control.state.rejectFraction).toBe(0);
  });

  it("judges a surge after an idle spell by the new rate, not by the idle spell's", () => {
    // Two seconds idle, then 1,200 datagrams per 100 ms and 300 KB waiting: the smoothed rate
    // would still be a fifth of that, a limit of ~110 KB, and the queue over two limits deep.
    let busy = 0.2;
    let reads = 0;
    let backlog = 0;
    const probe = { sample: () => busy, backlogBytes: () => backlog, datagramsRead: () => reads };
    const control = new AdmissionControl(settings, probe, () => 0.5);
    steps(control, 20);
    busy = 1;
    reads = 1200;
    backlog = 300 * 1024;
    control.update();
    expect(control.state.rejectFraction).toBe(0);
    expect(control.state.backlogLimitBytes).toBe(BACKLOG_LIMIT_BYTES);
  });

  it("counts reads afresh when a reload turns it back on, not the time it was off", () => {
    // A running count, as the UDP transport keeps: 400 datagrams per period while measured,
    // 100,000 more while admission control was off.
    let total = 0;
    let seen = 0;
    const probe = {
      sample: () => 1,
      backlogBytes: () => 0,
      datagramsRead: () => {
        const n = total - seen;
        seen = total;
        return n;
      },
    };
    const control = new AdmissionControl(settings, probe, () => 0.5);
    control.start();
    try {
      total += 400;
      control.update();
      const slowLimit = Math.floor((400 * 1536 * 30) / 100);
      expect(control.state.backlogLimitBytes).toBe(slowLimit);
      control.reconfigure({ ...settings, enabled: false });
      total += 100_000;
      control.reconfigure(settings);
      total += 400;
      control.update();
      expect(control.state.backlogLimitBytes).toBe(slowLimit);
    } finally {
      control.stop();
    }
  });

  it("never judges a few dozen datagrams a queue, even after a period with no read", () => {
    const probe = { sample: () => 1, backlogBytes: () => 60 * 1024, datagramsRead: () => 0 };
    const control = new AdmissionControl(settings, probe, () => 0.5);
    steps(control, 5);
    expect(control.state.rejectFraction).toBe(0);
  });

  it("counts the datagrams a real socket read, between two samples", async () => {
    const transport = new UdpTransport({ onMessage: () => {}, onStreamError: () => {}, onError: () => {} });
    const local = await transport.listen({ transport: "udp", host: "127.0.0.1", port: 0 });
    const probe = new EventLoopProbe(
      () => null,
      () => transport.datagramsReceived,
    );
    const sender = createSocket("udp4");
    try {
      expect(probe.datagramsRead()).toBeNull(); // the first sample has nothing to count from
      for (let i = 0; i < 5; i++) sender.send("\r\n\r\n", local.port, "127.0.0.1");
      const deadline = Date.now() + 5000;
      while (transport.datagramsReceived < 5 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expect(probe.datagramsRead()).toBe(5);
      expect(probe.datagramsRead()).toBe(0);
    } finally {
      sender.close();
      await transport.close();
    }
  });
});

describe("admission control reconfigured by a reload (sip.overload)", () => {
  it("starts when turned on while the edge is up, and stops shedding at once when turned off", async () => {
    const probe = { sample: () => 1 };
    const control = new AdmissionControl({ ...settings, enabled: false }, probe, () => 0.5, 5);
    control.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(control.state.rejectFraction).toBe(0);

    control.reconfigure({ ...settings, retryAfterSeconds: 30 });
    const deadline = Date.now() + 10_000;
    while (control.state.rejectFraction <= 0.5 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(control.state.rejectFraction).toBeGreaterThan(0.5);
    expect(control.retryAfter).toBe("30");

    control.reconfigure({ ...settings, enabled: false });
    expect(control.state.rejectFraction).toBe(0);
    expect(control.admit()).toBe(true);
    control.stop();
    // Stopped (the edge is down): turning it on again starts nothing.
    control.reconfigure(settings);
    await new Promise((r) => setTimeout(r, 50));
    expect(control.state.rejectFraction).toBe(0);
  });
});

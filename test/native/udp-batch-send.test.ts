// Batched UDP sends (src/sip/native/batched-udp-send.ts, native/udp_batch.c) on real loopback
// sockets: a turn's datagrams arrive complete, in order, from the listen port, through the
// native sendmmsg path and through dgram alike; a datagram the kernel refuses loses only itself.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import {
  BatchedUdpSender,
  SEND_AT_ONCE_AT,
  socketDescriptor,
  udpBatchModule,
} from "../../src/sip/native/batched-udp-send.js";
import { UdpTransport } from "../../src/sip/native/udp-transport.js";

const handlers = { onMessage: () => {}, onStreamError: () => {}, onError: () => {} };
const open: { close(): unknown }[] = [];

afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function receiver(
  type: "udp4" | "udp6",
  host: string,
): Promise<{ socket: Socket; got: [string, RemoteInfo][] }> {
  const socket = createSocket(type);
  const got: [string, RemoteInfo][] = [];
  socket.on("message", (m, r) => got.push([m.toString(), r]));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  open.push({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  return { socket, got };
}

async function transport(host: string, batchSends: boolean): Promise<{ udp: UdpTransport; port: number }> {
  // Load pinned at 100%: batching on from the first socket (it follows the event loop otherwise).
  const udp = new UdpTransport(handlers, { batchSends, loadForBatching: () => 1 });
  const local = await udp.listen({ transport: "udp", host, port: 0 });
  open.push(udp);
  return { udp, port: local.port };
}

/** The real native module, with the number each call sent written to `calls`. */
function countedModule(calls: number[]): ConstructorParameters<typeof BatchedUdpSender>[0] {
  const native = udpBatchModule();
  if (native === null) throw new Error("the native module is not built");
  return {
    sendBatch: (fd, items, start, count) => {
      const sent = native.sendBatch(fd, items, start, count);
      calls.push(sent);
      return sent;
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("batched UDP sends", () => {
  it("the native sendmmsg module is built and loaded here (CI builds it; nothing falls back silently)", () => {
    expect(udpBatchModule()).not.toBeNull();
  });

  for (const batchSends of [true, false]) {
    const path = batchSends ? "sendmmsg" : "dgram";
    it(`${path}: 150 datagrams of one turn arrive complete and in order, from the listen port`, async () => {
      const { udp, port } = await transport("127.0.0.1", batchSends);
      expect(udp.batchState.mode !== "off").toBe(batchSends);
      const peer = await receiver("udp4", "127.0.0.1");
      const to = { transport: "udp" as const, host: "127.0.0.1", port: peer.socket.address().port };
      // More than one native call's worth (64) in a single turn.
      for (let i = 0; i < 150; i++) udp.send(to, Buffer.from(`m${i}`), () => {});
      await until(() => peer.got.length >= 150);
      expect(peer.got.map(([m]) => m)).toEqual(Array.from({ length: 150 }, (_, i) => `m${i}`));
      expect(new Set(peer.got.map(([, r]) => r.port))).toEqual(new Set([port]));
    });

    it(`${path}: a datagram the kernel refuses (too big for UDP) is lost alone; the ones around it arrive`, async () => {
      const { udp } = await transport("127.0.0.1", batchSends);
      const peer = await receiver("udp4", "127.0.0.1");
      const to = { transport: "udp" as const, host: "127.0.0.1", port: peer.socket.address().port };
      udp.send(to, Buffer.from("before"), () => {});
      udp.send(to, Buffer.alloc(70_000, 0x61), () => {});
      udp.send(to, Buffer.from("after"), () => {});
      await until(() => peer.got.length >= 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(peer.got.map(([m]) => m)).toEqual(["before", "after"]);
    });

    it(`${path}: IPv6 destinations, from the IPv6 listen port`, async () => {
      const { udp, port } = await transport("::1", batchSends);
      const peer = await receiver("udp6", "::1");
      const to = { transport: "udp" as const, host: "::1", port: peer.socket.address().port };
      udp.send(to, Buffer.from("six"), () => {});
      udp.send(to, Buffer.from("seven"), () => {});
      await until(() => peer.got.length >= 2);
      expect(peer.got.map(([m, r]) => [m, r.address, r.port])).toEqual([
        ["six", "::1", port],
        ["seven", "::1", port],
      ]);
    });
  }

  it(`a socket's queue leaves at once at ${SEND_AT_ONCE_AT} datagrams, the rest at the turn's end, all in order`, async () => {
    const calls: number[] = [];
    const sender = new BatchedUdpSender(countedModule(calls), () => 1);
    sender.start();
    open.push({ close: () => sender.stop() });
    const peer = await receiver("udp4", "127.0.0.1");
    const from = await receiver("udp4", "127.0.0.1");
    const port = peer.socket.address().port;
    const total = 2 * SEND_AT_ONCE_AT + 8;
    for (let i = 0; i < total; i++) {
      expect(sender.enqueue(from.socket, Buffer.from(`d${i}`), port, "127.0.0.1")).toBe(true);
      // Sent inside the turn, as soon as a full batch is queued.
      if (i === SEND_AT_ONCE_AT - 2) expect(calls).toEqual([]);
      if (i === SEND_AT_ONCE_AT - 1) expect(calls).toEqual([SEND_AT_ONCE_AT]);
    }
    expect(calls).toEqual([SEND_AT_ONCE_AT, SEND_AT_ONCE_AT]);
    await until(() => peer.got.length >= total);
    expect(calls).toEqual([SEND_AT_ONCE_AT, SEND_AT_ONCE_AT, 8]);
    expect(peer.got.map(([m]) => m)).toEqual(Array.from({ length: total }, (_, i) => `d${i}`));
  });

  it("batches only under load: at once below 50% utilisation, queued from 50%, the queue leaves first when it falls below 40%", async () => {
    const calls: number[] = [];
    const load = [0.2, 0.6, 0.45, 0.3];
    const sender = new BatchedUdpSender(countedModule(calls), () => load.shift() ?? 0, 60_000);
    const peer = await receiver("udp4", "127.0.0.1");
    const from = await receiver("udp4", "127.0.0.1");
    const port = peer.socket.address().port;
    const enqueue = (m: string) => sender.enqueue(from.socket, Buffer.from(m), port, "127.0.0.1");
    sender.start(); // 20%: light
    expect(sender.active).toBe(false);
    expect(enqueue("light")).toBe(false); // the caller sends it through dgram at once
    sender.adapt(); // 60%
    expect(sender.active).toBe(true);
    expect([enqueue("a"), enqueue("b")]).toEqual([true, true]);
    sender.adapt(); // 45%: between the two thresholds, still batching
    expect(enqueue("c")).toBe(true);
    expect(calls).toEqual([]);
    sender.adapt(); // 30%: the three queued leave now, in order, before anything goes straight out
    expect(calls).toEqual([3]);
    expect(sender.active).toBe(false);
    expect(enqueue("after")).toBe(false);
    sender.stop();
    await until(() => peer.got.length >= 3);
    expect(peer.got.map(([m]) => m)).toEqual(["a", "b", "c"]);
  });

  it("closing the transport sends what the turn queued first", async () => {
    const udp = new UdpTransport(handlers, { batchSends: true, loadForBatching: () => 1 });
    await udp.listen({ transport: "udp", host: "127.0.0.1", port: 0 });
    const peer = await receiver("udp4", "127.0.0.1");
    udp.send(
      { transport: "udp", host: "127.0.0.1", port: peer.socket.address().port },
      Buffer.from("last"),
      () => {},
    );
    await udp.close();
    await until(() => peer.got.length >= 1);
    expect(peer.got.map(([m]) => m)).toEqual(["last"]);
  });

  it("the native call refuses malformed items with EINVAL and bad arguments with a TypeError, sending nothing", async () => {
    const native = udpBatchModule();
    if (native === null) throw new Error("the native module is not built");
    const peer = await receiver("udp4", "127.0.0.1");
    const sender = await receiver("udp4", "127.0.0.1");
    const fd = socketDescriptor(sender.socket);
    expect(fd).toBeGreaterThanOrEqual(0);
    const port = peer.socket.address().port;
    const EINVAL = -22;
    expect(native.sendBatch(fd, ["not bytes", port, "127.0.0.1"], 0, 1)).toBe(EINVAL);
    expect(native.sendBatch(fd, [Buffer.from("x"), 0, "127.0.0.1"], 0, 1)).toBe(EINVAL);
    expect(native.sendBatch(fd, [Buffer.from("x"), port, "example.com"], 0, 1)).toBe(EINVAL);
    expect(native.sendBatch(fd, [Buffer.from("x"), port], 0, 1)).toBe(EINVAL);
    expect(() => native.sendBatch(-1, [], 0, 0)).toThrow(TypeError);
    expect(() => native.sendBatch(fd, "items" as unknown as unknown[], 0, 1)).toThrow(TypeError);
    // A good item after a malformed one is sent by the next call, as the sender does.
    expect(
      native.sendBatch(fd, [Buffer.from("bad"), 0, "127.0.0.1", Buffer.from("ok"), port, "127.0.0.1"], 1, 1),
    ).toBe(1);
    await until(() => peer.got.length >= 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(peer.got.map(([m]) => m)).toEqual(["ok"]);
  });
});

// The kernel's socket tables (src/util/proc-net.ts), as the tests' port check reads them
// (test/support/bound-ports.ts): a real socket shows up while bound and is gone once closed,
// without the check ever binding the port; a TCP port counts only while something listens.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { portHeld, tableHolds } from "../support/bound-ports.js";
import { freeSipPort } from "../support/free-port.js";

describe("portHeld", () => {
  it("sees a bound UDP socket and a listening TCP server, and neither once closed", async () => {
    const port = await freeSipPort();
    expect(portHeld("udp", port)).toBe(false);
    const udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(port, "127.0.0.1", resolve));
    expect(portHeld("udp", port)).toBe(true);
    expect(portHeld("tcp", port)).toBe(false);
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(port, "127.0.0.1", resolve));
    expect(portHeld("tcp", port)).toBe(true);
    await new Promise<void>((resolve) => udp.close(resolve));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    expect(portHeld("udp", port)).toBe(false);
    expect(portHeld("tcp", port)).toBe(false);
  });

  it("counts only a listening TCP socket, not a connection from that port", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:3A98 0100007F:13C4 01 00000000:00000000 00:00000000 00000000     0        0 1",
    ].join("\n");
    expect(tableHolds(table, "tcp", 0x3a98)).toBe(false);
    expect(tableHolds(table, "udp", 0x3a98)).toBe(true);
    expect(tableHolds(table.replace(" 01 ", " 0A "), "tcp", 0x3a98)).toBe(true);
  });
});

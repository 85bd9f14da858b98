// The kernel's socket tables (Linux /proc/net/{udp,tcp}{,6}), one row per socket: what the
// native edge reads for its UDP receive backlog (sip/native/udp-backlog.ts), and what the tests
// read to see a process hold a port without binding it themselves.
import { readFileSync } from "node:fs";

export interface ProcNetSocket {
  /** The local port. */
  readonly port: number;
  /** The `st` column as written (hex): "07" is an unconnected UDP socket, "0A" a TCP listener. */
  readonly state: string;
  /** Bytes waiting to be read (`rx_queue`). */
  readonly rxQueue: number;
}

/** The socket rows of a table's text (the header and malformed lines are skipped). */
export function* procNetSockets(table: string): Generator<ProcNetSocket> {
  for (const line of table.split("\n")) {
    // "  sl  local_address rem_address   st tx_queue:rx_queue ..."; addresses are HEXIP:HEXPORT.
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const state = cols[3];
    const queues = cols[4];
    if (local === undefined || state === undefined || queues === undefined) continue;
    const colon = local.lastIndexOf(":");
    if (colon === -1) continue;
    const port = Number.parseInt(local.slice(colon + 1), 16);
    const rxQueue = Number.parseInt(queues.slice(queues.indexOf(":") + 1), 16);
    if (Number.isNaN(port) || Number.isNaN(rxQueue)) continue;
    yield { port, state, rxQueue };
  }
}

/** The IPv4 and IPv6 tables of a protocol, concatenated; null where none can be read. */
export function readProcNet(protocol: "udp" | "tcp"): string | null {
  let text: string | null = null;
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    try {
      text = (text ?? "") + readFileSync(file, "latin1");
    } catch {
      // Missing table (no IPv6, not Linux): the other may still answer.
    }
  }
  return text;
}

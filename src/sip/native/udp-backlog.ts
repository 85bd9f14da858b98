// How many bytes wait in the kernel's receive buffers of the proxy's UDP sockets: the queue that
// grows when the proxy falls behind (Linux: the rx_queue column of /proc/net/udp and udp6).
// Admission control (admission-control.ts) reads it to tell overload from a busy event loop.
import { readFileSync } from "node:fs";

/**
 * The sum of rx_queue over the sockets bound to one of `ports`, from /proc/net/udp{,6} text;
 * null when no line names one of them (a table from another network namespace, say).
 */
export function udpReceiveBacklog(table: string, ports: ReadonlySet<number>): number | null {
  let total = 0;
  let found = false;
  for (const line of table.split("\n")) {
    // "  sl  local_address rem_address   st tx_queue:rx_queue ..."; addresses are HEXIP:HEXPORT.
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const queues = cols[4];
    if (local === undefined || queues === undefined) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (!ports.has(port)) continue;
    const rx = Number.parseInt(queues.slice(queues.indexOf(":") + 1), 16);
    if (Number.isNaN(rx)) continue;
    total += rx;
    found = true;
  }
  return found ? total : null;
}

const TABLES = ["/proc/net/udp", "/proc/net/udp6"];

/** Reads the backlog of the sockets on `ports()`; null where /proc cannot say (other systems). */
export function readUdpBacklog(ports: readonly number[]): number | null {
  if (ports.length === 0) return null;
  let text = "";
  for (const file of TABLES) {
    try {
      text += readFileSync(file, "latin1");
    } catch {
      // Missing table (no IPv6, not Linux): the other may still answer.
    }
  }
  return text.length === 0 ? null : udpReceiveBacklog(text, new Set(ports));
}

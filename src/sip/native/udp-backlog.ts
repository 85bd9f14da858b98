// How many bytes wait in the kernel's receive buffers of the proxy's UDP sockets: the queue that
// grows when the proxy falls behind (Linux: the rx_queue column of /proc/net/udp and udp6).
// Admission control (admission-control.ts) reads it to tell overload from a busy event loop.
import { procNetSockets, readProcNet } from "../../util/proc-net.js";

/**
 * The sum of rx_queue over the sockets bound to one of `ports`, from /proc/net/udp{,6} text;
 * null when no line names one of them (a table from another network namespace, say).
 */
export function udpReceiveBacklog(table: string, ports: ReadonlySet<number>): number | null {
  let total = 0;
  let found = false;
  for (const socket of procNetSockets(table)) {
    if (!ports.has(socket.port)) continue;
    total += socket.rxQueue;
    found = true;
  }
  return found ? total : null;
}

/** Reads the backlog of the sockets on `ports()`; null where /proc cannot say (other systems). */
export function readUdpBacklog(ports: readonly number[]): number | null {
  if (ports.length === 0) return null;
  const text = readProcNet("udp");
  return text === null ? null : udpReceiveBacklog(text, new Set(ports));
}

// Whether some process holds a loopback port, read from the kernel's socket tables rather than
// by trying to bind it. A bind probe holds the port for a moment: a SIPp starting in that moment
// fails with EADDRINUSE ("Unable to bind main socket"), which is what a readiness check that
// binds did to a CI run under load. Off Linux (no /proc/net) the bind probe is all there is.
import { procNetSockets, readProcNet } from "../../src/util/proc-net.js";
import { tcpPortFree, udpPortFree } from "./free-port.js";

/** TCP_LISTEN in the `st` column; any UDP socket bound to the port counts. */
const TCP_LISTEN = "0A";

/** Whether a /proc/net/{udp,tcp}{,6} table has a socket bound (TCP: listening) on `port`. */
export function tableHolds(table: string, transport: "udp" | "tcp", port: number): boolean {
  for (const socket of procNetSockets(table))
    if (socket.port === port && (transport === "udp" || socket.state === TCP_LISTEN)) return true;
  return false;
}

/** From the kernel's tables; null where they cannot be read. */
export function portHeld(transport: "udp" | "tcp", port: number): boolean | null {
  const table = readProcNet(transport);
  return table === null ? null : tableHolds(table, transport, port);
}

/** Whether some process holds `port` on 127.0.0.1: the tables, else (not Linux) a bind probe. */
export async function portTaken(transport: "udp" | "tcp", port: number): Promise<boolean> {
  const held = portHeld(transport, port);
  if (held !== null) return held;
  return !(await (transport === "udp" ? udpPortFree("127.0.0.1", port) : tcpPortFree("127.0.0.1", port)));
}

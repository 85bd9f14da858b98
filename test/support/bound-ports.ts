// Whether some process holds a loopback port, read from the kernel's socket tables rather than
// by trying to bind it. A bind probe holds the port for a moment: a SIPp starting in that moment
// fails with EADDRINUSE ("Unable to bind main socket"), which is what a readiness check that
// binds did to a CI run under load. Linux only (/proc/net); elsewhere the answer is null and the
// caller falls back to its probe.
import { readFileSync } from "node:fs";

const TABLES = {
  udp: ["/proc/net/udp", "/proc/net/udp6"],
  tcp: ["/proc/net/tcp", "/proc/net/tcp6"],
} as const;

/** TCP_LISTEN in the `st` column; any UDP socket bound to the port counts. */
const TCP_LISTEN = "0A";

export function portHeld(transport: "udp" | "tcp", port: number): boolean | null {
  let read = false;
  for (const file of TABLES[transport]) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue;
    }
    read = true;
    if (tableHolds(text, transport, port)) return true;
  }
  return read ? false : null;
}

/** Whether a /proc/net/{udp,tcp}{,6} table has a socket bound (TCP: listening) on `port`. */
export function tableHolds(table: string, transport: "udp" | "tcp", port: number): boolean {
  for (const line of table.split("\n")) {
    // "  sl  local_address rem_address   st ..."; addresses are HEXIP:HEXPORT.
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const state = cols[3];
    if (local === undefined || state === undefined || !local.includes(":")) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== port) continue;
    if (transport === "udp" || state === TCP_LISTEN) return true;
  }
  return false;
}

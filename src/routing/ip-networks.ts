// Address and network matching for caller identification (trusted client networks, gateway
// addresses). node:net's BlockList does the CIDR arithmetic for IPv4 and IPv6.
import { BlockList, isIP } from "node:net";

/** `::ffff:192.0.2.1` (an IPv4 peer seen on a dual-stack socket) is the IPv4 address itself. */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped?.[1] ?? lower;
}

export class NetworkSet {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr = "", bits] = c.split("/");
      const family = isIP(addr) === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) this.list.addAddress(canonicalAddress(addr), family);
      else this.list.addSubnet(canonicalAddress(addr), Number(bits), family);
    }
    this.empty = cidrs.length === 0;
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const a = canonicalAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 6 ? "ipv6" : "ipv4");
  }
}

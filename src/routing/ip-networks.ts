// Address and network matching for caller identification (trusted client networks, gateway
// addresses). node:net's BlockList does the CIDR arithmetic for IPv4 and IPv6.
import { BlockList, isIP } from "node:net";

/** `::ffff:192.0.2.1` (an IPv4 peer seen on a dual-stack socket) is the IPv4 address itself. */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped?.[1] ?? lower;
}

/** Distinct source addresses remembered per set; past this the memory is dropped and rebuilt. */
const CACHE_LIMIT = 4096;

export class NetworkSet {
  private readonly list = new BlockList();
  private readonly empty: boolean;
  // BlockList.check builds a SocketAddress per call (about 2% of the proxy's CPU under load);
  // callers come from few addresses, so answers are remembered, bounded against spoofed floods.
  private readonly cache = new Map<string, boolean>();

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
    const known = this.cache.get(address);
    if (known !== undefined) return known;
    const a = canonicalAddress(address);
    const family = isIP(a);
    const answer = family !== 0 && this.list.check(a, family === 6 ? "ipv6" : "ipv4");
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(address, answer);
    return answer;
  }
}

// Where the edge may send something nobody asked it for (a stray 2xx forwarded by its Via, an ACK
// forwarded by its Route): never to a broadcast or multicast address, which would turn one
// datagram from an attacker into one per host of a network (RFC 4475 §3.3.10: "proxies should
// drop such responses"). A subnet's directed broadcast cannot be told from its address alone;
// the kernel refuses those (EACCES: the sockets never set SO_BROADCAST).
import { isIPv4, isIPv6 } from "node:net";

/** False for an IP literal that is not one host: broadcast, multicast or unspecified. Names pass. */
export function isUnicastHost(host: string): boolean {
  if (isIPv4(host)) {
    const first = Number(host.slice(0, host.indexOf(".")));
    // 224.0.0.0/4 multicast, 240.0.0.0/4 reserved (255.255.255.255 among them), 0.0.0.0/8 "this network".
    return first !== 0 && first < 224;
  }
  if (isIPv6(host)) {
    const h = host.toLowerCase();
    // ff00::/8 multicast; :: unspecified. An IPv4-mapped address is judged as IPv4.
    if (h.startsWith("ff")) return false;
    if (/^(0*:)*:?0*$/.test(h) || h === "::") return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped === null || isUnicastHost(mapped[1]!);
  }
  return true;
}

// The few SIP URI and header-value shapes routing writes or reads from configuration (static
// contacts, unassigned-number targets). Requests themselves arrive already parsed by the edge
// (decision.ts); this is only for URIs that come from the configuration file.
import { isIP } from "node:net";
import type { SipTransport } from "./decision.js";

export interface SipAddress {
  readonly scheme: "sip" | "sips";
  readonly user: string | null;
  readonly host: string;
  readonly port: number | null;
  readonly transport: SipTransport | null;
}

/** Parses `sip[s]:[user@]host[:port][;params]`; null when it is not such a URI. */
export function parseSipAddress(uri: string): SipAddress | null {
  const m = /^(sips?):(?:([^@]+)@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d{1,5}))?((?:;[^?]*)?)/i.exec(
    uri.trim(),
  );
  if (m === null || m[1] === undefined || m[3] === undefined) return null;
  const scheme = m[1].toLowerCase() === "sips" ? "sips" : "sip";
  const transportParam = /;transport=(udp|tcp|tls)\b/i.exec(m[5] ?? "")?.[1]?.toLowerCase();
  const transport = transportParam === undefined ? null : (transportParam as SipTransport);
  return {
    scheme,
    user: m[2] ?? null,
    host: m[3].startsWith("[") ? m[3].slice(1, -1) : m[3],
    port: m[4] === undefined ? null : Number(m[4]),
    transport: scheme === "sips" ? "tls" : transport,
  };
}

/** RFC 3261 §19.1.2 default ports. */
export function defaultPort(transport: SipTransport): number {
  return transport === "tls" ? 5061 : 5060;
}

export function isIpLiteral(host: string): boolean {
  return isIP(host.startsWith("[") ? host.slice(1, -1) : host) !== 0;
}

/** A display name as a quoted-string (RFC 3261 §25.1): backslash and quote escaped. */
export function quoteDisplayName(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, " ")}"`;
}

/** `"Name" <uri>` or `<uri>`. */
export function nameAddr(displayName: string | null | undefined, uri: string): string {
  return displayName ? `${quoteDisplayName(displayName)} <${uri}>` : `<${uri}>`;
}

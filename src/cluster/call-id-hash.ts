// Which worker owns a SIP message on the shared port: a hash of its Call-ID (RFC 3261 §8.1.1.4:
// the same for every request and response of a dialog, and for an INVITE, its retransmissions,
// its CANCEL and the ACK of a non-2xx final). Read from the raw bytes without a full parse:
// only the header section of a datagram on the shared port is scanned, once.

const CALL_ID = /(?:^|\r?\n)(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)/i;

/** The Call-ID of a raw SIP message, or null when none is found in its first 4 KiB of headers. */
export function rawCallId(data: Buffer): string | null {
  const end = Math.min(data.length, 4096);
  let head = data.toString("latin1", 0, end);
  const blank = head.indexOf("\r\n\r\n");
  if (blank >= 0) head = head.slice(0, blank);
  const m = CALL_ID.exec(head);
  const value = m?.[1]?.trim();
  return value === undefined || value === "" ? null : value;
}

/** FNV-1a over the Call-ID, reduced to a worker index in [0, workers). */
export function ownerOf(callId: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) {
    h ^= callId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % workers;
}

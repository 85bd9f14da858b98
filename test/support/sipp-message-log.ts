// Reading SIPp's `-trace_msg` message log: every message SIPp sent or received, in order.

export interface SippLoggedMessage {
  readonly direction: "sent" | "received";
  readonly transport: string;
  /** The first line: `INVITE sip:... SIP/2.0` or `SIP/2.0 200 OK`. */
  readonly startLine: string;
  /** Status code for responses, null for requests. */
  readonly status: number | null;
  /** Method for requests (CSeq method for responses). */
  readonly method: string;
  /** Request-URI for requests, null for responses. */
  readonly requestUri: string | null;
  readonly text: string;
  /** All values of a header (case-insensitive name, one entry per header line). */
  header(name: string): string[];
}

const SEPARATOR = /^-{20,} .*$/m;

export function parseSippMessageLog(log: string): SippLoggedMessage[] {
  const out: SippLoggedMessage[] = [];
  for (const chunk of log.split(SEPARATOR)) {
    const m = /^\s*(\w+) message (sent|received)[^\n]*\n\n?([\s\S]*)$/.exec(chunk);
    if (m === null) continue;
    const text = (m[3] ?? "").replace(/\r/g, "").trim();
    if (text.length === 0) continue;
    const lines = text.split("\n");
    const startLine = lines[0] ?? "";
    const headerLines: string[] = [];
    for (const l of lines.slice(1)) {
      if (l.trim() === "") break;
      headerLines.push(l);
    }
    const header = (name: string) =>
      headerLines
        .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        .map((l) => l.slice(l.indexOf(":") + 1).trim());
    const statusMatch = /^SIP\/2\.0 (\d{3})/.exec(startLine);
    const cseqMethod = (header("CSeq")[0] ?? "").split(/\s+/)[1] ?? "";
    out.push({
      direction: m[2] === "sent" ? "sent" : "received",
      transport: m[1] ?? "",
      startLine,
      status: statusMatch ? Number(statusMatch[1]) : null,
      method: statusMatch ? cseqMethod : (startLine.split(" ")[0] ?? ""),
      requestUri: statusMatch ? null : (startLine.split(" ")[1] ?? null),
      text,
      header,
    });
  }
  return out;
}

// SIPp UAC scenarios for the CDR end-to-end tests, written per caller identity: the shared
// scenarios in sipp-scenarios/ call as "caller@<ip>", while a CDR test needs a tenant user or a
// gateway (From, Contact host), extra INVITE headers (Referred-By) and BYE headers (X-RTP-Stat).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type UacMode =
  /** INVITE, 200, ACK, pause (-d), BYE (with `byeHeaders`), 200. */
  | "caller-hangs-up"
  /** INVITE, 200, ACK, then wait for the callee's BYE and answer it. */
  | "callee-hangs-up"
  /** INVITE, wait for 180, CANCEL, 200, 487, ACK. */
  | "cancel"
  /** INVITE, then any final failure, ACKed. */
  | "rejected";

export interface UacScenario {
  readonly mode: UacMode;
  /** The From name-addr without tag, e.g. `"Alice" <sip:alice@contoso.com>`. */
  readonly from: string;
  /** The Contact URI host: a gateway FQDN for a call from a gateway (default [local_ip]). */
  readonly contactHost?: string;
  readonly inviteHeaders?: readonly string[];
  readonly byeHeaders?: readonly string[];
}

const dir = mkdtempSync(join(tmpdir(), "dialgate-cdr-scenarios-"));
let counter = 0;

const FAILURES = [
  400, 403, 404, 405, 408, 410, 413, 415, 420, 480, 481, 482, 483, 484, 486, 487, 488, 500, 501, 502, 503,
  504, 600, 603, 604,
];

/** Writes the scenario and returns its absolute path (for `SippProcess.start({ scenario })`). */
export function uacScenario(s: UacScenario): string {
  const from = `${s.from};tag=[pid]cdr[call_number]`;
  const contact = `<sip:caller@${s.contactHost ?? "[local_ip]"}:[local_port]>`;
  const extra = (headers: readonly string[] = []) => headers.map((h) => `      ${h}\n`).join("");
  const invite = `
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: ${contact}
      Max-Forwards: 70
${extra(s.inviteHeaders)}      Content-Type: application/sdp
      Content-Length: [len]

v=0
o=dialgate 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>`;
  const ack2xx = `
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: ${from}
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
  const ackFailure = `
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: ${from}
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
  let body: string;
  switch (s.mode) {
    case "caller-hangs-up":
      body = `${ack2xx}
  <pause/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: ${from}
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
${extra(s.byeHeaders)}      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>`;
      break;
    case "callee-hangs-up":
      body = `${ack2xx}
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`;
      break;
    case "cancel":
      body = `
  <recv response="183" optional="true"/>
  <recv response="180"/>
  <send retrans="500">
    <![CDATA[

      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>${ackFailure}`;
      break;
    case "rejected":
      body = `
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
${FAILURES.map((code) => `  <recv response="${code}" optional="true" next="ack"/>`).join("\n")}
  <recv response="699" next="ack"/>
  <label id="ack"/>${ackFailure}`;
      break;
  }
  const file = join(dir, `uac-${s.mode}-${++counter}.xml`);
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="dialgate cdr ${s.mode}">${invite}${body}
</scenario>
`,
  );
  return file;
}

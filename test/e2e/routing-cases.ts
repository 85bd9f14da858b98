// The routing end-to-end cases, written once and run against each SIP edge (native in
// test/e2e/routing-calls.test.ts, drachtio in test/drachtio/routing-calls.test.ts): the real
// router behind the edge, driven by real SIPp over loopback UDP. SIPp plays the callers (a user,
// a gateway) and the callees (gateways, a user's phone); the assertions are what those parties
// see -- the Request-URI that reached a gateway, the final status the caller got, who received
// nothing -- and the call events the edge reported (what the call recorder turns into CDRs), so
// "callers see the same behaviour on both edges" is checked case by case.
//
// SIPp runs here with raw argument lists (the scenarios are rewritten per caller); ports and
// message logs use the shared harness in test/support.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallEvent, CallEventBus } from "../../src/calls/events.js";
import { validateConfig } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";
import type { CallRouter, OutboundRequester } from "../../src/routing/decision.js";
import { createRoutingRuntime, GatewayHealthMonitor, type RoutingRuntime } from "../../src/routing/index.js";
import { ManualClock, systemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { portTaken } from "../support/bound-ports.js";
import { freeUdpPort, waitFor } from "../support/free-port.js";
import { SilentUdpGateway } from "../support/silent-udp-gateway.js";
import { parseSippMessageLog, type SippLoggedMessage } from "../support/sipp-message-log.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scenarios = join(root, "sipp-scenarios");
const work = mkdtempSync(join(tmpdir(), "dialgate-e2e-routing-"));
const HOST = "127.0.0.1";

/** One SIP edge as the cases need it: where SIPp sends, and how to start it behind a router. */
export interface EdgeUnderTest {
  readonly name: string;
  /** Prepares what the edge needs (drachtio: starts drachtio-server); returns the SIP port to call. */
  prepare(): Promise<number>;
  /** Config fields for this edge (`sip.edge`, `sip.drachtio`). */
  sipOverrides(): Record<string, unknown>;
  /** Starts the edge with the router; its requester sends the gateway OPTIONS pings. */
  start(
    config: DialgateConfig,
    router: CallRouter,
    events: CallEventBus,
  ): Promise<{ requester: OutboundRequester; stop(): Promise<void> }>;
}

// ---- ports and processes ------------------------------------------------------------------------

/** Resolves once something holds the UDP port (SIPp has bound it), read without binding it. */
function portBound(port: number): Promise<void> {
  return waitFor(() => portTaken("udp", port), 20_000, `SIPp bound ${HOST}:${port}`);
}

interface Sipp {
  readonly messages: string;
  readonly done: Promise<number | null>;
  readonly child: ChildProcess;
}

let counter = 0;
function sipp(args: string[]): Sipp {
  const messages = join(work, `msgs-${++counter}.log`);
  const child = spawn(
    "sipp",
    [...args, "-nostdin", "-trace_msg", "-message_file", messages, "-timeout", "30s", "-timeout_error"],
    { cwd: work, stdio: ["ignore", "ignore", "ignore"] },
  );
  const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { messages, done, child };
}

/** Everything SIPp logged: the raw text, for header checks across messages. */
function received(s: Sipp): string {
  return existsSync(s.messages) ? readFileSync(s.messages, "utf8") : "";
}

function messagesReceived(s: Sipp): SippLoggedMessage[] {
  return parseSippMessageLog(received(s)).filter((m) => m.direction === "received");
}

/** The value of a header of the first received message whose start line begins with `start`. */
function headerOf(s: Sipp, start: string, name: string): string | undefined {
  return messagesReceived(s)
    .find((m) => m.startLine.startsWith(start))
    ?.header(name)[0];
}

/** Request-URIs of the INVITEs a SIPp instance received. */
function invitesReceived(s: Sipp): string[] {
  return messagesReceived(s)
    .filter((m) => m.status === null && m.method === "INVITE")
    .map((m) => m.requestUri ?? "");
}

/** The final status codes a SIPp UAC received (any method). */
function finalStatuses(s: Sipp): number[] {
  return messagesReceived(s)
    .map((m) => m.status)
    .filter((status): status is number => status !== null && status >= 200);
}

async function uas(scenario: string, port: number, extra: string[] = []): Promise<Sipp> {
  const s = sipp(["-sf", join(scenarios, scenario), "-i", HOST, "-p", String(port), "-m", "1", ...extra]);
  await portBound(port);
  return s;
}

// ---- UAC scenarios: the shared ones with the caller's identity put in ---------------------------

/** An INVITE body other than the scenario's SDP offer, with its Content-Type and extra headers. */
interface InviteBody {
  readonly headers: readonly string[];
  readonly contentType: string;
  readonly body: string;
}

function uacScenario(base: string, name: string, from: string, contact: string, invite?: InviteBody): string {
  let text = readFileSync(join(scenarios, base), "utf8")
    .replaceAll(/From: "Caller" <sip:caller@\[local_ip\]:\[local_port\]>/g, `From: ${from}`)
    .replaceAll(
      /Contact: <sip:caller@\[local_ip\]:\[local_port\];transport=\[transport\]>/g,
      `Contact: ${contact}`,
    );
  if (invite !== undefined) {
    // The first message's SDP offer and its Content-Type give way to the given body.
    const offer = /( *)Content-Type: application\/sdp\n *Content-Length: \[len\]\n\n[\s\S]*?\n\n( *\]\]>)/;
    if (!offer.test(text)) throw new Error(`${base}: no SDP offer to replace`);
    text = text.replace(offer, (_m, indent: string, end: string) =>
      [
        ...invite.headers.map((h) => `${indent}${h}`),
        `${indent}Content-Type: ${invite.contentType}`,
        `${indent}Content-Length: [len]`,
        "",
        invite.body,
        "",
        end,
      ].join("\n"),
    );
  }
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

/** A call that is challenged with 407 and retried with digest credentials ([authentication]). */
function authScenario(from: string): string {
  const invite = (cseq: number, auth: string) => `
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: ${from};tag=[pid]uac[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:frank@[local_ip]:[local_port]>
      Max-Forwards: 70
${auth}      Content-Length: 0

    ]]>
  </send>`;
  const ack = (cseq: number, ruri: string, extra = "") => `
  <send>
    <![CDATA[

      ACK ${ruri} SIP/2.0
      ${extra === "" ? "[last_Via:]" : "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport"}
      ${extra}From: ${from};tag=[pid]uac[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
  const text = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="dialgate e2e digest call">
${invite(1, "")}
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
${ack(1, "sip:[service]@[remote_ip]:[remote_port]")}
${invite(2, "      [authentication username=frank password=frankpass]\n")}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
${ack(2, "[next_url]", "[routes]\n      ")}
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: ${from};tag=[pid]uac[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>`;
  const file = join(work, "uac-digest.xml");
  writeFileSync(file, text);
  return file;
}

/** REGISTER of `user` with one contact; with `password`, answers a 401 challenge first. */
function registerScenario(user: string, domain: string, contactPort: number, password?: string): string {
  const register = (cseq: number, auth: string) => `
  <send retrans="500">
    <![CDATA[

      REGISTER sip:${domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:${user}@${domain}>;tag=[pid]reg[call_number]
      To: <sip:${user}@${domain}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:${user}@[local_ip]:${contactPort}>
      Expires: 300
      Max-Forwards: 70
${auth}      Content-Length: 0

    ]]>
  </send>`;
  const challenged =
    password === undefined
      ? ""
      : `${register(1, "")}
  <recv response="401" auth="true"/>
`;
  const text = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="dialgate e2e register">
${challenged}${register(2, password === undefined ? "" : `      [authentication username=${user} password=${password}]\n`)}
  <recv response="200"/>
</scenario>`;
  const file = join(work, `register-${user}.xml`);
  writeFileSync(file, text);
  return file;
}

/** One OPTIONS from `fromHost`, expecting `status`. */
function optionsScenario(fromHost: string, status: number): string {
  const text = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="dialgate e2e options">
  <send retrans="500">
    <![CDATA[

      OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:ping@${fromHost}>;tag=[pid]opt[call_number]
      To: <sip:[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="${status}"/>
</scenario>`;
  const file = join(work, `options-${fromHost}-${status}.xml`);
  writeFileSync(file, text);
  return file;
}

// ---- the proxy under test ----------------------------------------------------------------------

interface Ports {
  edge: number;
  gw1: number;
  gw2: number;
  gw3: number;
  silent: number;
  /** A gateway that sends nothing at all (test/support/silent-udp-gateway.ts binds it per case). */
  blackhole: number;
  bob: number;
  carol: number;
  frank: number;
  dead: number;
}

function e2eConfig(p: Ports, sipOverrides: Record<string, unknown>): DialgateConfig {
  const gateway = (fqdn: string, port: number, extra: object = {}) => ({
    fqdn,
    address: HOST,
    sipSignalingPort: port,
    enabled: true,
    sendSipOptions: false,
    failoverTimeSeconds: 2,
    ...extra,
  });
  const r = validateConfig({
    sip: {
      listen: [
        { transport: "udp", host: HOST, port: p.edge },
        { transport: "tcp", host: HOST, port: p.edge },
      ],
      recordRouteHost: HOST,
      optionsIntervalSeconds: 1,
      // A short T1 makes an unanswered OPTIONS time out (Timer F = 64*T1) in about 3 s.
      timers: { t1Ms: 50, t2Ms: 500 },
      ...sipOverrides,
    },
    http: { port: 0 },
    gateways: [
      gateway("gw1.e2e.test", p.gw1, { tenant: "contoso" }),
      gateway("gw2.e2e.test", p.gw2, { outboundPstnNumberTranslationRules: ["StripPlus"] }),
      gateway("gw3.e2e.test", p.gw3),
      gateway("silent.e2e.test", p.silent, { sendSipOptions: true }),
      gateway("blackhole.e2e.test", p.blackhole),
      // Nothing listens on this TCP port: connecting fails (a transport failure).
      gateway("dead.e2e.test", p.dead, { transport: "tcp" }),
    ],
    translationRules: [{ identity: "StripPlus", pattern: "^\\+(\\d+)$", translation: "$1" }],
    tenants: [
      {
        id: "contoso",
        domains: ["contoso.com"],
        trustedClientNetworks: ["127.0.0.1/32"],
        pstnUsages: ["US", "Emergency", "Health"],
        voiceRoutes: [
          // The order of gw1/gw2 is fixed by the random source the test injects.
          {
            identity: "Main",
            numberPattern: "^\\+1(425|206)",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["gw1.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Backup",
            numberPattern: "^\\+1425",
            priority: 2,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["gw3.e2e.test"],
          },
          {
            identity: "E911",
            numberPattern: "^911$",
            priority: 1,
            onlinePstnUsages: ["Emergency"],
            onlinePstnGatewayList: ["gw3.e2e.test"],
          },
          {
            identity: "Denver",
            numberPattern: "^\\+1303",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["dead.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Atlanta",
            numberPattern: "^\\+1404",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["blackhole.e2e.test", "gw2.e2e.test"],
          },
          {
            identity: "Probe",
            numberPattern: "^\\+1555",
            priority: 1,
            onlinePstnUsages: ["Health"],
            onlinePstnGatewayList: ["silent.e2e.test", "gw2.e2e.test"],
          },
        ],
        voiceRoutingPolicies: [
          { identity: "Global", onlinePstnUsages: ["US"] },
          { identity: "Health", onlinePstnUsages: ["Health"] },
        ],
        emergencyCallRoutingPolicies: [
          {
            identity: "Global",
            emergencyNumbers: [
              { emergencyDialString: "911", emergencyDialMask: "112", onlinePstnUsage: "Emergency" },
            ],
          },
        ],
        users: [
          { id: "alice@contoso.com", lineUri: "+14255550100", usageLocation: "US" },
          {
            id: "bob@contoso.com",
            lineUri: "+14255550101;ext=0101",
            usageLocation: "US",
            contact: `sip:bob@${HOST}:${p.bob}`,
          },
          { id: "carol@contoso.com", lineUri: "+14255550102", usageLocation: "US" },
          { id: "hank@contoso.com", usageLocation: "US", onlineVoiceRoutingPolicy: "Health" },
        ],
      },
      {
        id: "fabrikam",
        domains: ["fabrikam.com"],
        pstnUsages: ["US"],
        voiceRoutes: [
          {
            identity: "All",
            numberPattern: "^\\+",
            priority: 1,
            onlinePstnUsages: ["US"],
            onlinePstnGatewayList: ["gw1.e2e.test"],
          },
        ],
        voiceRoutingPolicies: [{ identity: "Global", onlinePstnUsages: ["US"] }],
        users: [
          // digest password "frankpass", realm fabrikam.com
          {
            id: "frank@fabrikam.com",
            usageLocation: "US",
            sipPasswordHa1: createHash("md5").update("frank:fabrikam.com:frankpass").digest("hex"),
          },
        ],
      },
    ],
  });
  if (!r.ok) throw new Error(r.problems.map((x) => `${x.path}: ${x.message}`).join("\n"));
  return r.config;
}

let ports: Ports;
let runtime: RoutingRuntime;
let requester: OutboundRequester;
let stopEdge: () => Promise<void> = async () => {};
let edgeUnderTest: EdgeUnderTest;
const healthClock = new ManualClock();
/** Every call event the edge reported, in order. */
const events: CallEvent[] = [];

/** The event types reported for the one call whose events include `match` (Call-ID of the caller's leg). */
function eventTypesOfLastCall(): string[] {
  const last = [...events].reverse().find((e) => e.type === "received");
  if (last === undefined) return [];
  return events.filter((e) => e.callId === last.callId).map((e) => e.type);
}

function lastEvent<T extends CallEvent["type"]>(type: T): Extract<CallEvent, { type: T }> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.type === type) return e as Extract<CallEvent, { type: T }>;
  }
  return undefined;
}

/** Why the last failed attempt failed: its status (null: no final response) and cause. */
function lastFailure(): [number | null, string] | undefined {
  const failed = lastEvent("attempt-failed");
  return failed && [failed.status, failed.cause];
}

/** The events of a call whose first gateway failed and whose next gateway answered. */
const FAILED_OVER_AND_ANSWERED = [
  "received",
  "attempt-sent",
  "attempt-failed",
  "attempt-sent",
  "provisional",
  "answered",
  "ended",
];

/** Waits until the last call's events end with one of `finals` (the edge reports asynchronously). */
async function lastCallEnded(finals: readonly string[]): Promise<string[]> {
  await waitFor(
    () => finals.includes(eventTypesOfLastCall().at(-1) ?? ""),
    20_000,
    `the call to end with one of ${finals.join(", ")} (saw ${eventTypesOfLastCall().join(", ")})`,
  );
  return eventTypesOfLastCall();
}

async function setUp(edge: EdgeUnderTest): Promise<void> {
  edgeUnderTest = edge;
  ports = {
    edge: await edge.prepare(),
    gw1: await freeUdpPort(),
    gw2: await freeUdpPort(),
    gw3: await freeUdpPort(),
    silent: await freeUdpPort(),
    blackhole: await freeUdpPort(),
    bob: await freeUdpPort(),
    carol: await freeUdpPort(),
    frank: await freeUdpPort(),
    dead: await freeUdpPort(),
  };
  const config = e2eConfig(ports, edge.sipOverrides());
  const bus = new CallEventBus();
  bus.subscribe((e) => events.push(e));
  const logger = silentLogger();
  let ref: OutboundRequester | null = null;
  runtime = createRoutingRuntime(config, {
    clock: systemClock,
    // r close to 1 keeps a route's gateways in their listed order (Fisher–Yates j = i).
    random: () => 0.999,
    logger,
    events: bus,
    requester: { sendOptions: (d, u) => ref?.sendOptions(d, u) ?? Promise.resolve(null) },
  });
  const started = await edge.start(config, runtime.router, bus);
  requester = started.requester;
  ref = started.requester;
  stopEdge = started.stop;
}

const proxy = () => `${HOST}:${ports.edge}`;

/**
 * An emergency INVITE carrying the caller's location by value (RFC 6442): SDP and PIDF-LO,
 * multipart. Kept small: a request within 200 bytes of the 1,300-byte MTU goes over TCP
 * (RFC 3261 §18.1.1), which these UDP-only gateways do not listen on.
 */
const LOCATION_BOUNDARY = "loc1";
const EMERGENCY_WITH_LOCATION: InviteBody = {
  headers: ["Geolocation: <cid:loc@contoso.com>"],
  contentType: `multipart/mixed;boundary=${LOCATION_BOUNDARY}`,
  body: [
    `--${LOCATION_BOUNDARY}`,
    "Content-Type: application/sdp",
    "",
    "v=0",
    "o=alice 1 1 IN IP[local_ip_type] [local_ip]",
    "s=-",
    "c=IN IP[media_ip_type] [media_ip]",
    "t=0 0",
    "m=audio [media_port] RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
    "",
    `--${LOCATION_BOUNDARY}`,
    "Content-Type: application/pidf+xml",
    "Content-ID: <loc@contoso.com>",
    "",
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"',
    ' xmlns:gml="http://www.opengis.net/gml" entity="pres:alice@contoso.com">',
    '<tuple id="loc"><status><gp:geopriv><gp:location-info>',
    '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>47.6396 -122.1281</gml:pos></gml:Point>',
    "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple>",
    "</presence>",
    `--${LOCATION_BOUNDARY}--`,
  ].join("\n"),
};
const ALICE = '"Alice" <sip:alice@contoso.com>';

async function call(opts: {
  number: string;
  from?: string;
  contact?: string;
  base?: string;
  bind?: string;
  port?: number;
  invite?: InviteBody;
}) {
  const file = uacScenario(
    opts.base ?? "uac-call.xml",
    `uac-${++counter}.xml`,
    opts.from ?? ALICE,
    opts.contact ?? "<sip:alice@[local_ip]:[local_port]>",
    opts.invite,
  );
  const args = ["-sf", file, "-s", opts.number, proxy(), "-i", opts.bind ?? HOST, "-m", "1", "-d", "100"];
  if (opts.base === "uac-reject.xml") args.push("-key", "maxfwd", "70");
  if (opts.port !== undefined) args.push("-p", String(opts.port));
  const s = sipp(args);
  const code = await s.done;
  return { code, statuses: finalStatuses(s), sipp: s };
}

async function stop(s: Sipp) {
  if (s.child.exitCode === null) s.child.kill("SIGKILL");
  await s.done;
}

/** Defines the whole suite against one edge. */
export function routingCallsSuite(edge: EdgeUnderTest): void {
  edgeUnderTest = edge;
  beforeAll(() => setUp(edge));
  afterAll(async () => {
    runtime?.stop();
    await stopEdge();
  });
  cases();
}

function cases(): void {
  describe(`routing end to end (SIPp → dialgate, ${edgeUnderTest.name} edge → SIPp)`, () => {
    it("applies the caller's dial plan: the gateway sees sip:<E.164>@<fqdn>:<port>;user=phone", async () => {
      const gw1 = await uas("uas-answer.xml", ports.gw1);
      const r = await call({ number: "4255550123" });
      expect(r.code).toBe(0);
      expect(await gw1.done).toBe(0);
      expect(invitesReceived(gw1)).toEqual([`sip:+14255550123@gw1.e2e.test:${ports.gw1};user=phone`]);
      // The gateway sees Alice's number in From; Alice gets her own From back in the answer
      // (RFC 3261 §8.2.6.2: a response carries the From of the request it answers).
      expect(headerOf(gw1, "INVITE sip:", "From")).toMatch(/<sip:\+14255550100@/);
      expect(headerOf(r.sipp, "SIP/2.0 200", "From")).toMatch(/^"Alice" <sip:alice@contoso\.com>;tag=/);
      // What the call recorder hears, hence the CDR: the same on every edge.
      expect(await lastCallEnded(["ended"])).toEqual([
        "received",
        "attempt-sent",
        "provisional",
        "answered",
        "ended",
      ]);
      const ended = lastEvent("ended");
      expect(ended?.type === "ended" && ended.by).toBe("caller");
    });

    it("fails over on a failover code (503) to the next gateway, with its translation rules", async () => {
      const gw1 = await uas("uas-reject.xml", ports.gw1, ["-set", "status", "503"]);
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+12065550123" });
      expect(r.code).toBe(0);
      await Promise.all([gw1.done, gw2.done]);
      expect(invitesReceived(gw1)).toEqual([`sip:+12065550123@gw1.e2e.test:${ports.gw1};user=phone`]);
      expect(invitesReceived(gw2)).toEqual([`sip:12065550123@gw2.e2e.test:${ports.gw2};user=phone`]);
      expect(await lastCallEnded(["ended"])).toEqual(FAILED_OVER_AND_ANSWERED);
      expect(lastFailure()).toEqual([503, "response"]);
    });

    it("does not fail over on 486: the caller gets 486 and the next gateway nothing", async () => {
      const gw1 = await uas("uas-reject.xml", ports.gw1, ["-set", "status", "486"]);
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+12065550123", base: "uac-reject.xml" });
      await gw1.done;
      await stop(gw2);
      expect(r.statuses).toContain(486);
      expect(invitesReceived(gw2)).toEqual([]);
      expect(await lastCallEnded(["rejected"])).toEqual([
        "received",
        "attempt-sent",
        "attempt-failed",
        "rejected",
      ]);
    });

    it("does not fail over on 603 either", async () => {
      const gw1 = await uas("uas-reject.xml", ports.gw1, ["-set", "status", "603"]);
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+12065550125", base: "uac-reject.xml" });
      await gw1.done;
      await stop(gw2);
      expect(r.statuses).toContain(603);
      expect(invitesReceived(gw2)).toEqual([]);
    });

    it("tries the backup route's gateways after every gateway of the better route failed", async () => {
      const gw1 = await uas("uas-reject.xml", ports.gw1, ["-set", "status", "503"]);
      const gw2 = await uas("uas-reject.xml", ports.gw2, ["-set", "status", "504"]);
      const gw3 = await uas("uas-answer.xml", ports.gw3);
      const r = await call({ number: "+14255550126" });
      expect(r.code).toBe(0);
      await Promise.all([gw1.done, gw2.done, gw3.done]);
      expect(invitesReceived(gw3)).toEqual([`sip:+14255550126@gw3.e2e.test:${ports.gw3};user=phone`]);
    });

    it("fails over on a transport failure (TCP connection refused) to the next gateway", async () => {
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+13035550100" });
      expect(r.code).toBe(0);
      await gw2.done;
      expect(invitesReceived(gw2)).toEqual([`sip:13035550100@gw2.e2e.test:${ports.gw2};user=phone`]);
    });

    it("fails over when a gateway stays silent past failoverTimeSeconds (CANCEL, then next gateway)", async () => {
      const gw1 = await uas("uas-no-answer.xml", ports.gw1);
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+12065550124" });
      expect(r.code).toBe(0);
      expect(await gw1.done).toBe(0);
      await gw2.done;
      expect(received(gw1)).toMatch(/^CANCEL /m);
      expect(invitesReceived(gw2)).toHaveLength(1);
      await lastCallEnded(["ended"]);
      expect(lastFailure()).toEqual([null, "failover-timer"]);
    });

    it("fails over when a gateway sends nothing at all, not even 100 Trying, at the failover timer", async () => {
      // Nothing can be CANCELled before a provisional (§9.1): the attempt ends at the failover
      // timer (2 s here), not at Timer B, whose 32 s in drachtio-server outlast the caller's
      // patience (SIPp gives up after 30 s).
      const blackhole = await SilentUdpGateway.bind(ports.blackhole);
      try {
        const gw2 = await uas("uas-answer.xml", ports.gw2);
        const started = performance.now();
        const r = await call({ number: "+14045550123" });
        const took = performance.now() - started;
        expect(r.code).toBe(0);
        await gw2.done;
        expect(new Set(blackhole.invites)).toEqual(
          new Set([`sip:+14045550123@blackhole.e2e.test:${ports.blackhole};user=phone`]),
        );
        expect(invitesReceived(gw2)).toEqual([`sip:14045550123@gw2.e2e.test:${ports.gw2};user=phone`]);
        expect(took).toBeLessThan(10_000);
        expect(await lastCallEnded(["ended"])).toEqual(FAILED_OVER_AND_ANSWERED);
        expect(lastFailure()).toEqual([null, "failover-timer"]);
      } finally {
        await blackhole.close();
      }
    });

    it("passes the caller's CANCEL to the ringing gateway: 487 to the caller, no failover", async () => {
      const gw1 = await uas("uas-ring-no-answer.xml", ports.gw1);
      const gw2 = await uas("uas-answer.xml", ports.gw2);
      const r = await call({ number: "+12065550127", base: "uac-cancel.xml" });
      expect(r.code).toBe(0);
      expect(await gw1.done).toBe(0);
      await stop(gw2);
      expect(r.statuses).toEqual([200, 487]);
      expect(received(gw1)).toMatch(/^CANCEL /m);
      expect(invitesReceived(gw2)).toEqual([]);
      const types = await lastCallEnded(["cancelled", "attempt-failed"]);
      expect(types.slice(0, 3)).toEqual(["received", "attempt-sent", "provisional"]);
      expect(types).toContain("cancelled");
      expect(types).not.toContain("rejected");
    });

    it("answers 404 with a Reason when no voice route matches", async () => {
      const r = await call({ number: "+442071234567", base: "uac-reject.xml" });
      expect(r.statuses).toEqual([404]);
      expect(received(r.sipp)).toMatch(/^Reason: Q\.850;cause=3;text="No route to destination"/m);
      expect(await lastCallEnded(["rejected"])).toEqual(["received", "rejected"]);
    });

    it("routes an emergency mask (112) as 911 through the emergency usage", async () => {
      const gw3 = await uas("uas-answer.xml", ports.gw3);
      const r = await call({ number: "112" });
      expect(r.code).toBe(0);
      await gw3.done;
      expect(invitesReceived(gw3)).toEqual([`sip:911@gw3.e2e.test:${ports.gw3};user=phone`]);
    });

    it("passes an emergency call's multipart body (SDP and PIDF-LO location) with the caller's Content-Type", async () => {
      const gw3 = await uas("uas-answer.xml", ports.gw3);
      const r = await call({ number: "112", invite: EMERGENCY_WITH_LOCATION });
      expect(r.code).toBe(0);
      await gw3.done;
      expect(invitesReceived(gw3)).toEqual([`sip:911@gw3.e2e.test:${ports.gw3};user=phone`]);
      expect(headerOf(gw3, "INVITE sip:", "Content-Type")).toBe(EMERGENCY_WITH_LOCATION.contentType);
      expect(headerOf(gw3, "INVITE sip:", "Geolocation")).toBe("<cid:loc@contoso.com>");
      const invite = messagesReceived(gw3).find((m) => m.method === "INVITE" && m.status === null);
      const body = invite?.text.slice(invite.text.indexOf("\n\n") + 2) ?? "";
      expect(body).toContain(`--${LOCATION_BOUNDARY}\nContent-Type: application/sdp\n`);
      expect(body).toContain("Content-Type: application/pidf+xml\nContent-ID: <loc@contoso.com>");
      expect(body).toContain("<gml:pos>47.6396 -122.1281</gml:pos>");
      expect(body).toContain(`--${LOCATION_BOUNDARY}--`);
    });

    it("sends a number of a user of the tenant to that user (internal call by reverse number lookup)", async () => {
      const bob = await uas("uas-answer.xml", ports.bob);
      const r = await call({ number: "+14255550101" });
      expect(r.code).toBe(0);
      await bob.done;
      expect(invitesReceived(bob)).toEqual([`sip:bob@${HOST}:${ports.bob}`]);
    });

    it("routes an inbound call from a gateway to the user's static contact, matching ;ext=", async () => {
      const bob = await uas("uas-answer.xml", ports.bob);
      const r = await call({
        number: "+14255550101;ext=0101",
        from: "<sip:+12065550199@gw1.e2e.test;user=phone>",
        contact: "<sip:+12065550199@gw1.e2e.test:[local_port]>",
      });
      expect(r.code).toBe(0);
      await bob.done;
      expect(invitesReceived(bob)).toEqual([`sip:bob@${HOST}:${ports.bob}`]);
    });

    it("registers a user's phone and forwards an inbound call to the registered contact", async () => {
      const reg = sipp([
        "-sf",
        registerScenario("carol", "contoso.com", ports.carol),
        proxy(),
        "-i",
        HOST,
        "-m",
        "1",
      ]);
      expect(await reg.done).toBe(0);
      expect(received(reg)).toMatch(
        new RegExp(`^Contact: <sip:carol@127\\.0\\.0\\.1:${ports.carol}>;expires=300`, "m"),
      );
      const carol = await uas("uas-answer.xml", ports.carol);
      const r = await call({
        number: "+14255550102",
        from: "<sip:+12065550199@gw1.e2e.test;user=phone>",
        contact: "<sip:+12065550199@gw1.e2e.test:[local_port]>",
      });
      expect(r.code).toBe(0);
      await carol.done;
      expect(invitesReceived(carol)).toEqual([`sip:carol@${HOST}:${ports.carol}`]);
    });

    it("challenges a REGISTER outside the trusted networks with 401 and accepts the digest answer", async () => {
      const reg = sipp([
        "-sf",
        registerScenario("frank", "fabrikam.com", ports.frank, "frankpass"),
        proxy(),
        "-i",
        HOST,
        "-m",
        "1",
      ]);
      expect(await reg.done).toBe(0);
      expect(finalStatuses(reg)).toEqual([401, 200]);
      expect(received(reg)).toMatch(/^WWW-Authenticate: Digest realm="fabrikam.com"/m);
    });

    it("answers an inbound call to an unassigned number (no ;ext=) with 404", async () => {
      const r = await call({
        number: "+14255550101",
        from: "<sip:+12065550199@gw1.e2e.test;user=phone>",
        contact: "<sip:+12065550199@gw1.e2e.test:[local_port]>",
        base: "uac-reject.xml",
      });
      expect(r.statuses).toEqual([404]);
    });

    it("refuses unknown callers and a gateway FQDN sent from a wrong address with 403", async () => {
      const stranger = await call({
        number: "+14255550123",
        from: "<sip:mallory@evil.example>",
        base: "uac-reject.xml",
      });
      expect(stranger.statuses).toEqual([403]);
      const spoofed = await call({
        number: "+14255550101;ext=0101",
        from: "<sip:+12065550199@gw1.e2e.test;user=phone>",
        contact: "<sip:+12065550199@gw1.e2e.test:[local_port]>",
        base: "uac-reject.xml",
        bind: "127.0.0.2",
      });
      expect(spoofed.statuses).toEqual([403]);
    });

    it("challenges a user outside the trusted networks (407) and routes after digest authentication", async () => {
      const gw1 = await uas("uas-answer.xml", ports.gw1);
      const s = sipp([
        "-sf",
        authScenario("<sip:frank@fabrikam.com>"),
        "-s",
        "+14255550177",
        proxy(),
        "-i",
        HOST,
        "-m",
        "1",
      ]);
      expect(await s.done).toBe(0);
      await gw1.done;
      expect(finalStatuses(s)).toEqual([407, 200, 200]);
      expect(received(s)).toMatch(
        /^Proxy-Authenticate: Digest realm="fabrikam.com", nonce="[^"]+", algorithm=MD5, qop="auth"/m,
      );
      expect(invitesReceived(gw1)).toEqual([`sip:+14255550177@gw1.e2e.test:${ports.gw1};user=phone`]);
      // The credentials were for dialgate: they do not reach the gateway.
      expect(received(gw1)).not.toMatch(/^Proxy-Authorization:/m);
    });

    it("answers OPTIONS from a known gateway with 200 and from an unknown source with 403", async () => {
      const known = sipp(["-sf", optionsScenario("gw1.e2e.test", 200), proxy(), "-i", HOST, "-m", "1"]);
      expect(await known.done).toBe(0);
      const stranger = sipp([
        "-sf",
        optionsScenario("gw1.e2e.test", 403),
        proxy(),
        "-i",
        "127.0.0.2",
        "-m",
        "1",
      ]);
      expect(await stranger.done).toBe(0);
    });

    it("moves a gateway that answers no OPTIONS behind the healthy ones", async () => {
      // The monitor runs on a manual clock here; the OPTIONS themselves go over the wire.
      const config = e2eConfig(ports, edgeUnderTest.sipOverrides());
      const monitor = new GatewayHealthMonitor({
        gateways: config.gateways,
        clock: healthClock,
        intervalMs: 1000,
        requester,
        logger: silentLogger(),
      });
      const events = new CallEventBus();
      const probed = createRoutingRuntime(config, {
        clock: systemClock,
        random: () => 0.999,
        logger: silentLogger(),
        events,
        requester,
        overrides: { health: monitor },
      });
      const hank = () => probed.router.route(routeRequest("hank@contoso.com", "+15550001111"));
      const before = await hank();
      expect(before.kind === "forward" && before.steps.map((s) => s.targets[0]?.gateway)).toEqual([
        "silent.e2e.test",
        "gw2.e2e.test",
      ]);
      await monitor.probeAll(); // nobody listens on silent's port: no answer
      healthClock.advance(3000);
      monitor.evaluate();
      const after = await hank();
      expect(after.kind === "forward" && after.steps.map((s) => s.targets[0]?.gateway)).toEqual([
        "gw2.e2e.test",
        "silent.e2e.test",
      ]);
      probed.stop();
    });
  });
}

/** A routing request as the edge would build it (for the health test, which inspects decisions). */
function routeRequest(user: string, number: string) {
  const uri = (raw: string, u: string | null, host: string) => ({
    raw,
    scheme: "sip",
    user: u,
    host,
    port: null,
    params: new Map(),
  });
  const [name = "", domain = ""] = user.split("@");
  return {
    method: "INVITE",
    requestUri: uri(`sip:${number}@${HOST}`, number, HOST),
    from: { displayName: null, uri: uri(`sip:${user}`, name, domain), tag: "t" },
    to: { displayName: null, uri: uri(`sip:${number}@${HOST}`, number, HOST), tag: null },
    callId: "health-1",
    cseq: 1,
    source: { address: HOST, port: 5999, transport: "udp" as const },
    contact: null,
    contacts: [],
    expires: null,
    pai: null,
    header: () => [],
    addressedToProxy: false,
  };
}

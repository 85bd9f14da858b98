// Interop with a real softphone: baresip (Debian's package) registers to dialgate with SIP digest,
// receives a call from a PSTN gateway (SIPp) through dialgate, and places a call that dialgate
// normalizes and routes to the gateway. SIPp proves the protocol; this proves that a phone people
// use can register and call through dialgate.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dialgate, startDialgate } from "../../src/app.js";
import { parseConfigText } from "../../src/config/load.js";
import { freeSipPort, freeUdpPort, waitFor } from "../support/free-port.js";
import { killAllSipp, SCENARIO_DIR, SippProcess } from "../support/sipp.js";

const HOST = "127.0.0.1";
const DOMAIN = "interop.example";
// No spaces: baresip ends an account parameter at a space.
const PASSWORD = "alice-secret-42";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** A one-second 8 kHz mono 16-bit PCM sine WAV: baresip's audio source (no sound card here). */
function toneWav(): Buffer {
  const samples = 8000;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

interface Baresip {
  readonly sipPort: number;
  output(): string;
  exited: Promise<number | null>;
  kill(): void;
}

/** Starts baresip with its own config directory; `commands` run at start (`-e`). */
async function startBaresip(
  proxyPort: number,
  commands: readonly string[],
  seconds: number,
): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), "dialgate-baresip-"));
  const sipPort = await freeUdpPort();
  writeFileSync(join(dir, "tone.wav"), toneWav());
  writeFileSync(
    join(dir, "config"),
    [
      "poll_method epoll",
      `sip_listen ${HOST}:${sipPort}`,
      "sip_trans_def udp",
      // Its RTP sockets from below the test ports' slices (test/support/free-port.ts): by
      // default baresip binds anywhere in 1024-49152 and could take a port another test file
      // had just picked (seen as EADDRINUSE in a parallel SIPp).
      "rtp_ports 10000-14999",
      `audio_source aufile,${join(dir, "tone.wav")}`,
      `audio_player aufile,${join(dir, "heard.wav")}`,
      `audio_alert aufile,${join(dir, "alert.wav")}`,
      "module_path /usr/lib/baresip/modules",
      "module g711.so",
      "module aufile.so",
      "module_app account.so",
      "module_app menu.so",
      "",
    ].join("\n"),
  );
  // auth_pass: digest against dialgate's registrar and proxy; outbound: every request via dialgate.
  writeFileSync(
    join(dir, "accounts"),
    `<sip:alice@${DOMAIN};transport=udp>;auth_pass=${PASSWORD};outbound="sip:${HOST}:${proxyPort};transport=udp";regint=600;answermode=auto\n`,
  );
  const args = ["-f", dir, "-t", String(seconds), ...commands.flatMap((c) => ["-e", c])];
  const child: ChildProcess = spawn("baresip", args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const collect = (d: Buffer) => {
    text += d.toString("latin1");
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { sipPort, output: () => text, exited, kill: () => child.kill("SIGKILL") };
}

describe("baresip through dialgate", () => {
  let dialgate: Dialgate;
  let proxyPort: number;
  let gatewayPort: number;
  const phones: Baresip[] = [];

  beforeAll(async () => {
    proxyPort = await freeSipPort();
    gatewayPort = await freeUdpPort();
    const parsed = parseConfigText(`
sip:
  listen: [{ transport: udp, host: ${HOST}, port: ${proxyPort} }]
  recordRouteHost: ${HOST}
  drainTimeoutSeconds: 0
http: { port: 0 }
cdr: { file: ${join(mkdtempSync(join(tmpdir(), "dialgate-cdr-")), "cdr.jsonl")} }
gateways:
  - { fqdn: sbc.${DOMAIN}, address: ${HOST}, sipSignalingPort: ${gatewayPort}, transport: udp, enabled: true, sendSipOptions: false, tenant: interop }
tenants:
  - id: interop
    domains: [${DOMAIN}]
    dialPlans:
      global:
        normalizationRules:
          - { name: 7digit, pattern: '^(\\d{7})$', translation: '+1425$1' }
    pstnUsages: [Local]
    voiceRoutes:
      - { identity: Local, numberPattern: '^\\+1425', priority: 1, onlinePstnUsages: [Local], onlinePstnGatewayList: [sbc.${DOMAIN}] }
    voiceRoutingPolicies: [{ identity: Global, onlinePstnUsages: [Local] }]
    users:
      - { id: alice@${DOMAIN}, lineUri: '+14255550100', usageLocation: US, sipPasswordHa1: ${md5(`alice:${DOMAIN}:${PASSWORD}`)} }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    dialgate = await startDialgate(parsed.config);
  });

  afterAll(async () => {
    for (const p of phones) p.kill();
    killAllSipp();
    await dialgate?.stop();
  });

  it("registers with digest and answers a call from the PSTN gateway", async () => {
    const phone = await startBaresip(proxyPort, [], 25);
    phones.push(phone);
    // baresip prints the registrar's answer, e.g. "... 200 OK (...) [1 binding]".
    await waitFor(() => /200 OK.*\[1 binding\]/.test(phone.output()), 15_000, "baresip registration");

    // The gateway (SIPp) calls Alice's number; its Contact names the gateway FQDN.
    const scenario = join(mkdtempSync(join(tmpdir(), "dialgate-interop-")), "gateway-call.xml");
    writeFileSync(
      scenario,
      readFileSync(join(SCENARIO_DIR, "uac-call.xml"), "utf8")
        .replace(
          /From: "Caller" <sip:caller@\[local_ip\]:\[local_port\]>/g,
          `From: <sip:+14255559999@sbc.${DOMAIN}>`,
        )
        .replace(
          /Contact: <sip:caller@\[local_ip\]:\[local_port\];transport=\[transport\]>/g,
          `Contact: <sip:+14255559999@sbc.${DOMAIN}:[local_port]>`,
        ),
    );
    const gateway = await SippProcess.start({
      scenario,
      remote: { host: HOST, port: proxyPort },
      service: "+14255550100",
      pauseMs: 500,
    });
    const result = await gateway.wait();
    expect(result.stats?.successfulCalls, result.errors).toBe(1);
    // The phone saw the call arrive and be established.
    expect(phone.output()).toMatch(/Call established|call established/i);
  });

  it("places a call that dialgate normalizes and routes to the gateway", async () => {
    const gateway = await SippProcess.start({ scenario: "uas-answer.xml", port: gatewayPort });
    const phone = await startBaresip(proxyPort, ["/dial 5550123"], 4);
    phones.push(phone);
    const result = await gateway.wait();
    await phone.exited;
    expect(result.stats?.successfulCalls, result.errors).toBe(1);
    const invite = result.messages.find((m) => m.direction === "received" && m.method === "INVITE");
    expect(invite?.requestUri).toBe(`sip:+14255550123@sbc.${DOMAIN}:${gatewayPort};user=phone`);
    expect(result.messages.some((m) => m.direction === "received" && m.method === "BYE")).toBe(true);
  });
});

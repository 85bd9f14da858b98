// The deployment files, checked without a container engine (none runs on the build machines):
// docker-compose.yml against the Compose Specification's JSON schema (ajv), the files it
// mounts, the drachtio-server configuration it mounts (started for real), the dialgate
// configuration against dialgate's own schema, and the Dockerfile's shape. The Dockerfile's
// build itself is replayed with npm by `npm run docker:replay` (scripts/replay-dockerfile.mjs).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseDockerfile } from "../../scripts/replay-dockerfile.mjs";
import { validateConfig } from "../../src/config/load.js";
import { DrachtioEdge } from "../../src/sip/drachtio/drachtio-edge.js";
import { findDrachtioBinary, tcpOpen } from "../support/drachtio-server.js";
import { freeSipPort, freeTcpPort, waitFor } from "../support/free-port.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (p: string) => readFileSync(join(root, p), "utf8");
type ComposeService = {
  image?: string;
  volumes?: string[];
  build?: string;
  command?: string[];
  network_mode?: string;
};
const compose = parse(read("docker-compose.yml")) as { services: Record<string, ComposeService> };

/** The commented `dialgate-native` service, uncommented: what an operator gets by following its comment. */
function nativeVariant(): ComposeService {
  const lines = read("docker-compose.yml").split("\n");
  const start = lines.findIndex((l) => /^ {2}# dialgate-native:/.test(l));
  expect(start).toBeGreaterThan(0);
  const block: string[] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith("  #")) break;
    block.push(l.replace(/^ {2}# ?/, "  "));
  }
  const parsed = parse(`services:\n${block.join("\n")}`) as { services: Record<string, ComposeService> };
  const service = parsed.services["dialgate-native"];
  if (service === undefined) throw new Error("no dialgate-native service in the commented block");
  return service;
}

/** The files a service mounts from the repository (`./...:target`), with their targets. */
function mountedFiles(service: ComposeService): { source: string; target: string }[] {
  return (service.volumes ?? [])
    .map((v) => v.split(":"))
    .filter(([source]) => source?.startsWith("./"))
    .map(([source = "", target = ""]) => ({ source, target }));
}

function composeValidator() {
  const { $schema, ...schema } = JSON.parse(read("deploy/compose-spec/compose-spec.json")) as {
    $schema: string;
  };
  // Draft-07 (ajv's default dialect; the file names its meta-schema by https, which ajv knows
  // by http). `format` values are informative there, so no ajv-formats.
  expect($schema).toMatch(/draft-07/);
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

describe("docker-compose.yml", () => {
  const validate = composeValidator();

  it("is valid by the Compose Specification's schema", () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema check is not vacuous: a misspelt key and a wrong type are refused", () => {
    const typo = structuredClone(compose) as Record<string, unknown> & typeof compose;
    (typo.services.dialgate as Record<string, unknown>).volumnes = [];
    expect(validate(typo)).toBe(false);
    const wrong = structuredClone(compose);
    (wrong.services.redis as Record<string, unknown>).ports = [{ target: "not a port", protocol: 6 }];
    expect(validate(wrong)).toBe(false);
  });

  it("runs dialgate on the drachtio edge beside the official drachtio-server image and Redis", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["config-push", "dialgate", "drachtio", "redis"]);
    expect(compose.services.drachtio?.image).toMatch(/^drachtio\/drachtio-server:/);
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    expect(compose.services.dialgate?.build).toBe(".");
    // The commented native-edge variant is there for operators without drachtio-server.
    expect(read("docker-compose.yml")).toMatch(/^ {2}# dialgate-native:/m);
  });

  it("mounts files that exist, in the commented native-edge variant too", () => {
    const services = { ...compose.services, "dialgate-native": nativeVariant() };
    for (const [name, service] of Object.entries(services))
      for (const { source } of mountedFiles(service))
        expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
  });

  it("the native-edge variant, swapped in as its comment says, is valid by the schema too", () => {
    const { drachtio: _d, dialgate: _g, ...kept } = compose.services;
    const swapped = { ...compose, services: { ...kept, "dialgate-native": nativeVariant() } };
    expect(validate(swapped), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(Object.keys(swapped.services).sort()).toEqual(["config-push", "dialgate-native", "redis"]);
  });
});

describe("deploy/ configurations", () => {
  const drachtioXml = read("deploy/drachtio/drachtio.conf.xml");
  const dialgateYaml = parse(read("deploy/dialgate/dialgate.yaml")) as Record<string, unknown>;

  it("dialgate's file is valid, on the drachtio edge, with the secret and address drachtio-server has", () => {
    const r = validateConfig(dialgateYaml);
    expect(r.ok ? [] : r.problems).toEqual([]);
    if (!r.ok) return;
    expect(r.config.sip.edge).toBe("drachtio");
    expect(r.config.redis?.url).toBe("redis://127.0.0.1:6379");
    const admin = /<admin port="(\d+)" secret="([^"]+)">([^<]+)<\/admin>/.exec(drachtioXml);
    expect(admin?.slice(1)).toEqual([
      String(r.config.sip.drachtio?.port),
      r.config.sip.drachtio?.secret,
      r.config.sip.drachtio?.host,
    ]);
    expect(drachtioXml).toMatch(/<cdrs>true<\/cdrs>/);
    const contact = /<contact>sip:([^:]+):(\d+);transport=udp,tcp<\/contact>/.exec(drachtioXml);
    expect(r.config.sip.listen.map((l) => `${l.host}:${l.port}`)).toEqual([
      `${contact?.[1]}:${contact?.[2]}`,
      `${contact?.[1]}:${contact?.[2]}`,
    ]);
  });

  it("the native variant's file is valid: the native edge on every address, Redis and the CDR volume as in the drachtio variant", () => {
    const service = nativeVariant();
    const mounted = mountedFiles(service).find((m) => m.target === service.command?.at(-1));
    expect(mounted?.source).toBe("./deploy/dialgate/dialgate-native.yaml");
    const r = validateConfig(parse(read(mounted?.source ?? "")));
    expect(r.ok ? [] : r.problems).toEqual([]);
    if (!r.ok) return;
    const drachtioVariant = validateConfig(dialgateYaml);
    if (!drachtioVariant.ok) throw new Error("invalid deploy/dialgate/dialgate.yaml");
    expect(r.config.sip.edge).toBe("native");
    expect(new Set(r.config.sip.listen.map((l) => l.host))).toEqual(new Set(["0.0.0.0"]));
    expect(r.config.http.host).toBe("0.0.0.0");
    expect(r.config.redis?.url).toBe(drachtioVariant.config.redis?.url);
    // The CDR journal lives in the writable volume the service mounts.
    const cdrVolume = (service.volumes ?? []).find((v) => v.startsWith("dialgate-cdr:"))?.split(":")[1];
    expect(cdrVolume).toBe("/var/lib/dialgate");
    expect(r.config.cdr.file.startsWith(`${cdrVolume}/`)).toBe(true);
    expect(service.network_mode).toBe(compose.services.dialgate?.network_mode);
  });

  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill("SIGKILL");
  });

  it("drachtio-server accepts the mounted configuration and dialgate's edge connects to it", async () => {
    // The same file with loopback ports free on this machine (the real ones may be in use).
    const admin = await freeTcpPort();
    const sip = await freeSipPort();
    const dir = mkdtempSync(join(tmpdir(), "dialgate-deploy-"));
    const conf = join(dir, "drachtio.conf.xml");
    writeFileSync(
      conf,
      drachtioXml
        .replace(/<admin port="\d+"/, `<admin port="${admin}"`)
        .replace(/127\.0\.0\.1:5060/, `127.0.0.1:${sip}`)
        .replace(/<prometheus port="\d+">/, `<prometheus port="${await freeTcpPort()}">`),
    );
    child = spawn(findDrachtioBinary(), ["-f", conf], { cwd: dir, stdio: "ignore" });
    // drachtio-server opens its admin port before its SIP transports; an app connecting in
    // between is told of no SIP address. Wait for the SIP port as an operator's probe would.
    await waitFor(() => tcpOpen("127.0.0.1", sip), 20_000, "drachtio-server's SIP port");
    const r = validateConfig(dialgateYaml);
    if (!r.ok) throw new Error("invalid deploy/dialgate/dialgate.yaml");
    const drachtio = {
      ...(r.config.sip.drachtio ?? { host: "", secret: "", pingIntervalSeconds: 15 }),
      port: admin,
    };
    const edge = new DrachtioEdge({
      settings: r.config.sip,
      drachtio,
      router: { route: () => ({ kind: "respond", status: 403, reason: "Forbidden" }) },
      connectTimeoutMs: 20_000,
    });
    try {
      await edge.start();
      await waitFor(() => edge.connection.state === "connected");
      expect(edge.connection.hostports).toContain(`127.0.0.1:${sip}`);
    } finally {
      await edge.stop();
    }
  });
});

describe("Dockerfile", () => {
  const stages = parseDockerfile(read("Dockerfile"));

  it("builds in one stage and runs from a small one, as a non-root user, with a /healthz health check", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "runtime"]);
    const runtime = stages[1];
    expect(runtime?.from).toMatch(/-slim$/);
    const user = runtime?.steps.filter((s) => s.op === "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    const env = runtime?.steps
      .filter((s) => s.op === "ENV")
      .map((s) => s.args)
      .join("\n");
    expect(env).toMatch(/\/healthz/);
    expect(runtime?.steps.some((s) => s.op === "HEALTHCHECK" && /DIALGATE_HEALTH_URL/.test(s.args))).toBe(
      true,
    );
    // The runtime stage copies only built output and production modules from the build stage.
    expect(
      runtime?.steps.some((s) => s.op === "COPY" && /src\b/.test(s.args) && !s.args.includes("--from")),
    ).toBe(false);
  });

  it("copies only files that exist in the build context", () => {
    for (const stage of stages)
      for (const step of stage.steps) {
        if (step.op !== "COPY" || step.args.startsWith("--from")) continue;
        const sources = step.args.split(/\s+/).slice(0, -1);
        for (const s of sources) expect(existsSync(join(root, s)), s).toBe(true);
      }
  });
});

#!/usr/bin/env node
// Replays the Dockerfile's build with npm, without a container engine (none runs on the
// project's build machines): every stage gets a scratch directory standing for its file
// system, WORKDIR/COPY/ENV/RUN are carried out there in order (COPY --from reads the earlier
// stage's directory), and the last stage's result is then checked as the image would be used:
// its ENTRYPOINT runs `config check`, then `serve` on free loopback ports, and the HEALTHCHECK
// command must pass against it.
//
// What cannot be replayed without a container is said, not skipped silently: the base image
// (the host's own Node runs instead of node:20-bookworm-slim), USER (the host user runs it), and
// RUN steps that write outside the stage's WORKDIR by absolute path (they would touch the host:
// reported as container-only).
//
// Usage: npm run docker:replay [-- --keep]   (--keep leaves the scratch directory for a look)
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Instructions per stage. Lines joined at `\`, comments dropped; `args` is the rest of the line.
 * @param {string} text
 * @returns {{ name: string; from: string; steps: { op: string; args: string }[] }[]}
 */
export function parseDockerfile(text) {
  const lines = [];
  let current = "";
  for (const raw of text.split(/\r?\n/)) {
    if (current === "" && /^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== "") lines.push(current.trim());
    current = "";
  }
  const stages = [];
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`cannot read Dockerfile line: ${line}`);
    const op = m[1].toUpperCase();
    const args = m[2].trim();
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (f === null) throw new Error(`cannot read FROM: ${args}`);
      stages.push({ name: f[2] ?? String(stages.length), from: f[1], steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`${op} before FROM`);
    stage.steps.push({ op, args });
  }
  return stages;
}

/** A JSON-array (exec form) or shell-form argument list. */
function execForm(args) {
  return args.startsWith("[") ? JSON.parse(args) : ["sh", "-c", args];
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function replay() {
  const context = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const keep = process.argv.includes("--keep");
  const scratch = mkdtempSync(join(tmpdir(), "dialgate-docker-replay-"));
  const stages = parseDockerfile(readFileSync(join(context, "Dockerfile"), "utf8"));
  const roots = new Map();
  const notes = [];
  let last = null;
  for (const stage of stages) {
    const root = join(scratch, stage.name);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    const env = { ...process.env };
    const inRoot = (p, cwd) => (isAbsolute(p) ? join(root, p) : join(cwd, p));
    let workdir = "/";
    const meta = { user: null, entrypoint: null, cmd: null, healthcheck: null, env };
    console.log(
      `== stage ${stage.name} (FROM ${stage.from}: replayed with the host's node ${process.version})`,
    );
    for (const { op, args } of stage.steps) {
      const cwd = join(root, workdir);
      switch (op) {
        case "WORKDIR":
          workdir = isAbsolute(args) ? args : join(workdir, args);
          mkdirSync(join(root, workdir), { recursive: true });
          break;
        case "ENV": {
          const m = /^(\S+)[=\s](.*)$/.exec(args);
          if (m) env[m[1]] = m[2];
          break;
        }
        case "COPY": {
          const parts = args.split(/\s+/);
          let from = null;
          if (parts[0]?.startsWith("--from=")) from = parts.shift().slice("--from=".length);
          const dest = parts.pop();
          for (const src of parts) {
            const source = from === null ? join(context, src) : join(roots.get(from), src);
            const target = inRoot(dest, cwd);
            const into = dest.endsWith("/") && parts.length > 0 ? join(target, src.split("/").pop()) : target;
            mkdirSync(dirname(into), { recursive: true });
            cpSync(source, into, { recursive: true, dereference: false });
          }
          console.log(`COPY ${args}`);
          break;
        }
        case "RUN": {
          if (/(^|[\s;&|])\/(?!dev\/null)/.test(args)) {
            notes.push(`container-only (writes by absolute path, not replayed): RUN ${args}`);
            console.log(`RUN ${args}   # container-only, not replayed`);
            break;
          }
          console.log(`RUN ${args}`);
          const r = spawnSync("sh", ["-c", args], { cwd, env, stdio: "inherit" });
          if (r.status !== 0) throw new Error(`RUN failed (${r.status}): ${args}`);
          break;
        }
        case "USER":
          meta.user = args;
          notes.push(`USER ${args}: the replay runs as the host user`);
          break;
        case "ENTRYPOINT":
          meta.entrypoint = execForm(args);
          break;
        case "CMD":
          meta.cmd = execForm(args);
          break;
        case "HEALTHCHECK": {
          const m = /CMD\s+(.*)$/.exec(args);
          meta.healthcheck = m ? execForm(m[1]) : null;
          break;
        }
        case "EXPOSE":
        case "LABEL":
        case "ARG":
          break;
        default:
          throw new Error(`instruction not replayed: ${op}`);
      }
    }
    last = { root, workdir, meta };
  }
  const { root, workdir, meta } = last;
  const app = join(root, workdir);
  if (meta.entrypoint === null) throw new Error("the last stage has no ENTRYPOINT");
  const [cmd, ...entryArgs] = meta.entrypoint;
  const run = (args, opts = {}) =>
    spawnSync(cmd, [...entryArgs, ...args], { cwd: app, env: meta.env, encoding: "utf8", ...opts });

  console.log("== the runtime artefact");
  const check = run(["config", "check", "--config", "config/dialgate.yaml"]);
  process.stdout.write(check.stdout);
  if (check.status !== 0) throw new Error(`config check failed: ${check.stderr}`);

  // serve on free loopback ports (the example's 5060/8080 may be taken on this machine)
  const sip = await freePort();
  const http = await freePort();
  const example = readFileSync(join(app, "config/dialgate.yaml"), "utf8")
    .replaceAll("port: 5060", `port: ${sip}`)
    .replace(/^http:\n {2}host: (\S+)\n {2}port: \d+/m, `http:\n  host: $1\n  port: ${http}`)
    .replace(/^ {2}file: var\/cdr\.jsonl$/m, `  file: ${join(scratch, "cdr.jsonl")}`);
  const configFile = join(scratch, "serve.yaml");
  writeFileSync(configFile, example);
  const server = spawn(cmd, [...entryArgs, "serve", "--config", configFile], {
    cwd: app,
    env: meta.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  server.stderr.on("data", (d) => {
    stderr += d;
  });
  const healthEnv = { ...meta.env, DIALGATE_HEALTH_URL: `http://127.0.0.1:${http}/healthz` };
  let healthy = false;
  for (let i = 0; i < 100 && !healthy && server.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if (meta.healthcheck === null) break;
    const [hc, ...hcArgs] = meta.healthcheck;
    healthy = spawnSync(hc, hcArgs, { cwd: app, env: healthEnv }).status === 0;
  }
  server.kill("SIGTERM");
  const code = await new Promise((r) => server.on("exit", (c) => r(c)));
  console.log(
    `HEALTHCHECK ${healthy ? "passed" : "FAILED"} against serve on udp/tcp ${sip}, http ${http}; serve exited ${code} on SIGTERM`,
  );
  for (const n of notes) console.log(`note: ${n}`);
  if (!keep) rmSync(scratch, { recursive: true, force: true });
  else console.log(`scratch directory kept: ${scratch}`);
  if (!healthy) throw new Error(`the health check never passed:\n${stderr.slice(-4000)}`);
  if (code !== 0) throw new Error(`serve exited ${code} on SIGTERM`);
  console.log("docker:replay OK");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  replay().catch((err) => {
    console.error(`docker:replay failed: ${err.message}`);
    process.exit(1);
  });
}

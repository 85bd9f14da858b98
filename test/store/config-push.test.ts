// `dialgate config push` as operators run it (the built binary) against a real redis-server and
// a real three-master Redis Cluster: validation before any write, the printed diff, --dry-run,
// and the atomic version switch readers see.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisSchema } from "../../src/config/schema.js";
import { createRedisClient, type RedisClient, waitForRedisReady } from "../../src/store/redis/connection.js";
import { RedisKeys } from "../../src/store/redis/keys.js";
import { RedisRoutingStore } from "../../src/store/redis/routing-store.js";
import { RedisClusterProcess, RedisServerProcess, redisCommand } from "../support/redis-server.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const example = readFileSync(join(root, "config/dialgate.yaml"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "dialgate-push-"));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function push(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "config", "push", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

// The example with one user changed.
const changed = example.replace("displayName: Alice", "displayName: Alice Smith");

const targets = [
  {
    name: "standalone",
    start: async () => {
      const s = await RedisServerProcess.start();
      return { urlArgs: ["--redis", s.url], settings: { url: s.url }, cleanup: () => s.cleanup() };
    },
  },
  {
    name: "cluster",
    start: async () => {
      const c = await RedisClusterProcess.start();
      return {
        urlArgs: ["--redis", c.urls[0] as string, "--cluster"],
        settings: { url: c.urls[0] as string, cluster: true, clusterNodes: c.urls.slice(1) },
        cleanup: () => c.cleanup(),
      };
    },
  },
];

describe.each(targets)("dialgate config push ($name)", ({ start }) => {
  let target: Awaited<ReturnType<(typeof targets)[number]["start"]>>;
  let client: RedisClient;
  let store: RedisRoutingStore;

  beforeAll(async () => {
    target = await start();
    client = createRedisClient({ settings: redisSchema.parse(target.settings) });
    await waitForRedisReady(client, 10_000, "test redis");
    store = new RedisRoutingStore(client, new RedisKeys("dialgate"));
  });
  afterAll(async () => {
    client?.disconnect();
    await target?.cleanup();
  });

  it("refuses an invalid file with every problem and writes nothing", async () => {
    const text = example.replace("pattern: '^(\\d{4})$'", "pattern: '^(\\d{4}$'");
    expect(text).not.toBe(example);
    const bad = file("bad.yaml", text);
    const r = await push(["--config", bad, ...target.urlArgs]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/invalid configuration, \d+ problem/);
    expect(await store.activeVersion()).toBeNull();
  });

  it("pushes every routing object as version 1 and prints what was added", async () => {
    const r = await push(["--config", join(root, "config/dialgate.yaml"), ...target.urlArgs]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("added    gateway sbc1.contoso.com");
    expect(r.out).toContain("added    tenant contoso user alice@contoso.com");
    expect(r.out).toContain("added    tenant contoso dialPlan Redmond");
    expect(r.out).toMatch(/version 1 \(was none\)/);
    const active = await store.readActive();
    expect(active?.version).toBe(1);
    expect(active?.document.tenants[0]?.users.map((u) => u.id)).toContain("alice@contoso.com");
  });

  it("prints the diff on --dry-run and changes nothing", async () => {
    const f = file("changed.yaml", changed);
    const r = await push(["--config", f, ...target.urlArgs, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("changed  tenant contoso user alice@contoso.com");
    expect(r.out).toMatch(/dry run: 0 added, 1 changed, 0 removed/);
    expect(await store.activeVersion()).toBe(1);
  });

  it("switches to the new version in one step; the old one expires", async () => {
    const f = file("changed2.yaml", changed);
    const r = await push(["--config", f, ...target.urlArgs]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/version 2 \(was 1\); 0 added, 1 changed, 0 removed/);
    const active = await store.readActive();
    expect(active?.version).toBe(2);
    const alice = active?.document.tenants[0]?.users.find((u) => u.id === "alice@contoso.com");
    expect(alice?.displayName).toBe("Alice Smith");
    expect(await client.ttl(store.keys.routingVersion(1))).toBeGreaterThan(0);
    expect(await client.ttl(store.keys.routingVersion(2))).toBe(-1);
  });

  it("removes what the file no longer holds, and says so", async () => {
    const noCarrier = changed.replace(/\ncarriers:[\s\S]*$/, "\n").replace(/\n\s+carrier: fabrikam/g, "");
    const f = file("removed.yaml", noCarrier);
    const r = await push(["--config", f, ...target.urlArgs]);
    expect(r.err).toBe("");
    expect(r.out).toContain("removed  carrier fabrikam");
    expect(r.out).toContain("changed  gateway sbc1.contoso.com");
    expect(await store.activeVersion()).toBe(3);
  });

  it("reports no change for the same file again", async () => {
    const noCarrier = changed.replace(/\ncarriers:[\s\S]*$/, "\n").replace(/\n\s+carrier: fabrikam/g, "");
    const r = await push(["--config", file("same.yaml", noCarrier), ...target.urlArgs]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no change: .* already holds version 3/);
  });
});

describe("dialgate config push without a server", () => {
  it("exits 3 naming the unreachable Redis", async () => {
    const s = await RedisServerProcess.start();
    const url = s.url;
    await s.cleanup();
    const r = await push(["--config", join(root, "config/dialgate.yaml"), "--redis", url]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot write to Redis at 127\.0\.0\.1:\d+/);
  });
});

describe("dialgate config push with the file's redis section", () => {
  let redis: RedisServerProcess;
  let tlsPort: number;
  let caFile: string;
  beforeAll(async () => {
    ({ redis, tlsPort, caFile } = await RedisServerProcess.startWithTls());
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  it("keeps the file's TLS trust anchors and key prefix when --redis names the server", async () => {
    // The operator's file says how to reach Redis (its own CA, a key prefix); --redis only
    // says which server.
    const f = file(
      "with-redis.yaml",
      `${example}\nredis:\n  url: rediss://redis.invalid:6379\n  keyPrefix: tenantx\n  tls: { caFile: '${caFile}' }\n`,
    );
    const r = await push(["--config", f, "--redis", `rediss://127.0.0.1:${tlsPort}`]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/version 1 \(was none\)/);
    expect(await redisCommand(redis.port, "GET {tenantx:routing}:active")).toContain("1");
    expect(await redisCommand(redis.port, "EXISTS {dialgate:routing}:active")).toMatch(/^:0/);
  });
});

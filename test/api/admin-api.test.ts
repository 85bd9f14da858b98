// The admin API over real HTTP: the admin token, the dial plan and route tests answering exactly
// what the CLI prints with --json (run in-process on the same configuration file), the
// effective dial plan, read access to tenants, users, gateways and routing objects, and bad input.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialplanEffective, dialplanTest } from "../../src/cli/dialplan.js";
import type { CliCommand } from "../../src/cli/io.js";
import { routeTest } from "../../src/cli/route.js";
import {
  ADMIN_TOKEN,
  baseConfig,
  FABRIKAM_KEY,
  type Harness,
  startHarness,
} from "./support/carrier-harness.js";

let h: Harness;
let configFile: string;
beforeAll(async () => {
  h = await startHarness();
  configFile = join(h.dir, "dialgate.json");
  await writeFile(configFile, JSON.stringify(baseConfig(h.dir, 5060)));
});
afterAll(async () => {
  await h.close();
});

async function cli(
  command: CliCommand,
  args: string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(["--config", configFile, ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

const admin = (path: string, body?: unknown, token: string | null = ADMIN_TOKEN) =>
  h.call(path, token, body === undefined ? {} : { method: "POST", body });

describe("admin authentication", () => {
  it("answers 401 without the token, with a wrong one and with a carrier key", async () => {
    for (const token of [null, "nope", FABRIKAM_KEY]) {
      expect((await admin("/v1/admin/tenants", undefined, token)).status).toBe(401);
      expect(
        (await admin("/v1/admin/route/test", { user: "alice@contoso.com", number: "5550100" }, token)).status,
      ).toBe(401);
    }
  });

  it("is off without http.adminToken", async () => {
    const off = await startHarness({ patch: (b) => ({ ...b, http: { port: 0 } }) });
    try {
      const r = await off.call("/v1/admin/tenants", ADMIN_TOKEN);
      expect(r.status).toBe(401);
      expect(r.text).toContain("http.adminToken");
    } finally {
      await off.close();
    }
  });
});

describe("the tests answer exactly what the CLI prints with --json", () => {
  it("POST /v1/admin/dialplan/test", async () => {
    for (const number of ["5550100", "+14255550100", "0012065550100", "*99"]) {
      const printed = await cli(dialplanTest, ["--user", "alice@contoso.com", "--number", number, "--json"]);
      const r = await admin("/v1/admin/dialplan/test", { user: "alice@contoso.com", number });
      if (printed.code === 0) {
        expect(r.status, number).toBe(200);
        expect(r.text, number).toBe(printed.out[0]);
      } else expect(r.status, number).toBe(400);
    }
  });

  it("POST /v1/admin/route/test", async () => {
    for (const [number, seed] of [
      ["5550123", 1],
      ["+12065550123", 7],
      ["+4930123456", 3],
    ] as const) {
      const printed = await cli(routeTest, [
        "--user",
        "alice@contoso.com",
        "--number",
        number,
        "--seed",
        String(seed),
        "--json",
      ]);
      expect(printed.code).toBe(0);
      const r = await admin("/v1/admin/route/test", { user: "alice@contoso.com", number, seed });
      expect(r.status).toBe(200);
      expect(r.text).toBe(printed.out[0]);
    }
    const report = (
      await admin("/v1/admin/route/test", { user: "alice@contoso.com", number: "5550123", seed: 1 })
    ).json() as {
      attempts: { gateway: string; requestUri: string }[];
    };
    expect(report.attempts[0]?.gateway).toBe("sbc1.contoso.com");
    expect(report.attempts[0]?.requestUri).toContain("+14255550123");
  });

  it("GET /v1/admin/users/{id}/effective-dial-plan", async () => {
    const printed = await cli(dialplanEffective, ["--user", "alice@contoso.com", "--json"]);
    const r = await h.call("/v1/admin/users/alice@contoso.com/effective-dial-plan", ADMIN_TOKEN);
    expect(r.status).toBe(200);
    expect(r.text).toBe(printed.out[0]);
  });

  it("answers 404 for an unknown user and 400 for bad input, as the CLI exits 2", async () => {
    const printed = await cli(routeTest, ["--user", "mallory@contoso.com", "--number", "5550100", "--json"]);
    expect(printed.code).toBe(2);
    const r = await admin("/v1/admin/route/test", { user: "mallory@contoso.com", number: "5550100" });
    expect(r.status).toBe(404);
    expect((r.json() as { error: { code: string } }).error.code).toBe("unknown_user");
    expect(
      (await admin("/v1/admin/dialplan/test", { user: "mallory@contoso.com", number: "1" })).status,
    ).toBe(404);
    expect(
      (await h.call("/v1/admin/users/mallory@contoso.com/effective-dial-plan", ADMIN_TOKEN)).status,
    ).toBe(404);
    const bad = await admin("/v1/admin/route/test", { user: "alice@contoso.com", number: "555<script>" });
    expect(bad.status).toBe(400);
    const shapes: [unknown, string][] = [
      [{ user: "alice@contoso.com" }, "body.number"],
      [{ user: "alice@contoso.com", number: 5550100 }, "body.number"],
      [{ user: "alice@contoso.com", number: "1", seed: -1 }, "body.seed"],
      [{ user: "alice@contoso.com", number: "1", debug: true }, "body.debug"],
    ];
    for (const [body, path] of shapes) {
      const r2 = await admin("/v1/admin/route/test", body);
      expect(r2.status, JSON.stringify(body)).toBe(400);
      expect((r2.json() as { error: { details: string[] } }).error.details.join(" ")).toContain(path);
    }
    const malformed = await h.call("/v1/admin/dialplan/test", ADMIN_TOKEN, { method: "POST", rawBody: "{" });
    expect(malformed.status).toBe(400);
  });
});

describe("read access", () => {
  it("lists tenants, users (without digest hashes), routing objects, gateways, translation rules, carriers", async () => {
    const tenants = (await h.call("/v1/admin/tenants", ADMIN_TOKEN)).json() as {
      tenants: { id: string; userCount: number }[];
    };
    expect(tenants.tenants).toEqual([expect.objectContaining({ id: "contoso", userCount: 2 })]);
    const tenant = (await h.call("/v1/admin/tenants/contoso", ADMIN_TOKEN)).json() as Record<string, unknown>;
    expect(tenant.domains).toEqual(["contoso.com"]);
    expect(tenant).not.toHaveProperty("users");
    const users = await h.call("/v1/admin/tenants/contoso/users", ADMIN_TOKEN);
    expect(users.text).not.toContain("910f40e96d7d731e9b385d5ae3980ae5");
    const list = (users.json() as { users: { id: string; hasDigestCredentials: boolean }[] }).users;
    expect(list.map((u) => [u.id, u.hasDigestCredentials])).toEqual([
      ["alice@contoso.com", true],
      ["bob@contoso.com", false],
    ]);
    const alice = (await h.call("/v1/admin/users/Alice@Contoso.com", ADMIN_TOKEN)).json() as Record<
      string,
      unknown
    >;
    expect(alice).toMatchObject({ id: "alice@contoso.com", tenantId: "contoso", lineUri: "+14255550100" });
    expect(alice).not.toHaveProperty("sipPasswordHa1");
    const routing = (await h.call("/v1/admin/tenants/contoso/routing", ADMIN_TOKEN)).json() as {
      voiceRoutes: { identity: string }[];
      pstnUsages: string[];
    };
    expect(routing.voiceRoutes.map((v) => v.identity)).toEqual(["Redmond1"]);
    expect(routing.pstnUsages).toEqual(["US and Canada"]);
    const gateways = (await h.call("/v1/admin/gateways", ADMIN_TOKEN)).json() as {
      gateways: { fqdn: string }[];
    };
    expect(gateways.gateways.map((g) => g.fqdn)).toEqual(["sbc1.contoso.com", "sbc9.northwind.example"]);
    const g = (await h.call("/v1/admin/gateways/SBC1.contoso.com", ADMIN_TOKEN)).json() as {
      carrier: string;
    };
    expect(g.carrier).toBe("fabrikam");
    expect((await h.call("/v1/admin/translation-rules", ADMIN_TOKEN)).status).toBe(200);
    const carriers = await h.call("/v1/admin/carriers", ADMIN_TOKEN);
    expect(carriers.text).not.toContain("apiKeySha256");
    expect((carriers.json() as { carriers: { id: string; apiKeyCount: number }[] }).carriers).toEqual([
      expect.objectContaining({ id: "fabrikam", apiKeyCount: 2 }),
      expect.objectContaining({ id: "northwind", apiKeyCount: 1 }),
    ]);
  });

  it("answers 404 for what does not exist", async () => {
    for (const path of [
      "/v1/admin/tenants/fabrikam",
      "/v1/admin/tenants/fabrikam/users",
      "/v1/admin/tenants/fabrikam/routing",
      "/v1/admin/users/nobody@contoso.com",
      "/v1/admin/gateways/sbc7.contoso.com",
    ]) {
      const r = await h.call(path, ADMIN_TOKEN);
      expect(r.status, path).toBe(404);
      expect((r.json() as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});

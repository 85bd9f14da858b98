import { describe, expect, it } from "vitest";
import { createCallRouter } from "../../src/routing/index.js";
import { ALICE_PASSWORD, routingConfig } from "./fixture.js";
import { digestAnswer, headerOf, request, testDeps } from "./support.js";

const RURI = "sip:+14255550199@proxy.example.net";
const invite = (headers: Record<string, string[]> = {}, extra: Partial<Parameters<typeof request>[0]> = {}) =>
  request({ requestUri: RURI, from: "sip:alice@contoso.com", source: "198.51.100.7", headers, ...extra });

describe("caller identification", () => {
  it("refuses a From that names no user of a tenant with 403", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    for (const from of ["sip:mallory@contoso.com", "sip:alice@fabrikam.com", "sip:+14255550100@10.0.0.1"]) {
      expect(await router.route(invite({}, { from }))).toMatchObject({ kind: "respond", status: 403 });
    }
  });

  it("recognises a gateway by Contact FQDN and source address together, and nothing less", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const fromSbc1 = (source: string, contact = "sip:+12065550123@sbc1.contoso.com:5061") =>
      request({
        requestUri: "sip:+14255550101;ext=0101@proxy.example.net;user=phone",
        from: "sip:+12065550123@sbc1.contoso.com",
        contact,
        source,
      });
    expect((await router.route(fromSbc1("10.0.0.1"))).kind).toBe("forward");
    // Right FQDN, wrong address: neither a gateway nor a user.
    const wrong = await router.route(fromSbc1("10.0.0.2"));
    expect(wrong).toMatchObject({ kind: "respond", status: 403 });
    expect(headerOf(wrong, "Reason")[0]).toContain("not expected from 10.0.0.2");
    // Right address, a Contact host that is not a gateway.
    expect(await router.route(fromSbc1("10.0.0.1", "sip:x@evil.example"))).toMatchObject({ status: 403 });
  });

  it("takes a one-label subdomain of a carrier trunk as a derived trunk, but not of a plain gateway", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const from = (host: string, source: string) =>
      request({
        requestUri: "sip:12065550100@proxy.example.net",
        from: `sip:4255551234@${host}`,
        contact: `sip:4255551234@${host}`,
        source,
      });
    expect((await router.route(from("northwind.trunk.carrier.net", "10.0.1.1"))).kind).toBe("forward");
    expect(await router.route(from("a.b.trunk.carrier.net", "10.0.1.1"))).toMatchObject({ status: 403 });
    expect(await router.route(from("x.sbc1.contoso.com", "10.0.0.1"))).toMatchObject({ status: 403 });
  });

  it("trusts P-Asserted-Identity only from the user's tenant's trusted networks", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const withPai = (source: string) =>
      request({
        requestUri: RURI,
        from: "sip:anonymous@anonymous.invalid",
        pai: "sip:alice@contoso.com",
        source,
      });
    expect((await router.route(withPai("10.9.3.3"))).kind).toBe("forward");
    expect(await router.route(withPai("198.51.100.7"))).toMatchObject({ status: 403 });
  });
});

describe("digest authentication", () => {
  async function challenge(router: ReturnType<typeof createCallRouter>, algorithm = "MD5") {
    const d = await router.route(invite());
    expect(d).toMatchObject({ kind: "respond", status: 407, reason: "Proxy Authentication Required" });
    const found = headerOf(d, "Proxy-Authenticate").find((h) => h.includes(`algorithm=${algorithm}`));
    if (found === undefined) throw new Error(`no ${algorithm} challenge`);
    return found;
  }
  const answer = (ch: string, opts: { password?: string; nc?: number; uri?: string } = {}) =>
    digestAnswer({
      challenge: ch,
      username: "alice",
      password: opts.password ?? ALICE_PASSWORD,
      method: "INVITE",
      uri: opts.uri ?? RURI,
      nc: opts.nc ?? 1,
    });

  it("challenges with SHA-256 first, then MD5, qop=auth, realm = the user's domain", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = await router.route(invite());
    const offers = headerOf(d, "Proxy-Authenticate");
    expect(offers).toHaveLength(2);
    expect(offers[0]).toMatch(/^Digest realm="contoso.com", nonce="[^"]+", algorithm=SHA-256, qop="auth"$/);
    expect(offers[1]).toContain("algorithm=MD5");
  });

  it("accepts a correct MD5 or SHA-256 answer and removes the credentials before forwarding", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    for (const alg of ["MD5", "SHA-256"]) {
      const ch = await challenge(router, alg);
      const d = await router.route(invite({ "proxy-authorization": [answer(ch)] }));
      expect(d.kind).toBe("forward");
      if (d.kind === "forward") expect(d.headerEdits?.remove).toEqual(["Proxy-Authorization"]);
    }
  });

  it("refuses a wrong password with 403", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const ch = await challenge(router);
    const d = await router.route(invite({ "proxy-authorization": [answer(ch, { password: "guess" })] }));
    expect(d).toMatchObject({ kind: "respond", status: 403 });
  });

  it("refuses an answer whose stated uri is not the one it was computed for", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const ch = await challenge(router);
    const tampered = answer(ch).replace(`uri="${RURI}"`, 'uri="sip:911@proxy.example.net"');
    const d = await router.route(invite({ "proxy-authorization": [tampered] }));
    expect(d).toMatchObject({ status: 403 });
  });

  it("re-challenges a replayed nonce-count and accepts the next count", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const ch = await challenge(router);
    const first = answer(ch, { nc: 1 });
    expect((await router.route(invite({ "proxy-authorization": [first] }))).kind).toBe("forward");
    expect(await router.route(invite({ "proxy-authorization": [first] }))).toMatchObject({ status: 407 });
    expect((await router.route(invite({ "proxy-authorization": [answer(ch, { nc: 2 })] }))).kind).toBe(
      "forward",
    );
  });

  it("answers a correct response on an expired nonce with stale=true", async () => {
    const deps = testDeps({ nonceLifetimeSeconds: 60 });
    const router = createCallRouter(routingConfig(), deps);
    const ch = await challenge(router);
    deps.clock.advance(61_000);
    const d = await router.route(invite({ "proxy-authorization": [answer(ch)] }));
    expect(d).toMatchObject({ status: 407 });
    expect(headerOf(d, "Proxy-Authenticate").every((h) => h.endsWith("stale=true"))).toBe(true);
  });

  it("re-challenges a nonce it did not issue (another key), and answers without qop", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const foreign = createCallRouter(routingConfig(), testDeps({ nonceSecret: new Uint8Array(32).fill(9) }));
    const ch = await challenge(foreign);
    const d = await router.route(invite({ "proxy-authorization": [answer(ch)] }));
    expect(d).toMatchObject({ status: 407 });
    expect(headerOf(d, "Proxy-Authenticate")[0]).not.toContain("stale");
    const noQop = answer(await challenge(router)).replace(/, qop=auth, nc=\w+, cnonce="\w+"/, "");
    expect(await router.route(invite({ "proxy-authorization": [noQop] }))).toMatchObject({ status: 407 });
  });

  it("lets a user from a trusted client network through without a challenge", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    expect((await router.route(invite({}, { source: "10.9.200.1" }))).kind).toBe("forward");
  });

  it("refuses a user without any stored secret outside the trusted networks", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    expect(await router.route(invite({}, { from: "sip:dave@contoso.com" }))).toMatchObject({ status: 403 });
  });
});

import { describe, expect, it } from "vitest";
import { createCallRouter } from "../../src/routing/index.js";
import { ALICE_PASSWORD, routingConfig } from "./fixture.js";
import { digestAnswer, headerOf, request, testDeps } from "./support.js";

type Contacts = Parameters<typeof request>[0]["contacts"];

function setup() {
  const deps = testDeps();
  const router = createCallRouter(routingConfig(), deps);
  let cseq = 0;
  // carol registers from a trusted network: no digest in these tests.
  const register = (contacts: Contacts, expires: number | null = null, callId = "reg-1") =>
    router.route(
      request({
        method: "REGISTER",
        requestUri: "sip:contoso.com",
        from: "sip:carol@contoso.com",
        to: "sip:carol@contoso.com",
        contacts,
        expires,
        source: "10.9.4.4",
        callId,
        cseq: ++cseq,
      }),
    );
  return { deps, router, register };
}

describe("registrar", () => {
  it("binds several contacts and lists them with the seconds they have left", async () => {
    const { deps, register } = setup();
    await register([{ uri: "sip:carol@10.9.4.4:5071" }], 600);
    deps.clock.advance(100_000);
    const d = await register([{ uri: "sip:carol@10.9.4.4:5072", expires: 120 }]);
    expect(d).toMatchObject({ kind: "respond", status: 200 });
    expect(headerOf(d, "Contact")).toEqual([
      "<sip:carol@10.9.4.4:5071>;expires=500",
      "<sip:carol@10.9.4.4:5072>;expires=120",
    ]);
  });

  it("uses the default expiry, shortens a too long one and refuses a too short one with 423", async () => {
    const { register } = setup();
    expect(headerOf(await register([{ uri: "sip:carol@10.9.4.4:5071" }]), "Contact")).toEqual([
      "<sip:carol@10.9.4.4:5071>;expires=3600",
    ]);
    expect(headerOf(await register([{ uri: "sip:carol@10.9.4.4:5071" }], 99_999), "Contact")).toEqual([
      "<sip:carol@10.9.4.4:5071>;expires=3600",
    ]);
    const brief = await register([{ uri: "sip:carol@10.9.4.4:5073" }], 30);
    expect(brief).toMatchObject({ status: 423, reason: "Interval Too Brief" });
    expect(headerOf(brief, "Min-Expires")).toEqual(["60"]);
  });

  it("removes one binding with Expires: 0 and all with Contact: *", async () => {
    const { register } = setup();
    await register([{ uri: "sip:carol@10.9.4.4:5071" }, { uri: "sip:carol@10.9.4.4:5072" }], 600);
    const one = await register([{ uri: "sip:carol@10.9.4.4:5071", expires: 0 }]);
    expect(headerOf(one, "Contact")).toEqual(["<sip:carol@10.9.4.4:5072>;expires=600"]);
    expect(await register("star", 600)).toMatchObject({ status: 400 });
    const all = await register("star", 0);
    expect(all).toMatchObject({ status: 200 });
    expect(headerOf(await register([]), "Contact")).toEqual([]);
  });

  it("lets bindings lapse at their expiry", async () => {
    const { deps, register } = setup();
    await register([{ uri: "sip:carol@10.9.4.4:5071" }], 60);
    deps.clock.advance(60_000);
    expect(headerOf(await register([]), "Contact")).toEqual([]);
  });

  it("refuses an out-of-order REGISTER of the same Call-ID (RFC 3261 §10.3 step 7)", async () => {
    const deps = testDeps();
    const router = createCallRouter(routingConfig(), deps);
    const reg = (cseq: number) =>
      router.route(
        request({
          method: "REGISTER",
          requestUri: "sip:contoso.com",
          from: "sip:carol@contoso.com",
          to: "sip:carol@contoso.com",
          contacts: [{ uri: "sip:carol@10.9.4.4:5071" }],
          source: "10.9.4.4",
          callId: "same",
          cseq,
        }),
      );
    expect(await reg(5)).toMatchObject({ status: 200 });
    expect(await reg(5)).toMatchObject({ status: 500 });
    expect(await reg(6)).toMatchObject({ status: 200 });
  });

  it("challenges with 401 WWW-Authenticate and registers after a correct answer", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const reg = (headers: Record<string, string[]> = {}) =>
      router.route(
        request({
          method: "REGISTER",
          requestUri: "sip:contoso.com",
          from: "sip:alice@contoso.com",
          to: "sip:alice@contoso.com",
          contacts: [{ uri: "sip:alice@198.51.100.7:5060" }],
          source: "198.51.100.7",
          headers,
        }),
      );
    const ch = await reg();
    expect(ch).toMatchObject({ status: 401, reason: "Unauthorized" });
    const md5 = headerOf(ch, "WWW-Authenticate").find((h) => h.includes("MD5")) ?? "";
    const auth = digestAnswer({
      challenge: md5,
      username: "alice",
      password: ALICE_PASSWORD,
      method: "REGISTER",
      uri: "sip:contoso.com",
    });
    const ok = await reg({ authorization: [auth] });
    expect(ok).toMatchObject({ status: 200 });
    expect(headerOf(ok, "Contact")).toEqual(["<sip:alice@198.51.100.7:5060>;expires=3600"]);
  });

  it("does not let one user register another's address", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    const d = await router.route(
      request({
        method: "REGISTER",
        requestUri: "sip:contoso.com",
        from: "sip:carol@contoso.com",
        to: "sip:bob@contoso.com",
        contacts: [{ uri: "sip:evil@10.9.4.4" }],
        source: "10.9.4.4",
      }),
    );
    expect(d).toMatchObject({ status: 403 });
  });
});

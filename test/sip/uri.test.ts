import { describe, expect, it } from "vitest";
import { formatUri, parseNameAddr, parseUri, toNameAddrView, toUriView } from "../../src/sip/index.js";

describe("parseUri: sip and sips (RFC 3261 §19.1)", () => {
  it("reads every component", () => {
    const uri = parseUri(
      "sips:alice:secret@Gateway.Example.org:5061;transport=tcp;lr;maddr=239.255.255.1;user=phone?subject=hi%20there&priority=urgent",
    );
    expect(uri).toMatchObject({
      kind: "sip",
      scheme: "sips",
      user: "alice",
      password: "secret",
      host: "Gateway.Example.org",
      port: 5061,
    });
    if (uri?.kind !== "sip") return;
    expect([...uri.params]).toEqual([
      ["transport", "tcp"],
      ["lr", null],
      ["maddr", "239.255.255.1"],
      ["user", "phone"],
    ]);
    expect([...uri.headers]).toEqual([
      ["subject", "hi there"],
      ["priority", "urgent"],
    ]);
  });

  it("handles IPv4, IPv6 and hosts without users", () => {
    expect(parseUri("sip:192.0.2.4")).toMatchObject({ user: null, host: "192.0.2.4", port: null });
    expect(parseUri("sip:[2001:db8::1]:5080;lr")).toMatchObject({ host: "[2001:db8::1]", port: 5080 });
    expect(parseUri("sip:+15550100@[::1]")).toMatchObject({ user: "+15550100", host: "[::1]", port: null });
    expect(parseUri("SIP:Bob@example.org")).toMatchObject({ scheme: "sip", user: "Bob" });
  });

  it("rejects malformed URIs", () => {
    for (const bad of [
      "sip:",
      "sip:@example.org",
      "sip:bob@",
      "sip:bob@example.org:",
      "sip:bob@example.org:70000",
      "sip:bob@exa mple.org",
      "sip:bob@[2001:db8::1",
      "sip:b<ob@example.org",
      "sip:bob@example.org;=x",
      "sip:bob@example.org?noequals",
      "sip:bo%zzb@example.org",
      "sip:2001:db8::1",
      "<sip:bob@example.org>",
      "1sip:bob@example.org",
      "nocolon",
      "x:",
    ]) {
      expect(parseUri(bad), bad).toBeUndefined();
    }
  });

  it("formats back to an equivalent URI", () => {
    for (const text of [
      "sip:bob@example.org",
      "sips:alice:pw@[2001:db8::1]:5061;transport=tls;lr",
      "sip:+15550100@gw.example.org;user=phone",
      "sip:a%20b@example.org?subject=x%3Dy",
    ]) {
      const uri = parseUri(text);
      expect(uri).toBeDefined();
      const again = parseUri(formatUri(uri!));
      expect({ ...again, raw: "" }).toEqual({ ...uri, raw: "" });
    }
  });
});

describe("parseUri: tel (RFC 3966)", () => {
  it("reads global numbers with visual separators and ext", () => {
    expect(parseUri("tel:+1-(201)-555.0123;ext=42")).toMatchObject({
      kind: "tel",
      number: "+1-(201)-555.0123",
      digits: "+12015550123",
      global: true,
    });
    const local = parseUri("tel:7042;phone-context=example.org");
    expect(local).toMatchObject({ kind: "tel", global: false, digits: "7042" });
    if (local?.kind === "tel") expect(local.params.get("phone-context")).toBe("example.org");
  });

  it("rejects numbers without digits or with letters in a global number", () => {
    expect(parseUri("tel:+")).toBeUndefined();
    expect(parseUri("tel:--")).toBeUndefined();
    expect(parseUri("tel:+1555abc")).toBeUndefined();
  });

  it("formats tel URIs", () => {
    const uri = parseUri("tel:+1-201-555-0123;ext=9");
    expect(formatUri(uri!)).toBe("tel:+1-201-555-0123;ext=9");
  });
});

describe("name-addr (RFC 3261 §20.10)", () => {
  it("reads display names, URIs and header params", () => {
    const v = parseNameAddr('"Alice \\"A\\"" <sip:alice@example.org;transport=udp>;tag=88;x="q r"');
    expect(v).toMatchObject({
      displayName: 'Alice "A"',
      uriText: "sip:alice@example.org;transport=udp",
      tag: "88",
    });
    expect(v?.params.get("x")).toBe("q r");
    expect(parseNameAddr("Bob Smith <sip:bob@example.org>")?.displayName).toBe("Bob Smith");
    expect(parseNameAddr("sip:bob@example.org;tag=1")).toMatchObject({ displayName: null, tag: "1" });
  });

  it("produces router views", () => {
    const v = parseNameAddr("<sip:%2B15550100@gw.example.org:5070;user=phone>;tag=t1");
    const view = toNameAddrView(v!);
    expect(view).toMatchObject({ displayName: null, tag: "t1" });
    expect(view.uri).toMatchObject({ scheme: "sip", user: "+15550100", host: "gw.example.org", port: 5070 });
    expect(view.uri.params.get("user")).toBe("phone");
    expect(toUriView(parseUri("tel:+1-555-0100")!)).toMatchObject({
      scheme: "tel",
      user: "+1-555-0100",
      host: "",
    });
  });
});

import { describe, expect, it } from "vitest";
import { createDirectory } from "../../src/directory/directory.js";
import { parseAssignedNumber } from "../../src/directory/line-uri.js";
import { InMemoryRegistrationStore, type RegistrationBinding } from "../../src/directory/registrations.js";
import { routingConfig } from "../routing/fixture.js";

describe("assigned numbers", () => {
  it("parses an E.164 number with an optional ;ext= of 1-12 digits", () => {
    expect(parseAssignedNumber("+14255550100")).toEqual({ number: "+14255550100", ext: null });
    expect(parseAssignedNumber("+14255550101;EXT=0101")).toEqual({ number: "+14255550101", ext: "0101" });
    expect(parseAssignedNumber("14255550100")).toBeNull();
    expect(parseAssignedNumber("+14255550100;ext=1234567890123")).toBeNull();
  });
});

describe("directory", () => {
  const directory = createDirectory(routingConfig());

  it("finds a user by SIP address only under a domain of the user's own tenant", () => {
    expect(directory.userByAddress("Alice", "CONTOSO.com")?.id).toBe("alice@contoso.com");
    expect(directory.userByAddress("alice", "northwind.com")).toBeUndefined();
    expect(directory.userById("alice@contoso.com")?.username).toBe("alice");
  });

  it("looks numbers up exactly within a tenant, extension included", () => {
    expect(directory.userByNumber("contoso", "+14255550101;ext=0101")?.id).toBe("bob@contoso.com");
    expect(directory.userByNumber("contoso", "+14255550101")).toBeUndefined();
    expect(directory.userByNumber("northwind", "+14255550100")).toBeUndefined();
    expect(directory.usersByBaseNumber("contoso", "+14255550101").map((u) => u.id)).toEqual([
      "bob@contoso.com",
    ]);
  });

  it("maps domains to tenants", () => {
    expect(directory.tenantByDomain("northwind.trunk.carrier.net")?.id).toBe("northwind");
    expect(directory.tenantByDomain("unknown.example")).toBeUndefined();
  });
});

describe("in-memory registration store", () => {
  const binding = (key: string, expiresAt: number): RegistrationBinding => ({
    aor: "carol@contoso.com",
    contactUri: `sip:carol@${key}`,
    key,
    expiresAt,
    callId: "c",
    cseq: 1,
    source: { address: "10.0.0.1", port: 5060, transport: "udp" },
    destination: { host: "10.0.0.1", port: 5060, transport: "udp" },
  });

  it("lists only unexpired bindings, replaces by key and removes one or all", async () => {
    const store = new InMemoryRegistrationStore();
    await store.put(binding("a", 1000));
    await store.put(binding("b", 2000));
    await store.put(binding("b", 3000));
    expect((await store.list("carol@contoso.com", 1500)).map((b) => [b.key, b.expiresAt])).toEqual([
      ["b", 3000],
    ]);
    await store.put(binding("c", 5000));
    await store.remove("carol@contoso.com", "b");
    expect((await store.list("carol@contoso.com", 1500)).map((b) => b.key)).toEqual(["c"]);
    await store.removeAll("carol@contoso.com");
    expect(await store.list("carol@contoso.com", 0)).toEqual([]);
  });
});

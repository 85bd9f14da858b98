import { describe, expect, it } from "vitest";
import { ResolvingGatewayAddressBook } from "../../src/routing/index.js";
import { silentLogger } from "../../src/util/logger.js";
import { routingConfig } from "./fixture.js";

describe("gateway addresses from DNS", () => {
  it("adds resolved addresses to the configured one and keeps the last ones when a lookup fails", async () => {
    const config = routingConfig();
    let fail = false;
    const book = new ResolvingGatewayAddressBook(config.gateways, silentLogger(), async (host) => {
      if (fail) throw new Error("SERVFAIL");
      return host === "sbc1.contoso.com" ? ["192.0.2.1", "::ffff:192.0.2.2"] : [];
    });
    const sbc1 = config.gateways[0]!;
    expect(book.addressesOf(sbc1)).toEqual(["10.0.0.1"]);
    await book.refresh();
    expect(book.addressesOf(sbc1)).toEqual(["10.0.0.1", "192.0.2.1", "192.0.2.2"]);
    fail = true;
    await book.refresh();
    expect(book.addressesOf(sbc1)).toEqual(["10.0.0.1", "192.0.2.1", "192.0.2.2"]);
  });
});

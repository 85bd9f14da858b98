// Mutual TLS (issue #15): a verified client certificate naming a gateway FQDN identifies the
// gateway as its address does (routing.md "Who is calling"); a certificate for another name does not.
import { describe, expect, it } from "vitest";
import { createCallRouter } from "../../src/routing/index.js";
import { routingConfig } from "./fixture.js";
import { request, testDeps } from "./support.js";

describe("gateway identified by its TLS client certificate", () => {
  const fromSbc1 = (source: string, certificateNames?: readonly string[]) => {
    const r = request({
      requestUri: "sip:+14255550101;ext=0101@proxy.example.net;user=phone",
      from: "sip:+12065550123@sbc1.contoso.com",
      contact: "sip:+12065550123@sbc1.contoso.com:5061",
      source,
      transport: "tls",
    });
    return certificateNames === undefined ? r : { ...r, source: { ...r.source, certificateNames } };
  };

  it("accepts an unexpected address when the certificate names the Contact's gateway", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    expect(await router.route(fromSbc1("10.9.9.9"))).toMatchObject({ kind: "respond", status: 403 });
    expect((await router.route(fromSbc1("10.9.9.9", ["sbc1.contoso.com"]))).kind).toBe("forward");
  });

  it("does not let a certificate for one gateway vouch for another", async () => {
    const router = createCallRouter(routingConfig(), testDeps());
    expect(await router.route(fromSbc1("10.9.9.9", ["sbc2.contoso.com", "evil.example"]))).toMatchObject({
      kind: "respond",
      status: 403,
    });
  });
});

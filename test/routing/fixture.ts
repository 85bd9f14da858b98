// One configuration that exercises every routing path the unit tests check.
import type { z } from "zod";
import type { dialgateConfigSchema } from "../../src/config/schema.js";
import { loadConfig, md5, sha256 } from "./support.js";

export type RawConfig = z.input<typeof dialgateConfigSchema>;

export const ALICE_PASSWORD = "alicepass";

export function routingConfig(patch: (c: RawConfig) => void = () => {}) {
  const c: RawConfig = {
    sip: {
      // A listener per transport the gateways use (sbc2 is reached over TCP).
      listen: [
        { transport: "udp", host: "127.0.0.1", port: 5060 },
        { transport: "tcp", host: "127.0.0.1", port: 5060 },
      ],
      recordRouteHost: "proxy.example.net",
    },
    gateways: [
      { fqdn: "sbc1.contoso.com", address: "10.0.0.1", sipSignalingPort: 5061, enabled: true },
      {
        fqdn: "sbc2.contoso.com",
        address: "10.0.0.2",
        sipSignalingPort: 5062,
        transport: "tcp",
        enabled: true,
        failoverResponseCodes: [503],
        failoverTimeSeconds: 4,
        outboundPstnNumberTranslationRules: ["StripPlus"],
        outboundTeamsNumberTranslationRules: ["StripPlus"],
      },
      {
        fqdn: "sbc3.contoso.com",
        address: "10.0.0.3",
        sipSignalingPort: 5063,
        enabled: true,
        forwardPai: true,
        forwardCallHistory: true,
        maxConcurrentSessions: 1,
      },
      { fqdn: "sbc4.contoso.com", address: "10.0.0.4", enabled: false },
      {
        fqdn: "trunk.carrier.net",
        address: "10.0.1.1",
        enabled: true,
        carrier: "fabrikam",
        inboundTeamsNumberTranslationRules: ["AddPlus"],
        inboundPstnNumberTranslationRules: ["AddPlus"],
      },
      { fqdn: "pbx.partner.org", address: "10.0.2.1", enabled: true, tenant: "contoso" },
    ],
    translationRules: [
      { identity: "StripPlus", pattern: "^\\+(\\d+)$", translation: "$1" },
      { identity: "AddPlus", pattern: "^(\\d+)$", translation: "+$1" },
    ],
    tenants: [
      {
        id: "contoso",
        domains: ["contoso.com"],
        trustedClientNetworks: ["10.9.0.0/16"],
        pstnUsages: ["US and Canada", "International", "Emergency"],
        voiceRoutes: [
          {
            identity: "Redmond1",
            numberPattern: "^\\+1(425|206)\\d{7}$",
            priority: 1,
            onlinePstnUsages: ["US and Canada"],
            onlinePstnGatewayList: ["sbc1.contoso.com", "sbc2.contoso.com"],
          },
          {
            identity: "RedmondBackup",
            numberPattern: "^\\+1425",
            priority: 2,
            onlinePstnUsages: ["US and Canada"],
            onlinePstnGatewayList: ["sbc3.contoso.com", "sbc1.contoso.com"],
          },
          {
            identity: "International",
            numberPattern: "^\\+\\d+$",
            priority: 1,
            onlinePstnUsages: ["International"],
            onlinePstnGatewayList: ["sbc2.contoso.com", "sbc4.contoso.com"],
          },
          {
            identity: "Emergency",
            numberPattern: "^911$",
            priority: 1,
            onlinePstnUsages: ["Emergency"],
            onlinePstnGatewayList: ["sbc3.contoso.com"],
          },
        ],
        voiceRoutingPolicies: [
          { identity: "Global", onlinePstnUsages: ["US and Canada"] },
          { identity: "US and International", onlinePstnUsages: ["US and Canada", "International"] },
        ],
        emergencyCallRoutingPolicies: [
          {
            identity: "Global",
            emergencyNumbers: [
              { emergencyDialString: "911", emergencyDialMask: "112;999", onlinePstnUsage: "Emergency" },
            ],
          },
        ],
        users: [
          {
            id: "alice@contoso.com",
            displayName: "Alice",
            lineUri: "+14255550100",
            usageLocation: "US",
            onlineVoiceRoutingPolicy: "US and International",
            sipPasswordHa1: md5(`alice:contoso.com:${ALICE_PASSWORD}`),
            sipPasswordHa1Sha256: sha256(`alice:contoso.com:${ALICE_PASSWORD}`),
          },
          {
            id: "bob@contoso.com",
            lineUri: "+14255550101;ext=0101",
            usageLocation: "US",
            contact: "sip:bob@10.1.1.2:5094",
          },
          { id: "carol@contoso.com", lineUri: "+14255550102", usageLocation: "US" },
          { id: "dave@contoso.com", usageLocation: "US" },
        ],
      },
      {
        id: "northwind",
        domains: ["northwind.com", "northwind.trunk.carrier.net"],
        users: [
          {
            id: "nina@northwind.com",
            lineUri: "+12065550100",
            usageLocation: "US",
            contact: "sip:nina@10.2.2.2",
          },
        ],
      },
    ],
    carriers: [{ id: "fabrikam", name: "Fabrikam" }],
  };
  patch(c);
  return loadConfig(c);
}

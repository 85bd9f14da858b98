// Builds the router's view of a request (routing/decision.ts `InboundRequest`) from a parsed
// SipRequest, without re-parsing anything.
import type { InboundRequest, NameAddrView, RequestSource } from "../../routing/decision.js";
import { type SipRequest, toNameAddrView, toUriView } from "../index.js";

const EMPTY_URI = { raw: "", scheme: "sip", user: null, host: "", port: null, params: new Map() } as const;
const EMPTY_NAME_ADDR: NameAddrView = { displayName: null, uri: EMPTY_URI, tag: null };

export function inboundRequestView(
  r: SipRequest,
  source: RequestSource,
  addressedToProxy: boolean,
): InboundRequest {
  const contactList = r.contact;
  const contacts =
    contactList === "*"
      ? ("star" as const)
      : (contactList ?? []).map((c) => {
          const e = c.params.get("expires");
          const n = e === undefined || e === null ? Number.NaN : Number(e);
          return { nameAddr: toNameAddrView(c), expires: Number.isInteger(n) ? n : null };
        });
  const firstContact = contactList === "*" || contactList === undefined ? undefined : contactList[0];
  const pai = r.pAssertedIdentity[0];
  const uri = r.uri;
  return {
    method: r.method,
    requestUri: uri === undefined ? { ...EMPTY_URI, raw: r.requestUri } : toUriView(uri),
    from: r.from === undefined ? EMPTY_NAME_ADDR : toNameAddrView(r.from),
    to: r.to === undefined ? EMPTY_NAME_ADDR : toNameAddrView(r.to),
    callId: r.callId ?? "",
    cseq: r.cseq?.seq ?? 0,
    source,
    contact: firstContact === undefined ? null : toNameAddrView(firstContact),
    contacts,
    expires: r.expires ?? null,
    pai: pai === undefined ? null : toNameAddrView(pai),
    header: (name: string) => r.headers(name),
    addressedToProxy,
  };
}

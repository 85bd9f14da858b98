// Adapters from this module's types to the router boundary (src/routing/decision.ts), so an
// edge can build an `InboundRequest` without re-parsing anything.
import type { NameAddrView, UriView } from "../routing/decision.js";
import type { NameAddr } from "./name-addr.js";
import type { Uri } from "./uri.js";

const NO_PARAMS: ReadonlyMap<string, string | null> = new Map();

/** A `UriView`: tel numbers go in `user` (as written) with an empty host; other schemes keep their text in `host`. */
export function toUriView(uri: Uri): UriView {
  switch (uri.kind) {
    case "sip":
      return {
        raw: uri.raw,
        scheme: uri.scheme,
        user: uri.user,
        host: uri.host,
        port: uri.port,
        params: uri.params,
      };
    case "tel":
      return { raw: uri.raw, scheme: "tel", user: uri.number, host: "", port: null, params: uri.params };
    case "absolute":
      return {
        raw: uri.raw,
        scheme: uri.scheme,
        user: null,
        host: uri.opaque,
        port: null,
        params: NO_PARAMS,
      };
  }
}

export function toNameAddrView(value: NameAddr): NameAddrView {
  return { displayName: value.displayName, uri: toUriView(value.uri), tag: value.tag };
}

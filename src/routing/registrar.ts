// The registrar (RFC 3261 §10.3, routing.md "Registrar"): an authenticated user binds contacts
// to their address-of-record with an expiry; `Expires: 0` removes one, `Contact: *` removes all,
// too short an expiry is refused with 423 and Min-Expires, too long is shortened to the maximum.
// The 200 lists every current binding with the seconds it has left.
import type { DirectoryUser } from "../directory/directory.js";
import type { RegistrationBinding, RegistrationStore } from "../directory/registrations.js";
import type { InboundRequest, NameAddrView, RoutingDecision, SipTransport, UriView } from "./decision.js";
import { reject, rejections, respond } from "./responses.js";
import { defaultPort, isIpLiteral } from "./sip-address.js";

export interface RegistrarSettings {
  readonly minExpiresSeconds: number;
  readonly maxExpiresSeconds: number;
  readonly defaultExpiresSeconds: number;
  /** Contacts one user may hold at once (a bound on what one client can make us store). */
  readonly maxBindingsPerUser: number;
}

export async function handleRegister(
  store: RegistrationStore,
  settings: RegistrarSettings,
  request: InboundRequest,
  user: DirectoryUser,
  now: number,
): Promise<RoutingDecision> {
  // Third-party registration is not offered: the authenticated From must register itself.
  const to = request.to.uri;
  if (to.user === null || `${to.user}@${to.host}`.toLowerCase() !== user.id) {
    return reject(rejections.forbidden("To must be the authenticated user's own address"));
  }
  const aor = user.id;

  if (request.contacts === "star") {
    // §10.3 step 6: `*` is only valid with Expires: 0.
    if (request.expires !== 0)
      return respond(400, "Bad Request", [["Warning", '399 dialgate "Contact: * needs Expires: 0"']]);
    await store.removeAll(aor);
    return respond(200, "OK");
  }

  const existing = new Map((await store.list(aor, now)).map((b) => [b.key, b]));
  const changes: { key: string; contact: NameAddrView; expires: number }[] = [];
  for (const c of request.contacts) {
    const expires = c.expires ?? request.expires ?? settings.defaultExpiresSeconds;
    // §10.3 step 7 and RFC 3261 §20.23: a non-zero expiry below the minimum fails the whole request.
    if (expires !== 0 && expires < settings.minExpiresSeconds) {
      return respond(423, "Interval Too Brief", [["Min-Expires", String(settings.minExpiresSeconds)]]);
    }
    const key = bindingKey(c.nameAddr.uri);
    const previous = existing.get(key);
    // §10.3 step 7: an older or repeated REGISTER from the same Call-ID must not undo a newer one.
    if (previous !== undefined && previous.callId === request.callId && previous.cseq >= request.cseq) {
      return respond(500, "Server Internal Error", [["Warning", '399 dialgate "REGISTER out of order"']]);
    }
    changes.push({ key, contact: c.nameAddr, expires: Math.min(expires, settings.maxExpiresSeconds) });
  }

  const after = new Set(existing.keys());
  for (const c of changes) {
    if (c.expires === 0) after.delete(c.key);
    else after.add(c.key);
  }
  if (after.size > settings.maxBindingsPerUser) {
    return reject(rejections.forbidden(`at most ${settings.maxBindingsPerUser} contacts per user`));
  }

  for (const c of changes) {
    if (c.expires === 0) {
      await store.remove(aor, c.key);
      continue;
    }
    const binding: RegistrationBinding = {
      aor,
      contactUri: contactUriText(c.contact.uri),
      key: c.key,
      expiresAt: now + c.expires * 1000,
      callId: request.callId,
      cseq: request.cseq,
      source: request.source,
      destination: bindingDestination(c.contact.uri, request.source),
    };
    await store.put(binding);
  }

  const current = await store.list(aor, now);
  return respond(
    200,
    "OK",
    current.map(
      (b) =>
        [
          "Contact",
          `<${b.contactUri}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`,
        ] as const,
    ),
  );
}

/**
 * The key under which a contact is bound: RFC 3261 §19.1.4 compares scheme, user and port
 * exactly and the host case-insensitively; a transport parameter makes a different URI.
 */
export function bindingKey(uri: UriView): string {
  const transport = uri.params.get("transport")?.toLowerCase() ?? "";
  return `${uri.scheme.toLowerCase()}:${uri.user ?? ""}@${uri.host.toLowerCase()}:${uri.port ?? ""};${transport}`;
}

function contactUriText(uri: UriView): string {
  // The raw URI of a Contact is what the INVITE's Request-URI becomes (RFC 3261 §16.5).
  return uri.raw;
}

/**
 * Where requests for a binding go. Over TCP/TLS the client's own connection (the source) is
 * the only reliable way back; over UDP the Contact is used when it is an IP literal (a client
 * may register a contact on another socket), else the source address the REGISTER came from.
 */
function bindingDestination(
  uri: UriView,
  source: InboundRequest["source"],
): RegistrationBinding["destination"] {
  if (source.transport !== "udp")
    return { host: source.address, port: source.port, transport: source.transport };
  if (!isIpLiteral(uri.host)) return { host: source.address, port: source.port, transport: "udp" };
  const transportParam = uri.params.get("transport")?.toLowerCase();
  const transport: SipTransport =
    transportParam === "tcp" || transportParam === "tls"
      ? transportParam
      : uri.scheme === "sips"
        ? "tls"
        : "udp";
  return { host: stripBrackets(uri.host), port: uri.port ?? defaultPort(transport), transport };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") ? host.slice(1, -1) : host;
}

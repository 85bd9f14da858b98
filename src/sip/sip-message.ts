// The SIP message model shared by requests and responses (RFC 3261 §7): a start line, header
// fields in their original order and spelling, and a body. Header values are parsed only when
// an accessor asks for them, and the result is cached on the field. Edits replace or insert
// fields; `serialize()` copies every untouched byte range from the original datagram.
import { type AuthHeader, parseAuthHeader } from "./auth-header.js";
import { type CSeq, parseCSeq } from "./cseq.js";
import { HeaderField } from "./header-field.js";
import { canonicalSpelling, headerKey, isListHeader } from "./header-names.js";
import { type NameAddr, parseNameAddr } from "./name-addr.js";
import { parseReason, type ReasonValue } from "./reason-header.js";
import { hasWhitespace, isToken, MAX_DELTA_SECONDS, parseBoundedInt, splitCommaList } from "./text-scan.js";
import { parseViaHop, type ViaHop } from "./via.js";

/** Where a parsed message came from: its exact bytes and the offsets of its parts. */
export interface WireLayout {
  /** The message's own bytes (trailing bytes of a datagram after the body are not included). */
  readonly src: Buffer;
  /** Offset after the start line's terminator. */
  readonly startLineEnd: number;
  /** Offset of the empty line that ends the header section. */
  readonly headerEnd: number;
  /** Offset of the body. */
  readonly bodyStart: number;
}

/** A Contact value: `*` (REGISTER removing all bindings, §10.2.2) or addresses. */
export type ContactList = "*" | readonly NameAddr[];

const EMPTY: readonly never[] = [];
const CRLF = Buffer.from("\r\n", "latin1");
const EMPTY_BODY = Buffer.alloc(0);

export abstract class SipMessage {
  protected fields: HeaderField[];
  protected wire: WireLayout | null;
  /** The body; null until first read when it is still the wire bytes after the header section. */
  #body: Buffer | null;
  /** True while the body is the bytes that followed the header section in `wire.src`. */
  #bodyFromWire: boolean;
  /** True once any header or the body changed (serialisation can no longer return `wire.src`). */
  protected modified = false;
  protected startLineChanged = false;

  /** `body` null: the bytes of `wire.src` from `wire.bodyStart` on (sliced only when read). */
  protected constructor(fields: HeaderField[], body: Buffer | null, wire: WireLayout | null) {
    this.fields = fields;
    this.#body = body;
    this.#bodyFromWire = wire !== null;
    this.wire = wire;
    this.modified = wire === null;
  }

  abstract readonly isRequest: boolean;
  /** The start line without its terminator, as it will be serialised. */
  abstract startLine(): string;

  // ---- generic header access -------------------------------------------------------------

  /** Header fields in order: original names, decoded values. */
  get headerFields(): readonly HeaderField[] {
    return this.fields;
  }

  /** The first value of a header (first list element for list headers), or undefined. */
  header(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (!isListHeader(key)) return f.value;
      for (const v of this.listOfField(f)) if (v.length > 0) return v;
    }
    return undefined;
  }

  /**
   * All values of a header, in order. Headers whose grammar is a list (§7.3.1: Via, Route,
   * Contact, Allow, ...) are split at commas outside quotes and angle brackets; others (e.g.
   * WWW-Authenticate, Date) return one value per field line.
   */
  headers(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (!list) out.push(f.value);
      else for (const v of this.listOfField(f)) if (v.length > 0) out.push(v);
    }
    return out;
  }

  hasHeader(name: string): boolean {
    const key = headerKey(name);
    return this.fields.some((f) => f.key === key);
  }

  /** Number of field lines with this name (not list elements). */
  countHeader(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const f of this.fields) if (f.key === key) n++;
    return n;
  }

  get body(): Buffer {
    if (this.#body === null) {
      const w = this.wire!;
      this.#body = w.src.length === w.bodyStart ? EMPTY_BODY : w.src.subarray(w.bodyStart);
    }
    return this.#body;
  }

  // ---- typed accessors (lazy, cached per field) ---------------------------------------------

  /** All Via hops, topmost first. Undefined when any Via value is malformed. */
  get viaHops(): readonly ViaHop[] | undefined {
    return this.parsedList("via", parseViaHop);
  }

  get topVia(): ViaHop | undefined {
    const f = this.firstField("via");
    return f === undefined ? undefined : this.parsedListOfField(f, parseViaHop)?.[0];
  }

  get maxForwards(): number | undefined {
    return this.parsedSingle("max-forwards", (v) => parseBoundedInt(v, 255));
  }

  get from(): NameAddr | undefined {
    return this.parsedSingle("from", parseNameAddr);
  }

  get to(): NameAddr | undefined {
    return this.parsedSingle("to", parseNameAddr);
  }

  /** Call-ID = word [ "@" word ] (§20.8); undefined when absent or containing whitespace. */
  get callId(): string | undefined {
    return this.parsedSingle("call-id", (v) => (v.length > 0 && !hasWhitespace(v) ? v : undefined));
  }

  get cseq(): CSeq | undefined {
    return this.parsedSingle("cseq", parseCSeq);
  }

  /** Contact values, or `"*"`; undefined when absent or malformed. */
  get contact(): ContactList | undefined {
    const first = this.firstField("contact");
    if (first === undefined) return undefined;
    if (first.value === "*") return this.countHeader("contact") === 1 ? "*" : undefined;
    return this.parsedList("contact", parseContact);
  }

  get routes(): readonly NameAddr[] {
    return this.parsedList("route", parseNameAddr) ?? EMPTY;
  }

  get recordRoutes(): readonly NameAddr[] {
    return this.parsedList("record-route", parseNameAddr) ?? EMPTY;
  }

  get contentLength(): number | undefined {
    return this.parsedSingle("content-length", (v) => parseBoundedInt(v, Number.MAX_SAFE_INTEGER));
  }

  get contentType(): string | undefined {
    return this.header("content-type");
  }

  get expires(): number | undefined {
    return this.parsedSingle("expires", (v) => parseBoundedInt(v, MAX_DELTA_SECONDS));
  }

  get authorization(): readonly AuthHeader[] {
    return this.parsedFields("authorization", parseAuthHeader);
  }

  get proxyAuthorization(): readonly AuthHeader[] {
    return this.parsedFields("proxy-authorization", parseAuthHeader);
  }

  get wwwAuthenticate(): readonly AuthHeader[] {
    return this.parsedFields("www-authenticate", parseAuthHeader);
  }

  get proxyAuthenticate(): readonly AuthHeader[] {
    return this.parsedFields("proxy-authenticate", parseAuthHeader);
  }

  get reasons(): readonly ReasonValue[] {
    return this.parsedList("reason", parseReason) ?? EMPTY;
  }

  get allow(): readonly string[] {
    return this.tokenList("allow");
  }

  get supported(): readonly string[] {
    return this.tokenList("supported");
  }

  get require(): readonly string[] {
    return this.tokenList("require");
  }

  get proxyRequire(): readonly string[] {
    return this.tokenList("proxy-require");
  }

  get pAssertedIdentity(): readonly NameAddr[] {
    return this.parsedList("p-asserted-identity", parseNameAddr) ?? EMPTY;
  }

  get diversion(): readonly NameAddr[] {
    return this.parsedList("diversion", parseNameAddr) ?? EMPTY;
  }

  get historyInfo(): readonly NameAddr[] {
    return this.parsedList("history-info", parseNameAddr) ?? EMPTY;
  }

  get referredBy(): NameAddr | undefined {
    return this.parsedSingle("referred-by", parseNameAddr);
  }

  // ---- edits (RFC 3261 §16.6) -----------------------------------------------------------

  /** Inserts a Via value above the topmost one (§16.6 step 8). */
  pushVia(value: string): void {
    this.insertBeforeFirst("via", HeaderField.create("Via", value));
  }

  /** Removes the topmost Via value (§16.7 step 3) and returns it. */
  popVia(): string | undefined {
    return this.removeFirstValue("via");
  }

  /**
   * Decrements Max-Forwards (§16.6 step 3), or adds `Max-Forwards: 70` when absent. Returns
   * the new value; a value of 0 stays 0 (the proxy answers 483 before forwarding, §16.3).
   */
  decrementMaxForwards(): number {
    const i = this.indexOfKey("max-forwards");
    if (i === -1) {
      this.addHeader("Max-Forwards", "70");
      return 70;
    }
    const f = this.fields[i]!;
    const current = parseBoundedInt(f.value, 255) ?? 70;
    const next = current > 0 ? current - 1 : 0;
    this.replaceAt(i, HeaderField.create(f.name, String(next)));
    return next;
  }

  /** Prepends a Record-Route value (§16.6 step 4); placed above the first Record-Route, else after the Vias. */
  addRecordRoute(value: string): void {
    const field = HeaderField.create("Record-Route", value);
    let lastVia = -1;
    for (let j = 0; j < this.fields.length; j++) {
      const key = this.fields[j]!.key;
      if (key === "record-route") {
        this.insertAt(j, field);
        return;
      }
      if (key === "via") lastVia = j;
    }
    this.insertAt(lastVia + 1, field);
  }

  /** Removes the first Route value (§16.4, §16.12 strict/loose routing) and returns it. */
  removeFirstRoute(): string | undefined {
    return this.removeFirstValue("route");
  }

  /** Adds a header field at the end, or with `first` above the first field of that name (top if none). */
  addHeader(name: string, value: string, options: { readonly first?: boolean } = {}): void {
    const field = HeaderField.create(name, value);
    if (options.first === true) this.insertBeforeFirst(field.key, field);
    else this.insertAt(this.fields.length, field);
  }

  /** Removes every field with this name; returns how many were removed. */
  removeHeader(name: string): number {
    const key = headerKey(name);
    const before = this.fields.length;
    const kept = this.fields.filter((f) => f.key !== key);
    if (kept.length !== before) {
      this.fields = kept;
      this.modified = true;
    }
    return before - kept.length;
  }

  /** Replaces the first field of this name in place (removing later ones), or appends it. */
  setHeader(name: string, value: string): void {
    const key = headerKey(name);
    const i = this.indexOfKey(key);
    if (i === -1) {
      this.addHeader(name, value);
      return;
    }
    const spelled = this.fields[i]!.name;
    this.fields = this.fields.filter((f, j) => j <= i || f.key !== key);
    this.replaceAt(i, HeaderField.create(headerKey(spelled) === key ? spelled : name, value));
  }

  /**
   * Replaces the body and sets Content-Length to its size (§20.14); with `contentType`,
   * sets Content-Type too (an empty body removes Content-Type).
   */
  setBody(body: Buffer | string, contentType?: string): void {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    this.#body = bytes;
    this.#bodyFromWire = false;
    this.modified = true;
    this.setHeader("Content-Length", String(bytes.length));
    if (contentType !== undefined) this.setHeader("Content-Type", contentType);
    else if (bytes.length === 0) this.removeHeader("Content-Type");
  }

  /** Adds `Content-Length` when missing (required before sending over a stream transport, §18.3). */
  ensureContentLength(): void {
    if (this.indexOfKey("content-length") === -1) this.addHeader("Content-Length", String(this.body.length));
  }

  // ---- serialisation ------------------------------------------------------------------------

  /**
   * The message bytes. An unmodified parsed message returns its original bytes (the same
   * Buffer); otherwise untouched lines are copied verbatim and only edited parts are written.
   */
  serialize(): Buffer {
    const wire = this.wire;
    if (!this.modified && wire !== null) return wire.src;
    const src = wire?.src;
    const fields = this.fields;
    let total = 0;
    // Written text (the new start line, created fields) is gathered into one string per gap
    // between copied ranges; `pendingAscii` picks the cheaper latin1 write when it is ASCII.
    let pending = "";
    let pendingAscii = true;
    if (wire !== null && !this.startLineChanged) total = wire.startLineEnd;
    else {
      pending = this.startLine() + "\r\n";
      total = Buffer.byteLength(pending, "utf8");
      pendingAscii = total === pending.length;
    }
    for (let i = 0; i < fields.length; i++) total += fields[i]!.byteLength();
    const bodyFromWire = this.#bodyFromWire && wire !== null;
    const bodyLength = this.#body === null ? wire!.src.length - wire!.bodyStart : this.#body.length;
    total += (wire !== null ? wire.bodyStart - wire.headerEnd : 2) + bodyLength;
    const out = Buffer.allocUnsafe(total);
    // Untouched lines that were adjacent on the wire are copied as one range: a proxy's few
    // edits leave a handful of copies instead of one per header line.
    let o = 0;
    let runSrc: Buffer | null = pending.length === 0 ? src! : null;
    let runStart = 0;
    let runEnd = pending.length === 0 ? wire!.startLineEnd : 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const fieldSrc = f.wire?.src;
      if (fieldSrc === undefined) {
        if (runSrc !== null) {
          o += runSrc.copy(out, o, runStart, runEnd);
          runSrc = null;
        }
        pending += f.createdLine();
        pendingAscii &&= f.isAsciiLine;
        continue;
      }
      if (fieldSrc === runSrc && f.lineStart === runEnd) {
        runEnd = f.lineEnd;
        continue;
      }
      if (runSrc !== null) o += runSrc.copy(out, o, runStart, runEnd);
      else if (pending.length > 0) {
        o += out.write(pending, o, pendingAscii ? "latin1" : "utf8");
        pending = "";
        pendingAscii = true;
      }
      runSrc = fieldSrc;
      runStart = f.lineStart;
      runEnd = f.lineEnd;
    }
    if (wire !== null) {
      // The empty line, and the body when it is still the one that followed it.
      const tailEnd = bodyFromWire ? wire.bodyStart + bodyLength : wire.bodyStart;
      if (runSrc === src && runEnd === wire.headerEnd) runEnd = tailEnd;
      else {
        if (runSrc !== null) o += runSrc.copy(out, o, runStart, runEnd);
        else if (pending.length > 0) o += out.write(pending, o, pendingAscii ? "latin1" : "utf8");
        runSrc = src!;
        runStart = wire.headerEnd;
        runEnd = tailEnd;
      }
      o += runSrc.copy(out, o, runStart, runEnd);
      if (!bodyFromWire) this.body.copy(out, o);
    } else {
      if (runSrc !== null) o += runSrc.copy(out, o, runStart, runEnd);
      else if (pending.length > 0) o += out.write(pending, o, pendingAscii ? "latin1" : "utf8");
      o += CRLF.copy(out, o);
      this.body.copy(out, o);
    }
    return out;
  }

  toString(): string {
    return this.serialize().toString("utf8");
  }

  // ---- internals --------------------------------------------------------------------------

  protected copyStateTo(target: SipMessage): void {
    target.fields = this.fields.slice();
    target.#body = this.#body;
    target.#bodyFromWire = this.#bodyFromWire;
    target.wire = this.wire;
    target.modified = this.modified;
    target.startLineChanged = this.startLineChanged;
  }

  protected markStartLineChanged(): void {
    this.startLineChanged = true;
    this.modified = true;
  }

  private firstField(key: string): HeaderField | undefined {
    for (const f of this.fields) if (f.key === key) return f;
    return undefined;
  }

  private indexOfKey(key: string): number {
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i]!.key === key) return i;
    return -1;
  }

  private insertAt(index: number, field: HeaderField): void {
    this.fields.splice(index, 0, field);
    this.modified = true;
  }

  private insertBeforeFirst(key: string, field: HeaderField): void {
    const i = this.indexOfKey(key);
    this.insertAt(i === -1 ? 0 : i, field);
  }

  private replaceAt(index: number, field: HeaderField): void {
    this.fields[index] = field;
    this.modified = true;
  }

  private removeFirstValue(key: string): string | undefined {
    const i = this.indexOfKey(key);
    if (i === -1) return undefined;
    const f = this.fields[i]!;
    const values = this.listOfField(f).filter((v) => v.length > 0);
    if (values.length <= 1) {
      this.fields.splice(i, 1);
      this.modified = true;
    } else this.replaceAt(i, HeaderField.create(f.name, values.slice(1).join(", ")));
    return values[0];
  }

  private listOfField(f: HeaderField): readonly string[] {
    if (f.listCache === undefined) {
      const v = f.value;
      f.listCache = v.indexOf(",") === -1 ? [v] : splitCommaList(v);
    }
    return f.listCache;
  }

  /** Parses every list element of one field; undefined when any element is empty or malformed. */
  private parsedListOfField<T>(
    f: HeaderField,
    parse: (s: string) => T | undefined,
  ): readonly T[] | undefined {
    if (f.parsedDone) return f.parsedCache as readonly T[] | undefined;
    let out: T[] | undefined = [];
    for (const element of this.listOfField(f)) {
      const v = element.length > 0 ? parse(element) : undefined;
      if (v === undefined) {
        out = undefined;
        break;
      }
      out.push(v);
    }
    return store(f, out);
  }

  /** Elements of every field with this key; undefined when absent or any element is malformed. */
  protected parsedList<T>(key: string, parse: (s: string) => T | undefined): readonly T[] | undefined {
    let out: T[] | undefined;
    for (const f of this.fields) {
      if (f.key !== key) continue;
      const values = this.parsedListOfField(f, parse);
      if (values === undefined) return undefined;
      if (out === undefined) out = values.slice();
      else for (const v of values) out.push(v);
    }
    return out;
  }

  /** The first field's value, parsed; undefined when absent or malformed. */
  protected parsedSingle<T>(key: string, parse: (s: string) => T | undefined): T | undefined {
    const f = this.firstField(key);
    if (f === undefined) return undefined;
    return f.parsedDone ? (f.parsedCache as T | undefined) : store(f, parse(f.value));
  }

  /** One parsed value per field line (for headers whose values contain commas); malformed lines are skipped. */
  private parsedFields<T>(key: string, parse: (s: string) => T | undefined): readonly T[] {
    const out: T[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      const v = f.parsedDone ? (f.parsedCache as T | undefined) : store(f, parse(f.value));
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  private tokenList(key: string): readonly string[] {
    return this.headers(key).filter(isToken);
  }
}

/** Contact values: name-addr with a valid `expires` parameter (delta-seconds, §20.10). */
function parseContact(s: string): NameAddr | undefined {
  const v = parseNameAddr(s);
  if (v === undefined) return undefined;
  const expires = v.params.get("expires");
  if (
    expires !== undefined &&
    (expires === null || parseBoundedInt(expires, MAX_DELTA_SECONDS) === undefined)
  ) {
    return undefined;
  }
  return v;
}

/**
 * Caches a field's typed parse and returns it. Reading `parsedCache` back with a cast is sound
 * because a field's key always selects the same parser (the accessor for that header).
 */
function store<T>(field: HeaderField, value: T): T {
  field.parsedDone = true;
  field.parsedCache = value;
  return value;
}

export { canonicalSpelling };

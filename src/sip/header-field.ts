// One header field line. A field read from the wire keeps its byte range so that serialising
// an untouched field copies the original bytes (spelling, spacing, folding, non-UTF-8 octets
// all preserved); its value is decoded and unfolded only when first read. A field created by
// an edit holds its name and value and is written as `Name: value CRLF`.
//
// Fields are immutable: edits replace a field with a new one, so a cloned message can share
// them, and the per-field parse cache never goes stale.
import { allIn, TOKEN } from "./char-classes.js";
import { headerKey } from "./header-names.js";
import { nulsOnlyInQuotedPairs } from "./text-scan.js";

/** The bytes of one parsed message and their latin1 view (one character per byte). */
export interface WireText {
  readonly src: Buffer;
  readonly text: string;
}

/** Unfolds obsolete line folding: CRLF (or LF) followed by SP/HTAB becomes one SP (RFC 3261 §7.3.1). */
function unfold(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) {
      // drop the whitespace already written before the line break, then all that follows it
      let trimmed = out.length;
      while (trimmed > 0 && (out.charCodeAt(trimmed - 1) === 0x20 || out.charCodeAt(trimmed - 1) === 0x09))
        trimmed--;
      out = out.slice(0, trimmed);
      i++;
      while (i < s.length) {
        const d = s.charCodeAt(i);
        if (d !== 0x20 && d !== 0x09 && d !== 0x0d && d !== 0x0a) break;
        i++;
      }
      out += " ";
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}

function hasHighBit(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * Rejects values that would inject extra header lines or break framing: CR, LF, and NUL
 * except as a quoted-pair in a quoted-string (§25.1, legal on the wire, so a value read from a
 * request, e.g. a From display name, can be copied into a CANCEL or ACK). Returns true when the
 * text is all ASCII (so it can be written one byte per character).
 */
export function assertSafeHeaderText(what: string, text: string): boolean {
  let ascii = true;
  let nul = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) {
      throw new RangeError(`${what} must not contain CR, LF or NUL: ${JSON.stringify(text)}`);
    }
    if (c === 0x00) nul = true;
    else if (c > 0x7f) ascii = false;
  }
  if (nul && !nulsOnlyInQuotedPairs(text))
    throw new RangeError(`${what} must not contain CR, LF or NUL: ${JSON.stringify(text)}`);
  return ascii;
}

export class HeaderField {
  /** The name as written; sliced from `wire` on first use (most forwarded fields never need it). */
  #name: string | undefined;
  /** Lower-cased long name: `via`, `call-id`, `content-length`, ... */
  readonly key: string;
  /** The message bytes this field was read from; null for a field created by an edit. */
  readonly wire: WireText | null;
  /** Byte offsets in `wire`: the line (up to and including its terminator) and the trimmed value. */
  readonly lineStart: number;
  readonly lineEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly folded: boolean;
  /** End of the name in `wire` (the name starts at `lineStart`). */
  readonly nameEnd: number;
  #value: string | undefined;
  /** Cache of the value split into list elements (see `SipMessage.headers`). */
  listCache: readonly string[] | undefined = undefined;
  /** Cache of the typed parse of this field; a field's key always selects the same parser. */
  parsedDone = false;
  parsedCache: unknown = undefined;
  /** A created field's serialised line (see `createdLine`), and whether it is all ASCII. */
  #line: string | undefined;
  #lineIsAscii = false;

  /** @internal Use `HeaderField.create` for new fields; the parser builds wire fields. */
  constructor(
    name: string | undefined,
    key: string,
    value: string | undefined,
    wire: WireText | null,
    lineStart: number,
    lineEnd: number,
    valueStart: number,
    valueEnd: number,
    folded: boolean,
    nameEnd = 0,
  ) {
    this.#name = name;
    this.key = key;
    this.#value = value;
    this.wire = wire;
    this.lineStart = lineStart;
    this.lineEnd = lineEnd;
    this.valueStart = valueStart;
    this.valueEnd = valueEnd;
    this.folded = folded;
    this.nameEnd = nameEnd;
  }

  /** The header name as written on the wire (or as given to an edit). */
  get name(): string {
    if (this.#name === undefined) this.#name = this.wire!.text.slice(this.lineStart, this.nameEnd);
    return this.#name;
  }

  /** A new field; throws RangeError when the name is not a token or the value contains CR/LF/NUL. */
  static create(name: string, value: string): HeaderField {
    if (name.length === 0 || !allIn(TOKEN, name))
      throw new RangeError(`invalid header name: ${JSON.stringify(name)}`);
    const ascii = assertSafeHeaderText("header value", value);
    const field = new HeaderField(name, headerKey(name), value.trim(), null, 0, 0, 0, 0, false);
    // A token name and an ASCII value make an ASCII line (trimming cannot add characters).
    if (ascii) field.#line = name + ": " + field.value + "\r\n";
    field.#lineIsAscii = ascii;
    return field;
  }

  /**
   * The field value: trimmed, unfolded, and decoded as UTF-8 when its bytes are valid UTF-8
   * (RFC 3261 §7.3.1 TEXT-UTF8); otherwise one character per byte (latin1), so nothing is lost.
   */
  get value(): string {
    if (this.#value === undefined) {
      const w = this.wire!;
      let v: string;
      if (hasHighBit(w.text, this.valueStart, this.valueEnd)) {
        const bytes = w.src.subarray(this.valueStart, this.valueEnd);
        const utf8 = bytes.toString("utf8");
        v =
          Buffer.byteLength(utf8, "utf8") === bytes.length && !utf8.includes("\uFFFD")
            ? utf8
            : w.text.slice(this.valueStart, this.valueEnd);
      } else v = w.text.slice(this.valueStart, this.valueEnd);
      this.#value = this.folded ? unfold(v) : v;
    }
    return this.#value;
  }

  /** Bytes this field occupies when serialised. */
  byteLength(): number {
    if (this.wire !== null) return this.lineEnd - this.lineStart;
    const line = this.createdLine();
    return this.#lineIsAscii ? line.length : Buffer.byteLength(line, "utf8");
  }

  /** Writes the field (with its line terminator) into `out` at `offset`; returns the new offset. */
  writeTo(out: Buffer, offset: number): number {
    const w = this.wire;
    if (w !== null) return offset + w.src.copy(out, offset, this.lineStart, this.lineEnd);
    return offset + out.write(this.createdLine(), offset, this.#lineIsAscii ? "latin1" : "utf8");
  }

  /** True for a created field whose line is all ASCII (one byte per character). */
  get isAsciiLine(): boolean {
    return this.#lineIsAscii;
  }

  /** `Name: value CRLF` of a field created by an edit, built once (a clone shares the field). */
  createdLine(): string {
    if (this.#line === undefined) this.#line = this.name + ": " + this.value + "\r\n";
    return this.#line;
  }
}

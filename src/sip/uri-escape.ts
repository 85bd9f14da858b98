// Percent-escaping of URI components (RFC 3261 §19.1.2, §25.1 "escaped").
import { isHex } from "./char-classes.js";

/** True when every "%" in `s` starts a valid `%HH` escape. */
export function hasValidEscapes(s: string): boolean {
  let i = s.indexOf("%");
  while (i !== -1) {
    if (i + 2 >= s.length + 0 || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
    i = s.indexOf("%", i + 3);
  }
  return true;
}

/** Resolves `%HH` escapes; the bytes are read as UTF-8 when valid, else one character per byte. */
export function unescapeComponent(s: string): string {
  if (s.indexOf("%") === -1) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(s[i]!, "utf8")) bytes.push(b);
  }
  const buf = Buffer.from(bytes);
  const text = buf.toString("utf8");
  return Buffer.from(text, "utf8").equals(buf) ? text : buf.toString("latin1");
}

/** Escapes every character of `s` that is not in `allowed` (bytes of its UTF-8 form). */
export function escapeComponent(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || allowed[c] !== 1 || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    if (b < 128 && allowed[b] === 1 && b !== 0x25) out += String.fromCharCode(b);
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

// Step 1 of dialplan.md, "Clean the input": what a user dialled, reduced to the characters the
// rules are written for.
import { type DialPlanError, fail, ok, type Result } from "./errors.js";

/** dialplan.md: input longer than 64 characters is refused. */
export const MAX_DIALLED_LENGTH = 64;
/** Raw input is bounded too, so cleaning itself does bounded work. */
export const MAX_RAW_INPUT_LENGTH = 1024;

export interface CleanedInput {
  /** Digits, `*`, `#`, optionally a leading `+`. */
  readonly number: string;
  /** The `;ext=` suffix's digits (routing.md: 1–12 digits), or null. */
  readonly extension: string | null;
}

const SEPARATORS = new Set(["-", ".", "(", ")", " "]);

const digitValues = new Map<number, number>();
const isDecimalDigit = (cp: number): boolean => cp >= 0 && /\p{Nd}/u.test(String.fromCodePoint(cp));

/**
 * Maps a \p{Nd} code point to its value 0–9, or null. Unicode encodes decimal digits as complete
 * runs of ten starting at zero (adjacent runs included), so the value is the offset from the
 * start of the run, modulo ten.
 */
function unicodeDigitValue(cp: number): number | null {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  const known = digitValues.get(cp);
  if (known !== undefined) return known;
  if (!isDecimalDigit(cp)) return null;
  let start = cp;
  while (isDecimalDigit(start - 1)) start--;
  const value = (cp - start) % 10;
  digitValues.set(cp, value);
  return value;
}

function invalid(raw: string, detail: string): Result<CleanedInput> {
  return fail({
    code: "input_invalid_character",
    message: `dialled string '${raw}' ${detail}; allowed are digits, '*', '#', a leading '+', visual separators (- . ( ) space) and one ';ext=' suffix`,
  });
}

/**
 * Strips a tel:/sip:/sips: wrapper (keeping only the user part), removes RFC 3966 visual
 * separators, maps every Unicode decimal digit to ASCII, and checks what is left.
 */
export function cleanDialledInput(raw: string): Result<CleanedInput, DialPlanError> {
  if (raw.length > MAX_RAW_INPUT_LENGTH) {
    return fail({
      code: "input_too_long",
      message: `dialled string is ${raw.length} characters long; at most ${MAX_DIALLED_LENGTH} are allowed`,
    });
  }
  if (isAlreadyClean(raw)) return ok({ number: raw, extension: null });
  let s = raw;
  let extRaw: string | null = null;
  const scheme = /^(tel|sips?):/i.exec(s);
  if (scheme !== null) {
    s = s.slice(scheme[0].length);
    if (scheme[1]!.toLowerCase() !== "tel") {
      // sip:user[:password]@host;params — only the user part is dialled digits.
      const at = s.indexOf("@");
      if (at >= 0) s = s.slice(0, at);
      const colon = s.indexOf(":");
      if (colon >= 0) s = s.slice(0, colon);
    }
    // URI parameters (phone-context, isub, ...) describe the number; only ext is kept.
    const [user, ...params] = s.split(";");
    const ext = params.filter((p) => /^ext=/i.test(p));
    if (ext.length > 1) return invalid(raw, "has more than one ext parameter");
    s = user ?? "";
    extRaw = ext[0]?.slice(4) ?? null;
  } else {
    const [user, ...params] = s.split(";");
    if (params.length > 1 || (params.length === 1 && !/^ext=/i.test(params[0]!)))
      return invalid(raw, "has a ';' that does not start a single ';ext=' suffix");
    s = user ?? "";
    extRaw = params[0]?.slice(4) ?? null;
  }
  let extension: string | null = null;
  if (extRaw !== null) {
    const digits = cleanPart(extRaw);
    if (digits === null || !/^\d{1,12}$/.test(digits))
      return invalid(raw, "has an ';ext=' suffix that is not 1-12 digits");
    extension = digits;
  }
  const number = cleanPart(s);
  if (number === null) return invalid(raw, "contains a character that cannot be dialled");
  if (number === "" || number === "+") {
    return fail({ code: "input_empty", message: `dialled string '${raw}' has no digits to dial` });
  }
  if (number.indexOf("+", 1) >= 0) return invalid(raw, "has a '+' that is not the first character");
  const total = number.length + (extension === null ? 0 : extension.length + 5);
  if (total > MAX_DIALLED_LENGTH) {
    return fail({
      code: "input_too_long",
      message: `dialled string is ${total} characters long after cleaning; at most ${MAX_DIALLED_LENGTH} are allowed`,
    });
  }
  return ok({ number, extension });
}

/**
 * Whether the raw string is already what cleaning would produce — ASCII digits, `*`, `#`, at
 * most 64 of them, optionally after a leading `+` — as most Request-URI user parts are. The
 * full path would return it unchanged, so it skips the scheme match, the split and the copy.
 */
function isAlreadyClean(raw: string): boolean {
  const n = raw.length;
  if (n > MAX_DIALLED_LENGTH) return false;
  let i = n > 0 && raw.charCodeAt(0) === 0x2b ? 1 : 0;
  if (i === n) return false;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x23)) return false;
  }
  return true;
}

/** Removes separators and maps digits; null when a character is not allowed. */
function cleanPart(s: string): string | null {
  let out = "";
  for (const ch of s) {
    if (SEPARATORS.has(ch)) continue;
    if (ch === "*" || ch === "#" || ch === "+") {
      out += ch;
      continue;
    }
    const v = unicodeDigitValue(ch.codePointAt(0)!);
    if (v === null) return null;
    out += String.fromCharCode(0x30 + v);
  }
  return out;
}

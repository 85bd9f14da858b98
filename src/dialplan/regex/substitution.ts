// .NET substitutions (the `translation` of a rule), compiled once against the pattern's groups
// and expanded with the first match — the semantics of .NET `Match.Result`. The rules follow
// .NET's replacement parser ("Substitutions in regular expressions"):
//   $number   all following digits form the group number; if no such group exists the `$` is
//             literal text and the digits stay text too ($10 with one group is "$10").
//   ${n}, ${name}   group references; an unknown one is literal text.
//   $0 $&  whole match     $`  text before it   $'  text after it
//   $+     the last group (the highest-numbered one, as .NET's LastGroup)
//   $_     the whole input  $$  a dollar sign    any other `$` is literal.
import type { RegexMatch } from "./compile.js";

/** Literal text, a group number (>= 0), or one of the special tokens. */
export type SubstitutionPart =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "group"; readonly group: number }
  | { readonly kind: "before" }
  | { readonly kind: "after" }
  | { readonly kind: "input" };

export interface GroupTable {
  readonly groupCount: number;
  readonly groupNumbersByName: ReadonlyMap<string, number>;
}

export function parseSubstitution(translation: string, groups: GroupTable): SubstitutionPart[] {
  const parts: SubstitutionPart[] = [];
  let text = "";
  const flush = (): void => {
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
  };
  const push = (p: SubstitutionPart): void => {
    flush();
    parts.push(p);
  };
  const isGroup = (n: number): boolean => n >= 0 && n <= groups.groupCount;
  let i = 0;
  while (i < translation.length) {
    const ch = translation[i]!;
    if (ch !== "$" || i + 1 >= translation.length) {
      text += ch;
      i++;
      continue;
    }
    const next = translation[i + 1]!;
    const rest = translation.slice(i + 1);
    const digits = /^\d+/.exec(rest);
    if (digits !== null) {
      const n = Number(digits[0]);
      if (isGroup(n)) {
        push({ kind: "group", group: n });
        i += 1 + digits[0].length;
        continue;
      }
    } else if (next === "{") {
      const braced = /^\{([\p{L}\p{Mn}\p{Nd}\p{Pc}]+)\}/u.exec(rest);
      if (braced !== null) {
        const key = braced[1]!;
        const n = /^\d+$/.test(key) ? Number(key) : (groups.groupNumbersByName.get(key) ?? -1);
        if (isGroup(n)) {
          push({ kind: "group", group: n });
          i += 1 + braced[0].length;
          continue;
        }
      }
    } else {
      const special = specialToken(next, groups.groupCount);
      if (special !== null) {
        if (special.kind === "text") text += special.text;
        else push(special);
        i += 2;
        continue;
      }
    }
    // Not a substitution: the `$` is literal and scanning resumes right after it.
    text += "$";
    i++;
  }
  flush();
  return parts;
}

function specialToken(ch: string, groupCount: number): SubstitutionPart | null {
  switch (ch) {
    case "$":
      return { kind: "text", text: "$" };
    case "&":
      return { kind: "group", group: 0 };
    case "`":
      return { kind: "before" };
    case "'":
      return { kind: "after" };
    case "+":
      return { kind: "group", group: groupCount };
    case "_":
      return { kind: "input" };
    default:
      return null;
  }
}

export function expandSubstitution(
  parts: readonly SubstitutionPart[],
  match: RegexMatch,
  input: string,
): string {
  let out = "";
  for (const p of parts) {
    switch (p.kind) {
      case "text":
        out += p.text;
        break;
      case "group":
        out += match.group(p.group);
        break;
      case "before":
        out += input.slice(0, match.index);
        break;
      case "after":
        out += input.slice(match.end);
        break;
      case "input":
        out += input;
        break;
    }
  }
  return out;
}

// Gateway number translation rules (config.md `*NumberTranslationRules`): an ordered list of
// named pattern/translation pairs in the dial plan dialect. Like the cloud system's trunk
// translation, the rules are tried in order and the first one whose pattern matches is
// applied; a number no rule matches passes unchanged.
import type { RoutingTables } from "./routing-tables.js";

export interface TranslatedNumber {
  readonly number: string;
  /** Identity of the rule applied, or null. */
  readonly rule: string | null;
}

export function translateNumber(
  tables: RoutingTables,
  ruleIdentities: readonly string[],
  number: string,
): TranslatedNumber {
  for (const identity of ruleIdentities) {
    const compiled = tables.translationRule(identity);
    const out = compiled?.rule.apply(number);
    if (out !== undefined && out !== null) return { number: out, rule: compiled?.identity ?? identity };
  }
  return { number, rule: null };
}

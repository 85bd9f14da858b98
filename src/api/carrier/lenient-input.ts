// How the carrier API reads the query values and date-times that carriers' tools commonly send,
// where carrier-api.md is silent. Decisions (each what a carrier integrating against the contract
// would expect, none of which makes a bad value good):
//
// * An empty query value (`?from=&cursor=`, as the contract itself writes the parameters) is a
//   parameter not given: its default applies.
// * A date-time is ISO 8601; carrier-api.md says every time is UTC, so one without a zone
//   (`2026-03-01T10:00:00`, what many billing exports and Python's isoformat() write) is UTC, and
//   a bare date (`2026-03-01`) is midnight UTC. Minutes without seconds and `+hh` offsets are
//   completed; an offset whose `+` arrived as a space (an unencoded `+` in a query string means a
//   space) is read as `+`.
// Everything else still has to be a real date-time (`2026-02-30`, `yesterday`: 400 with the path).

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/** The date-time in the form the schemas' `date-time` format checks; unchanged when not one. */
export function normalizeDateTime(value: string): string {
  const text = value.trim().replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$/i, "$1+$2");
  if (DATE.test(text)) return `${text}T00:00:00Z`;
  const m = DATE_TIME.exec(text);
  if (m === null) return value;
  const [, minutes, seconds, zone] = m as unknown as [string, string, string | undefined, string | undefined];
  let offset = zone ?? "Z";
  if (/^[+-]\d{2}$/.test(offset)) offset = `${offset}:00`;
  else if (/^[+-]\d{4}$/.test(offset)) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  return `${minutes}${seconds ?? ":00"}${offset}`;
}

/** Applies the decisions above to a parsed query string, in place (a preValidation hook). */
export function normalizeQuery(query: Record<string, unknown>, dateTimeKeys: readonly string[]): void {
  for (const [key, value] of Object.entries(query)) {
    if (value === "") delete query[key];
    else if (typeof value === "string" && dateTimeKeys.includes(key)) query[key] = normalizeDateTime(value);
  }
}

// `updatedDateTime` of a carrier's numbers across reloads: a number whose assignment did not
// change keeps its time; only a changed one gets the time of the reload that changed it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { reloadingNumberSource } from "../../src/api/carrier/numbers.js";
import { parseConfigText } from "../../src/config/load.js";
import type { DialgateConfig } from "../../src/config/schema.js";

const example = readFileSync(new URL("../../config/dialgate.yaml", import.meta.url), "utf8");

function parse(text: string): DialgateConfig {
  const r = parseConfigText(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

describe("carrier numbers' updatedDateTime across reloads", () => {
  it("moves only for a number whose assignment changed", async () => {
    let config = parse(example);
    let now = Date.parse("2026-12-07T10:00:00Z");
    const source = reloadingNumberSource(
      () => config,
      () => now,
    );
    const times = async () =>
      Object.fromEntries((await source.numbersOf("fabrikam")).map((n) => [n.number, n.updatedDateTime]));
    expect(await times()).toEqual({
      "+14255550100": "2026-12-07T10:00:00.000Z",
      "+14255550101": "2026-12-07T10:00:00.000Z",
    });

    // A reload that changes nothing of the numbers (another gateway port): both keep their time.
    now = Date.parse("2026-12-07T11:00:00Z");
    config = parse(example.replace("sipSignalingPort: 5090", "sipSignalingPort: 5094"));
    expect(await times()).toEqual({
      "+14255550100": "2026-12-07T10:00:00.000Z",
      "+14255550101": "2026-12-07T10:00:00.000Z",
    });

    // Bob's number loses its extension: its SIP URI changes, so it alone is updated.
    now = Date.parse("2026-12-07T12:00:00Z");
    config = parse(example.replace('lineUri: "+14255550101;ext=0101"', 'lineUri: "+14255550101"'));
    expect(await times()).toEqual({
      "+14255550100": "2026-12-07T10:00:00.000Z",
      "+14255550101": "2026-12-07T12:00:00.000Z",
    });
  });
});

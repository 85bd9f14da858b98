// Which carriers own a number (config `carriers[].numbers`), so that a call's CDR names every
// carrier allowed to see it (carrier-api.md "Which records a carrier sees": a call that used one
// of the carrier's numbers as caller or callee number). Built once per configuration.

export interface CarrierNumbers {
  /** Carrier ids owning any of `numbers` (null entries ignored), in configuration order, no repeats. */
  carriersOf(numbers: readonly (string | null | undefined)[]): string[];
}

export function carrierNumbers(
  carriers: readonly { readonly id: string; readonly numbers: readonly { readonly number: string }[] }[],
): CarrierNumbers {
  const owners = new Map<string, string[]>();
  for (const c of carriers) {
    for (const n of c.numbers) {
      const list = owners.get(n.number) ?? [];
      if (!list.includes(c.id)) list.push(c.id);
      owners.set(n.number, list);
    }
  }
  return {
    carriersOf(numbers) {
      const out: string[] = [];
      if (owners.size === 0) return out;
      for (const n of numbers) {
        if (n === null || n === undefined) continue;
        // A provisioned number matches with or without the assignment's ;ext= (the carrier
        // provides the E.164 number; extensions are the tenant's own subdivision of it).
        const semi = n.indexOf(";");
        for (const key of semi < 0 ? [n] : [n, n.slice(0, semi)]) {
          for (const id of owners.get(key) ?? []) if (!out.includes(id)) out.push(id);
        }
      }
      return out;
    },
  };
}

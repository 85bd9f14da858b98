// Dial plan engine micro-benchmark (quality-bar.md): normalizations per second and p50/p99 per
// call for (a) a 50-rule plan matched by its last rule — with rules the first-character and
// length filters can skip, and (a'') with rules neither can —, (b) the +CC fallback, (c) the
// service-country rules only, and (d) a 64-character adversarial input against a catastrophic
// pattern (run on the linear-time engine). Run with `npm run bench:dialplan`.
import { cpus } from "node:os";
import { dialgateConfigSchema } from "../src/config/schema.js";
import { createDialPlanEngine, type DialPlanEngine } from "../src/dialplan/index.js";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300_000);

function engineFor(rules: { name: string; pattern: string; translation: string }[]): DialPlanEngine {
  return createDialPlanEngine(
    dialgateConfigSchema.parse({
      sip: { listen: [{ transport: "udp", host: "127.0.0.1", port: 5060 }], recordRouteHost: "127.0.0.1" },
      tenants: [
        {
          id: "bench",
          domains: ["bench.example"],
          dialPlans: rules.length > 0 ? { global: { normalizationRules: rules } } : {},
          users: [{ id: "u@bench.example", usageLocation: "US" }],
        },
      ],
    }),
  );
}

interface Case {
  readonly label: string;
  readonly engine: DialPlanEngine;
  readonly dialled: string;
  readonly expect: string;
}

function measure(c: Case): void {
  const plan = c.engine.effectivePlan("u@bench.example");
  if (plan === undefined) throw new Error("no plan");
  const check = c.engine.normalize(plan, c.dialled);
  if (!check.ok || check.value.translatedNumber !== c.expect) {
    throw new Error(`${c.label}: unexpected result ${JSON.stringify(check)}`);
  }
  let sink = 0;
  for (let i = 0; i < 50_000; i++) {
    const r = c.engine.normalize(plan, c.dialled);
    if (r.ok) sink += r.value.translatedNumber.length;
  }
  // Throughput: a tight loop without per-call timers.
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const r = c.engine.normalize(plan, c.dialled);
    if (r.ok) sink += r.value.translatedNumber.length;
  }
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  // Latency: each call timed on its own (includes ~tens of ns of timer overhead).
  const samples = new Float64Array(Math.min(ITERATIONS, 200_000));
  for (let i = 0; i < samples.length; i++) {
    const s = process.hrtime.bigint();
    const r = c.engine.normalize(plan, c.dialled);
    samples[i] = Number(process.hrtime.bigint() - s);
    if (r.ok) sink += r.value.translatedNumber.length;
  }
  samples.sort();
  const pct = (p: number) =>
    (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! / 1000).toFixed(2);
  const perSecond = Math.round((ITERATIONS / elapsedNs) * 1e9);
  console.log(
    `${c.label.padEnd(58)} ${perSecond.toLocaleString("en-US").padStart(11)}/s   p50 ${pct(0.5).padStart(6)} µs   p99 ${pct(0.99).padStart(6)} µs${sink < 0 ? "!" : ""}`,
  );
}

// 49 rules that do not match the dialled string, then the one that does.
const fifty = Array.from({ length: 49 }, (_, i) => ({
  name: `site${i}`,
  pattern: `^${100 + i}(\\d{4})$`,
  translation: `+1425${100 + i}$1`,
}));
fifty.push({ name: "last", pattern: "^8(\\d{4})$", translation: "+14255550$1" });
const fiftyEngine = engineFor(fifty);
// The same size where every rule can start with any digit, so the first-character filter in
// front of the regex engine cannot skip any rule (the length filter can: each has one length).
const fiftyDigits = Array.from({ length: 49 }, (_, i) => ({
  name: `len${6 + i}`,
  pattern: `^(\\d{${6 + i}})$`,
  translation: "+1$1",
}));
fiftyDigits.push({ name: "last", pattern: "^(\\d{5})$", translation: "+142555$1" });
const fiftyDigitsEngine = engineFor(fiftyDigits);
// Neither filter can skip anything here: every rule starts with a digit and matches exactly
// five characters, like the input, so all 50 run in the regex engine. The floor of the loop.
const fiftySameLength = Array.from({ length: 49 }, (_, i) => ({
  name: `tail${i}`,
  pattern: `^(\\d{2})${String(i).padStart(3, "0")}$`,
  translation: "+1$1",
}));
fiftySameLength.push({ name: "last", pattern: "^(\\d{5})$", translation: "+142555$1" });
const fiftySameLengthEngine = engineFor(fiftySameLength);

const adversarial = engineFor([{ name: "evil", pattern: "^(\\d+)+$", translation: "+$1" }]);
const evilPlan = adversarial.effectivePlan("u@bench.example");
const evilRule = evilPlan?.rules[0];

console.log(`dialgate dial plan benchmark — node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}`);
console.log(`${ITERATIONS.toLocaleString("en-US")} normalizations per case, single thread\n`);
measure({
  label: "(a) 50-rule plan, match on the last rule",
  engine: fiftyEngine,
  dialled: "81234",
  expect: "+142555501234",
});
measure({
  label: "(a') 50 rules all starting with \\d, match on the last",
  engine: fiftyDigitsEngine,
  dialled: "81234",
  expect: "+14255581234",
});
measure({
  label: "(a'') 50 rules, same first char and length, match on last",
  engine: fiftySameLengthEngine,
  dialled: "81234",
  expect: "+14255581234",
});
measure({
  label: "(b) 50-rule plan + US rules, no match: +CC fallback",
  engine: fiftyEngine,
  dialled: "12",
  expect: "+112",
});
measure({
  label: "(c) service-country rules only (US, 10 digits)",
  engine: engineFor([]),
  dialled: "(425) 555-0100",
  expect: "+14255550100",
});
measure({
  label: "(c') service-country rules only (US, 011 international)",
  engine: engineFor([]),
  dialled: "011442079460000",
  expect: "+442079460000",
});
console.log(`\n(d) catastrophic pattern ^(\\d+)+$ runs on the ${evilRule?.compiled.engine ?? "?"} engine`);
measure({
  label: "(d) ^(\\d+)+$ vs 63 digits + '*' (64 chars, no match)",
  engine: adversarial,
  dialled: `${"1".repeat(63)}*`,
  expect: `+1${"1".repeat(63)}*`.slice(2),
});
measure({
  label: "(d') ^(\\d+)+$ vs 64 digits (match)",
  engine: adversarial,
  dialled: "1".repeat(64),
  expect: `+${"1".repeat(64)}`,
});

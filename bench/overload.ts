// `npm run bench:overload`: goodput against offered load (issue #16). The proxy is offered a
// fixed rate for BENCH_SECONDS (default 10) at each of BENCH_RATES (default 500,1000,2000,4000
// calls/s), 500 ms holds as in bench:load. For each: calls the UAS completed per second of
// offered load (goodput), INVITEs the proxy refused at once (503 from admission control: offered minus
// what reached the UAS), admitted calls that failed (reached the UAS but did not complete), and
// the UAC's retransmissions per 100 calls (a storm shows here). CPU shares are over the whole
// wall time of a step (from the first call until the UAC exits, `wall s`): a step whose calls
// hang until SIPp's timeouts shows a long wall time and low shares.
//
// Options: BENCH_RIGS (default dialgate; see bench/load/rigs.ts), BENCH_DIALGATE_WORKERS,
// BENCH_KAMAILIO_CHILDREN, BENCH_RATES, BENCH_SECONDS, BENCH_WARMUP_SECONDS (default 0: a proxy
// started cold into the offered load; N: N seconds of uncounted short calls at half the rate
// first, as bench:load does, so the run measures a proxy in service).
import { fileURLToPath } from "node:url";
import { runFixed } from "./load/fixed-rate.js";
import { dialgateWorkersFromEnv, openRig, parseRigs } from "./load/rigs.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rates = (process.env.BENCH_RATES ?? "500,1000,2000,4000").split(",").map(Number);
const rigs = parseRigs(process.env.BENCH_RIGS ?? "dialgate");
const warmUpSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 0);

async function main(): Promise<void> {
  console.log(
    "rig | offered cps | goodput cps | refused at once | admitted but failed | retrans/100 calls | proxy CPU | helper CPU (redis-server) | SIPp CPU (UAC, UAS) | wall s",
  );
  for (const rig of rigs) {
    const session = await openRig(rig, {
      repo,
      kamailioChildren: process.env.BENCH_KAMAILIO_CHILDREN,
      dialgateWorkers: dialgateWorkersFromEnv(),
    });
    try {
      for (const rate of rates) {
        const calls = rate * seconds;
        const warmRate = Math.max(1, Math.round(rate / 2));
        const r = await runFixed(session, repo, {
          rate,
          calls,
          holdMs: 500,
          ...(warmUpSeconds > 0 ? { warmUp: { rate: warmRate, calls: warmRate * warmUpSeconds } } : {}),
        });
        if (r.warmUp !== null && r.warmUp.failed > 0)
          console.error(`${rig} ${rate}: ${r.warmUp.failed} warm-up calls failed (not counted in the step)`);
        const refused = Math.max(0, calls - r.uas.created);
        const admittedFailed = Math.max(0, r.uas.created - r.uas.successful);
        console.log(
          [
            rig,
            rate,
            // Over the seconds calls were offered (the holds and wrap-up after them excluded).
            Math.round(r.uas.successful / seconds),
            `${refused} (${((100 * refused) / calls).toFixed(1)}%)`,
            admittedFailed,
            ((100 * r.uac.retransmissions) / calls).toFixed(1),
            `${Math.round((100 * r.proxyCpuSeconds) / r.wallSeconds)}%`,
            session.helpers.length === 0 ? "-" : `${Math.round((100 * r.helperCpuSeconds) / r.wallSeconds)}%`,
            `${Math.round((100 * r.uacCpuSeconds) / r.wallSeconds)}%, ${Math.round((100 * r.uasCpuSeconds) / r.wallSeconds)}%`,
            r.wallSeconds.toFixed(1),
          ].join(" | "),
        );
      }
    } finally {
      await session.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// `npm run bench:held`: memory per held call (issue #16). Calls arrive at BENCH_RATE (default
// 250/s) and are held BENCH_HOLD_SECONDS (default 40 s), so BENCH_RATE x BENCH_HOLD_SECONDS
// (10,000) are up at once after the ramp. The proxy's resident memory (VmRSS, every process of
// the rig) is read just before the first call and at the plateau (the end of the ramp), and the
// difference divided by the calls up then. The figure includes what the RFC keeps for a while
// after each answer (RFC 6026 Accepted transactions, Timer L/M = 32 s) and the call recorder's
// state, as an operator would see it.
//
// Options: BENCH_RIGS (default dialgate), BENCH_DIALGATE_WORKERS, BENCH_RATE, BENCH_HOLD_SECONDS.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runFixed } from "./load/fixed-rate.js";
import { openRig, parseRigs, type RunningProxy } from "./load/rigs.js";
import { processTree, sleep } from "./support/processes.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const rate = Number(process.env.BENCH_RATE ?? 250);
const holdSeconds = Number(process.env.BENCH_HOLD_SECONDS ?? 40);
const rigs = parseRigs(process.env.BENCH_RIGS ?? "dialgate");
const workersText = process.env.BENCH_DIALGATE_WORKERS;

/** Current resident memory (KiB) of the rig's processes and their children. */
function rssKiB(proxy: RunningProxy): number {
  let kib = 0;
  for (const p of proxy.processes)
    for (const pid of processTree(p.pid)) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
        kib += Number(m?.[1] ?? 0);
      } catch {
        // ended meanwhile
      }
    }
  return kib;
}

async function main(): Promise<void> {
  const held = rate * holdSeconds;
  console.log(`rate ${rate} cps, hold ${holdSeconds} s: ${held} calls up at the plateau`);
  console.log("rig | RSS before (MiB) | RSS at plateau (MiB) | per held call (KiB) | calls ok / failed");
  for (const rig of rigs) {
    const session = await openRig(rig, {
      repo,
      kamailioChildren: process.env.BENCH_KAMAILIO_CHILDREN,
      dialgateWorkers: workersText === undefined ? undefined : Number(workersText),
    });
    try {
      let before = 0;
      let plateau = 0;
      const r = await runFixed(
        session,
        repo,
        {
          rate,
          calls: held,
          holdMs: holdSeconds * 1000,
          // The last call starts at holdSeconds: every call is up then (the first ends just after).
          onTick: (s, proxy) => {
            if (s >= holdSeconds - 0.5 && plateau === 0) plateau = rssKiB(proxy);
          },
        },
        async (proxy) => {
          await sleep(2000); // settled after start-up
          before = rssKiB(proxy);
        },
      );
      console.log(
        [
          rig,
          (before / 1024).toFixed(0),
          (plateau / 1024).toFixed(0),
          ((plateau - before) / held).toFixed(1),
          `${r.uac.successful} / ${r.uac.failed}`,
        ].join(" | "),
      );
    } finally {
      await session.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

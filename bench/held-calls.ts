// `npm run bench:held`: memory per held call (issue #16). Calls arrive at BENCH_RATE (default
// 250/s) and are held BENCH_HOLD_SECONDS (default 40 s), so BENCH_RATE x BENCH_HOLD_SECONDS
// (10,000) are up at once after the ramp. The proxy's resident memory (VmRSS, every process of
// the rig) is read just before the first call and at the plateau (the end of the ramp), and the
// difference divided by the calls up then. The figure includes what the RFC keeps for a while
// after each answer (RFC 6026 Accepted transactions, Timer L/M = 32 s) and the call recorder's
// state, as an operator would see it.
//
// The baseline is read twice: just after start-up ("cold"), and after a warm-up of short calls
// at the same rate (BENCH_WARMUP_SECONDS, default 10; 0 skips it) once their state is gone
// (40 s: the 32-s RFC 6026 windows). The per-call figure is taken from the warm baseline: a
// Node process that has carried traffic has grown its young generation (up to 2 x 16 MiB of
// semi-spaces) whatever the number of calls held, and Kamailio has touched its shared-memory
// pages; the warm delta is what holding the calls adds, as on a proxy that has been in service.
//
// Options: BENCH_RIGS (default dialgate), BENCH_DIALGATE_WORKERS, BENCH_RATE, BENCH_HOLD_SECONDS,
// BENCH_WARMUP_SECONDS.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runFixed } from "./load/fixed-rate.js";
import { dialgateWorkersFromEnv, openRig, parseRigs, type RunningProxy } from "./load/rigs.js";
import { processTree, sleep } from "./support/processes.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const rate = Number(process.env.BENCH_RATE ?? 250);
const holdSeconds = Number(process.env.BENCH_HOLD_SECONDS ?? 40);
const rigs = parseRigs(process.env.BENCH_RIGS ?? "dialgate");
const warmUpSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
/** How long the warm-up's state lingers after its last call: 64*T1 (32 s) and a margin. */
const WARM_STATE_GONE_MS = 40_000;

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
  console.log(
    "rig | RSS cold (MiB) | RSS warm, before (MiB) | RSS at plateau (MiB) | per held call (KiB, warm) | per held call (KiB, cold) | calls ok / failed",
  );
  for (const rig of rigs) {
    const session = await openRig(rig, {
      repo,
      kamailioChildren: process.env.BENCH_KAMAILIO_CHILDREN,
      dialgateWorkers: dialgateWorkersFromEnv(),
    });
    try {
      let cold = 0;
      let before = 0;
      let plateau = 0;
      const r = await runFixed(
        session,
        repo,
        {
          rate,
          calls: held,
          holdMs: holdSeconds * 1000,
          onProxyStarted: async (proxy) => {
            await sleep(2000); // settled after start-up
            cold = rssKiB(proxy);
          },
          ...(warmUpSeconds > 0 ? { warmUp: { rate, calls: rate * warmUpSeconds } } : {}),
          // The last call starts at holdSeconds: every call is up then (the first ends just after).
          onTick: (s, proxy) => {
            if (s >= holdSeconds - 0.5 && plateau === 0) plateau = rssKiB(proxy);
          },
        },
        async (proxy) => {
          if (warmUpSeconds > 0) await sleep(WARM_STATE_GONE_MS);
          before = rssKiB(proxy);
        },
      );
      console.log(
        [
          rig,
          (cold / 1024).toFixed(0),
          (before / 1024).toFixed(0),
          (plateau / 1024).toFixed(0),
          ((plateau - before) / held).toFixed(1),
          ((plateau - cold) / held).toFixed(1),
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

/**
 * CPU-bound fan-out: 64 shards of about 20 ms of work each, on every core. A sequential loop
 * against parafor's `'worker'` executor (the speed-up), and parafor against a hand-written piscina
 * pool and a raw workerpool pool running the same function (parafor's overhead). Runs interleaved.
 * @module
 */
import { availableParallelism } from 'node:os';
import { parallel } from '../src/index.js';
import { burn, calibrate, parallelBurn, processBurn, Work } from './cpu-work.js';
import { rawPools } from './cpu-raw.js';
import {
  fixed,
  interleave,
  judge,
  median,
  ms,
  plural,
  spread,
  timed,
  times,
  type Check,
  type Chart,
  type Row,
  type Suite,
  versus,
} from './harness.js';

const FULL = { shards: 64, shardMs: 20 };
/** `--quick`: enough to draw the charts. */
const QUICK = { shards: 16, shardMs: 5 };
/** Rounds of the concurrency sweep at most: it calls parafor once per concurrency per round. */
const SWEEP_ROUNDS = 3;
const SPEEDUP_GOAL = 1.8;
const OVERHEAD_GOAL = 1.05;

/** A goal of the form "at least", judged on the printed figure like the harness's `judge`. */
function atLeast(value: number, goal: number): Check {
  const pass = Number(fixed(value)) >= goal;
  return { pass, verdict: pass ? 'meets goal' : 'MISSES GOAL' };
}

type Contender = 'sequential' | 'parafor' | 'piscina' | 'workerpool' | 'parafor process';

function titleOf({ shards, shardMs }: typeof FULL): string {
  return `CPU-bound: ${shards} shards x ~${shardMs} ms, sequential vs parafor 'worker' vs piscina vs workerpool`;
}

export const cpu: Suite = {
  name: 'cpu',
  title: titleOf(FULL),
  async run({ runs = 7, progress, quick }) {
    const { shards: SHARDS, shardMs: SHARD_MS } = quick ? QUICK : FULL;
    const cores = availableParallelism();
    const rounds = calibrate(SHARD_MS);
    const shards = Array.from({ length: SHARDS }, () => rounds);
    const expected = burn(rounds);
    const check = (name: string) => (results: readonly number[]) => {
      if (results.length !== SHARDS || results.some((r) => r !== expected)) throw new Error(`cpu: ${name} is wrong`);
    };
    const raw = await rawPools(burn, cores);
    try {
      progress('warm-up');
      // Each contender starts its pool and loads its code before the timed rounds.
      await parallelBurn(shards.slice(0, cores));
      await processBurn(shards.slice(0, cores));
      const samples = await interleave<Contender>(
        {
          sequential: () => timed(async () => check('sequential')(shards.map((r) => burn(r)))),
          parafor: () => timed(async () => check('parafor')(await parallelBurn(shards))),
          piscina: () => timed(async () => check('piscina')(await raw.piscina(shards))),
          workerpool: () => timed(async () => check('workerpool')(await raw.workerpool(shards))),
          'parafor process': () => timed(async () => check('parafor process')(await processBurn(shards))),
        },
        { rounds: runs, progress },
      );
      const sweep = await concurrencySweep(shards, cores, Math.min(runs, SWEEP_ROUNDS), check, progress);
      const med = (name: Contender): number => median(samples[name]);
      // Ratios per round (each pair ran seconds apart, under the same load), then their median.
      const ratio = (a: Contender, b: Contender): number =>
        median(samples[a].map((value, i) => value / (samples[b][i] as number)));
      const timeRow = (measure: string, name: Contender): Row => ({
        measure,
        value: ms(med(name)),
        detail: spread(samples[name]),
      });
      const speedup = ratio('sequential', 'parafor');
      const overheadRow = (other: 'piscina' | 'workerpool'): Row => {
        const value = ratio('parafor', other);
        return {
          measure: `parafor / hand-written ${other}`,
          value: times(value),
          goal: `<= ${fixed(OVERHEAD_GOAL)}`,
          check: judge(value, '<=', OVERHEAD_GOAL),
          detail: `${ms(med('parafor') - med(other))} per call`,
        };
      };
      return {
        rows: [
          timeRow(`sequential for loop (${SHARDS} x burn)`, 'sequential'),
          timeRow("parafor distribute(burn, { executor: 'worker' })(shards)", 'parafor'),
          timeRow('piscina: Promise.all(shards.map(s => piscina.run(s)))', 'piscina'),
          timeRow("workerpool: Promise.all(shards.map(s => pool.exec('fn', [s])))", 'workerpool'),
          timeRow("parafor { executor: 'process' } (context)", 'parafor process'),
          {
            measure: "speed-up: sequential / parafor 'worker'",
            value: times(speedup),
            goal: `>= ${fixed(SPEEDUP_GOAL)} (limit ${fixed(cores)})`,
            check: atLeast(speedup, SPEEDUP_GOAL),
          },
          overheadRow('piscina'),
          overheadRow('workerpool'),
          {
            measure: "speed-up: sequential / parafor 'process' (context)",
            value: times(ratio('sequential', 'parafor process')),
          },
          ...sweep.map(({ concurrency, speedups }) => ({
            measure: `speed-up at concurrency ${concurrency}: sequential / parallel(work, { concurrency: ${concurrency} }).burn`,
            value: times(median(speedups)),
            detail: `${spread(speedups)}; ideal ${times(Math.min(concurrency, cores))}`,
          })),
        ],
        charts: [
          speedupChart(sweep, cores, SHARDS, SHARD_MS),
          versus('piscina', `${SHARDS} x ${SHARD_MS} ms CPU`, ratio('parafor', 'piscina')),
          versus('workerpool', `${SHARDS} x ${SHARD_MS} ms CPU`, ratio('parafor', 'workerpool')),
        ],
        ...(quick ? { title: titleOf(QUICK) } : {}),
        notes: [
          `${cores} cores; every pool has ${cores} workers. A shard is ${rounds.toLocaleString('en')} xorshift rounds (~${SHARD_MS} ms here, calibrated at start).`,
          `Medians of ${plural(runs, 'interleaved round')} after a warm-up call per pool; a ratio is the median of the per-round ratios.`,
          `Speed-up at a concurrency: ${plural(Math.min(runs, SWEEP_ROUNDS), 'round')}, each timing the sequential loop and then every concurrency once; a figure is the median of the per-round speed-ups.`,
          'piscina and workerpool run one task per shard from a generated worker file; parafor runs the same function by reference, auto-batched.',
        ],
      };
    } finally {
      await raw.close();
    }
  },
};

interface SweepPoint {
  readonly concurrency: number;
  /** sequential / parafor, one per round. */
  readonly speedups: readonly number[];
}

/**
 * The speed-up of `'worker'` at each concurrency from 1 to two above the cores: each round times
 * the sequential loop, then parafor once at every concurrency, so a round's figures share its load.
 */
async function concurrencySweep(
  shards: readonly number[],
  cores: number,
  rounds: number,
  check: (name: string) => (results: readonly number[]) => void,
  progress: (message: string) => void,
): Promise<SweepPoint[]> {
  const work = new Work();
  const levels = Array.from({ length: cores + 2 }, (_, i) => i + 1);
  const speedups = levels.map(() => [] as number[]);
  // Workers beyond the cores start at the first call that asks for them; start them before timing.
  await parallel(work, { concurrency: levels.at(-1) ?? 1 }).burn(shards.slice(0, levels.length));
  for (let round = 0; round < rounds; round++) {
    progress(`concurrency sweep ${round + 1}/${rounds}: sequential`);
    const sequential = await timed(async () => check('sequential')(shards.map((r) => burn(r))));
    for (const [i, concurrency] of levels.entries()) {
      progress(`concurrency sweep ${round + 1}/${rounds}: concurrency ${concurrency}`);
      const time = await timed(async () =>
        check(`concurrency ${concurrency}`)(await parallel(work, { concurrency }).burn(shards)),
      );
      speedups[i]?.push(sequential / time);
    }
  }
  return levels.map((concurrency, i) => ({ concurrency, speedups: speedups[i] ?? [] }));
}

function speedupChart(sweep: readonly SweepPoint[], cores: number, shards: number, shardMs: number): Chart {
  return {
    key: 'speedup-concurrency',
    title: `Speed-up against concurrency, 'worker', ${shards} shards x ${shardMs} ms CPU`,
    kind: 'line',
    x: { title: 'concurrency (workers)' },
    y: { title: 'speed-up over the sequential loop (x)' },
    points: sweep.flatMap(({ concurrency, speedups }) => [
      { x: concurrency, y: median(speedups), series: "parafor 'worker' (measured)" },
      { x: concurrency, y: Math.min(concurrency, cores), series: `ideal on ${cores} cores` },
    ]),
    reference: { value: 1, label: 'sequential' },
    caption: `The median speed-up of the sequential loop's time over parafor's at each concurrency; past ${cores} (the cores) more workers only share the same cores.`,
  };
}

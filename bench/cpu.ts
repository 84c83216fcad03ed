/**
 * CPU-bound fan-out: 64 shards of about 20 ms of work each, on every core. A sequential loop
 * against parafor's `'worker'` executor (the speed-up), and parafor against a hand-written piscina
 * pool and a raw workerpool pool running the same function (parafor's overhead). Runs interleaved.
 * @module
 */
import { availableParallelism } from 'node:os';
import { burn, calibrate, parallelBurn, processBurn } from './cpu-work.js';
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
  type Row,
  type Suite,
} from './harness.js';

const SHARDS = 64;
const SHARD_MS = 20;
const SPEEDUP_GOAL = 1.8;
const OVERHEAD_GOAL = 1.05;

/** A goal of the form "at least", judged on the printed figure like the harness's `judge`. */
function atLeast(value: number, goal: number): Check {
  const pass = Number(fixed(value)) >= goal;
  return { pass, verdict: pass ? 'meets goal' : 'MISSES GOAL' };
}

type Contender = 'sequential' | 'parafor' | 'piscina' | 'workerpool' | 'parafor process';

export const cpu: Suite = {
  name: 'cpu',
  title: `CPU-bound: ${SHARDS} shards x ~${SHARD_MS} ms, sequential vs parafor 'worker' vs piscina vs workerpool`,
  async run({ runs = 7, progress }) {
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
        ],
        notes: [
          `${cores} cores; every pool has ${cores} workers. A shard is ${rounds.toLocaleString('en')} xorshift rounds (~${SHARD_MS} ms here, calibrated at start).`,
          `Medians of ${plural(runs, 'interleaved round')} after a warm-up call per pool; a ratio is the median of the per-round ratios.`,
          'piscina and workerpool run one task per shard from a generated worker file; parafor runs the same function by reference, auto-batched.',
        ],
      };
    } finally {
      await raw.close();
    }
  },
};

/**
 * What parafor costs the main thread, which on `'worker'` shares the cores with the workers: its
 * own busy time per shard caps the speed-up on any number of cores. (a) The main thread's busy time
 * (event-loop utilization: time not spent waiting) over a call of 200,000 tiny shards, from an array
 * and from a generator; (b) 1,000,000 shards of about 1 us of real work, parafor `'worker'` against
 * the plain sequential loop, side by side.
 * @module
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parallelSpin, parallelSquare, spin, square } from './cpu-work.js';
import { fixed, interleave, judge, median, ms, plural, spread, timed, times, type Suite } from './harness.js';

const TINY = 200_000;
const REAL = 1_000_000;
const SHARD_US = 1;
const MAIN_GOAL_US = 0.25;
const RATIO_GOAL = 1;

/** Runs `work` and gives the main thread's busy time over it, in ms (and the wall time). */
async function busy(work: () => Promise<unknown>): Promise<{ readonly busyMs: number; readonly wallMs: number }> {
  const start = performance.eventLoopUtilization();
  const began = performance.now();
  await work();
  const wallMs = performance.now() - began;
  return { busyMs: performance.eventLoopUtilization(start).active, wallMs };
}

/** The plain loop parafor is measured against: `spin` over every item, in order. */
function loop(items: readonly number[], rounds: number): number[] {
  const out = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = spin(items[i] as number, rounds);
  return out;
}

/** The number of `spin` rounds that takes about `targetUs` per item in {@link loop} here (median of 5 timings). */
function calibrateSpin(items: readonly number[], targetUs: number): number {
  const probe = 500;
  const sample = items.slice(0, 100_000);
  const timings: number[] = [];
  for (let k = 0; k < 6; k++) {
    const start = performance.now();
    loop(sample, probe);
    timings.push(performance.now() - start);
  }
  timings.sort((a, b) => a - b);
  const usPerItem = ((timings[3] as number) * 1000) / sample.length;
  return Math.max(1, Math.round((probe * targetUs) / usPerItem));
}

function* generate(items: readonly number[]): Generator<number> {
  yield* items;
}

export const mainThread: Suite = {
  name: 'main-thread',
  title: `Main-thread cost per shard on 'worker' (${TINY.toLocaleString('en')} tiny shards) and ${REAL.toLocaleString('en')} shards of ~${SHARD_US} us vs a loop`,
  async run({ runs = 5, progress }) {
    const cores = availableParallelism();
    const tiny = Array.from({ length: TINY }, (_, i) => i);
    const real = Array.from({ length: REAL }, (_, i) => i);
    const rounds = calibrateSpin(real, SHARD_US);
    const expected = loop(real, rounds);
    const checkTiny = (name: string, results: readonly number[]): void => {
      if (results.length !== TINY || results.some((r, i) => r !== square(i))) throw new Error(`${name} is wrong`);
    };
    const checkReal = (name: string, results: readonly number[]): void => {
      if (results.length !== REAL || results.some((r, i) => r !== expected[i])) throw new Error(`${name} is wrong`);
    };
    progress('warm-up');
    await parallelSquare(tiny);
    await parallelSpin(real.slice(0, 100_000), rounds);

    const tinySamples = { array: [] as number[], generator: [] as number[], wall: [] as number[] };
    for (let round = 0; round < runs; round++) {
      progress(`tiny round ${round + 1}/${runs}`);
      const fromArray = await busy(async () => checkTiny('tiny (array)', await parallelSquare(tiny)));
      tinySamples.array.push(fromArray.busyMs);
      tinySamples.wall.push(fromArray.wallMs);
      const fromGenerator = await busy(async () => checkTiny('tiny (generator)', await parallelSquare(generate(tiny))));
      tinySamples.generator.push(fromGenerator.busyMs);
    }
    const realBusy: number[] = [];
    const samples = await interleave(
      {
        sequential: () => timed(async () => checkReal('sequential', loop(real, rounds))),
        parafor: async () => {
          const { busyMs, wallMs } = await busy(async () => checkReal('parafor', await parallelSpin(real, rounds)));
          realBusy.push(busyMs);
          return wallMs;
        },
      },
      { rounds: runs, progress },
    );
    const perShard = (totalMs: number, shards: number): number => (totalMs * 1000) / shards;
    const usPerShard = (value: number): string => `${fixed(value)} us per shard`;
    const arrayUs = perShard(median(tinySamples.array), TINY);
    const ratio = median(samples.parafor.map((value, i) => value / (samples.sequential[i] as number)));
    return {
      rows: [
        {
          measure: `main thread busy, ${TINY.toLocaleString('en')} x (x * x) on 'worker', array input`,
          value: usPerShard(arrayUs),
          goal: `<= ${fixed(MAIN_GOAL_US)}`,
          check: judge(arrayUs, '<=', MAIN_GOAL_US),
          detail: `${ms(median(tinySamples.array))} busy of ${ms(median(tinySamples.wall))} wall; ${spread(tinySamples.array.map((v) => perShard(v, TINY)))}`,
        },
        {
          measure: 'main thread busy, the same from a generator (no goal: as close as it gets)',
          value: usPerShard(perShard(median(tinySamples.generator), TINY)),
          detail: spread(tinySamples.generator.map((v) => perShard(v, TINY))),
        },
        {
          measure: `sequential loop, ${REAL.toLocaleString('en')} x spin (~${SHARD_US} us)`,
          value: ms(median(samples.sequential)),
          detail: spread(samples.sequential),
        },
        {
          measure: "parafor distribute(spin, { executor: 'worker' })(items, rounds)",
          value: ms(median(samples.parafor)),
          detail: `${spread(samples.parafor)}; main thread busy ${usPerShard(perShard(median(realBusy), REAL))}`,
        },
        {
          measure: "time parafor 'worker' / sequential loop",
          value: times(ratio),
          goal: `< ${fixed(RATIO_GOAL)}`,
          check: judge(ratio, '<', RATIO_GOAL),
          detail: `limit ${fixed(1 / cores)} on ${cores} cores, with the main thread free`,
        },
      ],
      notes: [
        `${cores} cores, ${cores} workers. Busy time is performance.eventLoopUtilization().active over the call: the main thread's own work, GC included.`,
        `A ~${SHARD_US} us shard is ${rounds.toLocaleString('en')} xorshift rounds (calibrated at start). Medians of ${plural(runs, 'round')}, after a warm-up call; a ratio is the median of the per-round ratios.`,
      ],
    };
  },
};

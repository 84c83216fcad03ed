/**
 * What parafor costs the main thread, which on `'worker'` shares the cores with the workers: its
 * own time per shard caps the speed-up on any number of cores. (a) The main thread's CPU time over
 * a call of 200,000 tiny shards, from an array and from a generator; (b) 1,000,000 shards of about
 * 1 us of real work, parafor `'worker'` against the plain sequential loop, side by side.
 * @module
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { cpuClock } from './cpu-clock.js';
import { parallel } from '../src/index.js';
import { parallelSpin, parallelSquare, spin, square, Work } from './cpu-work.js';
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
  type Chart,
  type Suite,
} from './harness.js';

const FULL = { tiny: 200_000, real: 1_000_000 };
/** `--quick`: enough to draw the chart. */
const QUICK = { tiny: 20_000, real: 100_000 };
/** The fixed batch sizes of the chart, against `'auto'`. */
const BATCH_SIZES = [16, 64, 256, 1024, 4096];
/** Rounds of the batch-size sweep at most. */
const SWEEP_ROUNDS = 3;
/** Calls of TINY shards per measured figure (see below). */
const CALLS = 3;
const SHARD_US = 1;
const MAIN_GOAL_US = 0.25;
const RATIO_GOAL = 1;

/** Runs `work` and gives the main thread's CPU time over it, its busy (not idle) time, and the wall time, in ms. */
async function busy(
  work: () => Promise<unknown>,
): Promise<{ readonly cpuMs: number; readonly busyMs: number; readonly wallMs: number }> {
  const elu = performance.eventLoopUtilization();
  const cpu = cpuClock.now();
  const began = performance.now();
  await work();
  const wallMs = performance.now() - began;
  return { cpuMs: cpuClock.now() - cpu, busyMs: performance.eventLoopUtilization(elu).active, wallMs };
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

async function* generateAsync(items: readonly number[]): AsyncGenerator<number> {
  yield* items;
}

function titleOf({ tiny, real }: typeof FULL): string {
  return `Main-thread cost per shard on 'worker' (${tiny.toLocaleString('en')} tiny shards) and ${real.toLocaleString('en')} shards of ~${SHARD_US} us vs a loop`;
}

export const mainThread: Suite = {
  name: 'main-thread',
  title: titleOf(FULL),
  async run({ runs = 5, progress, quick }) {
    const { tiny: TINY, real: REAL } = quick ? QUICK : FULL;
    const cores = availableParallelism();
    const tinyItems = Array.from({ length: TINY }, (_, i) => i);
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
    await parallelSquare(tinyItems);
    await parallelSpin(real.slice(0, 100_000), rounds);

    const tiny = {
      array: [] as number[],
      generator: [] as number[],
      async: [] as number[],
      busy: [] as number[],
      wall: [] as number[],
    };
    // Each figure is a call's average over CALLS calls in a row: a thread's CPU time is read at the
    // scheduler's granularity (a few ms), too coarse for one call of a few tens of ms.
    for (let round = 0; round < runs; round++) {
      progress(`tiny round ${round + 1}/${runs}`);
      // The results are checked after the measure: checking them is not parafor's work.
      const outputs: number[][] = [];
      const fromArray = await busy(async () => {
        for (let call = 0; call < CALLS; call++) outputs.push(await parallelSquare(tinyItems));
      });
      tiny.array.push(fromArray.cpuMs / CALLS);
      tiny.busy.push(fromArray.busyMs / CALLS);
      tiny.wall.push(fromArray.wallMs / CALLS);
      for (const output of outputs.splice(0)) checkTiny('tiny (array)', output);
      const fromGenerator = await busy(async () => {
        for (let call = 0; call < CALLS; call++) outputs.push(await parallelSquare(generate(tinyItems)));
      });
      for (const output of outputs.splice(0)) checkTiny('tiny (generator)', output);
      tiny.generator.push(fromGenerator.cpuMs / CALLS);
      const fromAsync = await busy(async () => {
        for (let call = 0; call < CALLS; call++) outputs.push(await parallelSquare(generateAsync(tinyItems)));
      });
      for (const output of outputs.splice(0)) checkTiny('tiny (async generator)', output);
      tiny.async.push(fromAsync.cpuMs / CALLS);
    }
    // The same array input at fixed batch sizes, for the chart: a round measures each size once.
    const work = new Work();
    const sweepRounds = Math.min(runs, SWEEP_ROUNDS);
    const bySize = BATCH_SIZES.map(() => [] as number[]);
    for (let round = 0; round < sweepRounds; round++) {
      for (const [i, batchSize] of BATCH_SIZES.entries()) {
        progress(`batch sizes ${round + 1}/${sweepRounds}: ${batchSize}`);
        const view = parallel(work, { batchSize });
        const outputs: number[][] = [];
        const { cpuMs } = await busy(async () => {
          for (let call = 0; call < CALLS; call++) outputs.push(await view.square(tinyItems));
        });
        for (const output of outputs) checkTiny(`tiny (batchSize ${batchSize})`, output);
        bySize[i]?.push(cpuMs / CALLS);
      }
    }
    const realCpu: number[] = [];
    const samples = await interleave(
      {
        sequential: () => timed(async () => checkReal('sequential', loop(real, rounds))),
        parafor: async () => {
          const { cpuMs, wallMs } = await busy(async () => checkReal('parafor', await parallelSpin(real, rounds)));
          realCpu.push(cpuMs);
          return wallMs;
        },
      },
      { rounds: runs, progress },
    );
    const perShard = (totalMs: number, shards: number): number => (totalMs * 1000) / shards;
    const usPerShard = (value: number): string => `${fixed(value)} us per shard`;
    const arrayUs = perShard(median(tiny.array), TINY);
    const ratio = median(samples.parafor.map((value, i) => value / (samples.sequential[i] as number)));
    return {
      rows: [
        {
          measure: `main thread CPU, ${TINY.toLocaleString('en')} x (x * x) on 'worker', array input`,
          value: usPerShard(arrayUs),
          goal: `<= ${fixed(MAIN_GOAL_US)}`,
          check: judge(arrayUs, '<=', MAIN_GOAL_US),
          detail: `${spread(tiny.array.map((v) => perShard(v, TINY)))}; busy (event loop) ${usPerShard(perShard(median(tiny.busy), TINY))}; wall ${ms(median(tiny.wall))}`,
        },
        {
          measure: 'main thread CPU, the same from a generator (no goal: as close as it gets)',
          value: usPerShard(perShard(median(tiny.generator), TINY)),
          detail: spread(tiny.generator.map((v) => perShard(v, TINY))),
        },
        {
          measure: 'main thread CPU, the same from an async generator (no goal: as close as it gets)',
          value: usPerShard(perShard(median(tiny.async), TINY)),
          detail: spread(tiny.async.map((v) => perShard(v, TINY))),
        },
        ...BATCH_SIZES.map((batchSize, i) => ({
          measure: `main thread CPU, array input, batchSize: ${batchSize}`,
          value: usPerShard(perShard(median(bySize[i] ?? []), TINY)),
          detail: spread((bySize[i] ?? []).map((v) => perShard(v, TINY))),
        })),
        {
          measure: `sequential loop, ${REAL.toLocaleString('en')} x spin (~${SHARD_US} us)`,
          value: ms(median(samples.sequential)),
          detail: spread(samples.sequential),
        },
        {
          measure: "parafor distribute(spin, { executor: 'worker' })(items, rounds)",
          value: ms(median(samples.parafor)),
          detail: `${spread(samples.parafor)}; main thread CPU ${usPerShard(perShard(median(realCpu), REAL))}`,
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
        `${cores} cores, ${cores} workers. Main thread CPU: its own CPU time over the call, GC included, read from ${cpuClock.source}; busy: event-loop time not spent waiting (it also counts time the thread waited for a core).`,
        `The batch-size rows: ${plural(sweepRounds, 'round')} measuring each size once, through parallel(work, { batchSize }); 'auto' is the array row above.`,
        `A ~${SHARD_US} us shard is ${rounds.toLocaleString('en')} xorshift rounds (calibrated at start). Medians of ${plural(runs, 'round')}, after a warm-up call; a ratio is the median of the per-round ratios; a tiny-shard figure is the mean of ${CALLS} calls in a row.`,
      ],
      charts: [
        batchChart(
          BATCH_SIZES.map((batchSize, i) => ({ batchSize, us: perShard(median(bySize[i] ?? []), TINY) })),
          arrayUs,
          TINY,
        ),
      ],
      ...(quick ? { title: titleOf(QUICK) } : {}),
    };
  },
};

function batchChart(
  points: readonly { readonly batchSize: number; readonly us: number }[],
  autoUs: number,
  shards: number,
): Chart {
  return {
    key: 'main-thread-batch',
    title: `Main-thread CPU per shard against batch size, 'worker', ${shards.toLocaleString('en')} x (x * x)`,
    kind: 'line',
    x: { title: 'batch size (shards per message, log scale)', log: true },
    y: { title: 'main thread CPU per shard (µs)', log: true },
    points: points.map(({ batchSize, us }) => ({ x: batchSize, y: us, series: 'array input, fixed batchSize' })),
    reference: { value: autoUs, label: `batchSize: 'auto' (${fixed(autoUs)} µs)` },
    caption:
      "What the calling thread spends per shard (its own CPU time over the call, divided by the shards): a message costs it tens of microseconds whatever it carries, so larger batches spread that cost; the dashed line is the default, 'auto'.",
  };
}

/**
 * Tiny shards: 200,000 shards of `x * x`. parafor's `'worker'` executor, auto-batched, against raw
 * workerpool and piscina submitting one task per item (the throughput batching buys), and against
 * a plain sequential loop (what no pool can beat for work this small).
 * @module
 */
import { availableParallelism } from 'node:os';
import { parallelSquare, square } from './cpu-work.js';
import { rawPools } from './cpu-raw.js';
import {
  fixed,
  interleave,
  median,
  ms,
  plural,
  spread,
  timed,
  times,
  type Check,
  type Row,
  type Suite,
  versus,
} from './harness.js';

const FULL = 200_000;
/** `--quick`: one task per item still takes a while on the other pools. */
const QUICK = 20_000;
const GOAL = 20;

function titleOf(shards: number): string {
  return `Tiny shards: ${shards.toLocaleString('en')} x (x * x), parafor auto-batched vs one task per item`;
}

/** A goal of the form "at least", judged on the printed figure like the harness's `judge`. */
function atLeast(value: number, goal: number): Check {
  const pass = Number(fixed(value)) >= goal;
  return { pass, verdict: pass ? 'meets goal' : 'MISSES GOAL' };
}

export const tiny: Suite = {
  name: 'tiny',
  title: titleOf(FULL),
  async run({ runs = 5, progress, quick }) {
    const SHARDS = quick ? QUICK : FULL;
    const cores = availableParallelism();
    const items = Array.from({ length: SHARDS }, (_, i) => i);
    const check = (name: string) => (results: readonly number[]) => {
      if (results.length !== SHARDS || results.some((r, i) => r !== i * i)) throw new Error(`tiny: ${name} is wrong`);
    };
    const raw = await rawPools(square, cores);
    try {
      progress('warm-up');
      await parallelSquare(items);
      const samples = await interleave(
        {
          sequential: () =>
            timed(async () => {
              const out = new Array<number>(SHARDS);
              for (let i = 0; i < SHARDS; i++) out[i] = square(items[i] as number);
              check('sequential')(out);
            }),
          parafor: () => timed(async () => check('parafor')(await parallelSquare(items))),
        },
        { rounds: runs, progress },
      );
      // One task per item takes seconds: one run of each is enough to see a gap of this size.
      progress('piscina, one task per item');
      const piscina = await timed(async () => check('piscina')(await raw.piscina(items)));
      progress('workerpool, one task per item');
      const workerpool = await timed(async () => check('workerpool')(await raw.workerpool(items)));
      const parafor = median(samples.parafor);
      const sequential = median(samples.sequential);
      const perShard = (value: number): string => `${fixed((value * 1000) / SHARDS)} us per shard`;
      const gainRow = (name: string, time: number): Row => ({
        measure: `throughput parafor / ${name} one task per item`,
        value: times(time / parafor),
        goal: `>= ${fixed(GOAL)}`,
        check: atLeast(time / parafor, GOAL),
      });
      return {
        rows: [
          {
            measure: 'sequential for loop',
            value: ms(sequential),
            detail: `${spread(samples.sequential)}; ${perShard(sequential)}`,
          },
          {
            measure: "parafor distribute(square, { executor: 'worker' })(items), auto-batched",
            value: ms(parafor),
            detail: `${spread(samples.parafor)}; ${perShard(parafor)}`,
          },
          {
            measure: 'piscina: one piscina.run(x) per item',
            value: ms(piscina),
            detail: `1 run; ${perShard(piscina)}`,
          },
          {
            measure: "workerpool: one pool.exec('fn', [x]) per item",
            value: ms(workerpool),
            detail: `1 run; ${perShard(workerpool)}`,
          },
          gainRow('piscina', piscina),
          gainRow('workerpool', workerpool),
          {
            measure: 'time parafor / sequential loop (no goal: reported as it is)',
            value: times(parafor / sequential),
            detail: 'x * x takes about a nanosecond: any message costs more; a loop this small should stay a loop',
          },
        ],
        notes: [
          `${cores} cores; every pool has ${cores} workers. parafor and the loop: medians of ${plural(runs, 'interleaved round')} after a warm-up call.`,
          'piscina and workerpool run from generated worker files; parafor runs the same function by reference.',
          `parafor sends the shards in batches (batchSize: 'auto', up to 4,096 shards each: about 120 messages for 200,000); the others send one message per shard.`,
        ],
        charts: [
          versus('piscina', `${SHARDS.toLocaleString('en')} x (x * x), one task per item`, parafor / piscina),
          versus('workerpool', `${SHARDS.toLocaleString('en')} x (x * x), one task per item`, parafor / workerpool),
        ],
        ...(quick ? { title: titleOf(QUICK) } : {}),
      };
    } finally {
      await raw.close();
    }
  },
};

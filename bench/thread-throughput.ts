/**
 * The 'thread' executor's overhead: 20,000 shards that each wait on a 5 ms timer, 200 at a time,
 * through parafor's function form, raw p-limit (`Promise.all(items.map(i => limit(() => work(i))))`)
 * and p-map (`pMap(items, work, { concurrency })`): wall time, and the main thread's CPU time per
 * shard. Every timed run is a fresh process (bench/thread-throughput-child.ts), and the runs are
 * interleaved: parafor, p-limit, p-map, parafor, …
 * @module
 */
import {
  fixed,
  interleave,
  judge,
  median,
  ms,
  plural,
  runFresh,
  spread,
  times,
  type Row,
  type Suite,
  versus,
} from './harness.js';
import { cpuClock } from './cpu-clock.js';

export const SHARDS = 20_000;
export const CONCURRENCY = 200;
export const TIMER_MS = 5;
const GOAL = 1;

export type Contender = 'parafor' | 'p-limit' | 'p-map';
export interface ThroughputResult {
  readonly contender: Contender;
  readonly timeMs: number;
  /** The main thread's CPU time over the timed run. */
  readonly cpuMs: number;
}

const measure = (contender: Contender): Promise<ThroughputResult> =>
  runFresh<ThroughputResult>('./thread-throughput-child.ts', [contender], ['--expose-gc']);

/** Microseconds of main-thread CPU per shard in a run. */
const cpuUs = (result: ThroughputResult): number => (result.cpuMs * 1000) / SHARDS;

export const threadThroughput: Suite = {
  name: 'thread-throughput',
  title: `'thread' executor overhead: ${SHARDS.toLocaleString('en')} shards x ${TIMER_MS} ms timer, concurrency ${CONCURRENCY}`,
  async run({ runs = 7, progress }) {
    const results = {
      parafor: [] as ThroughputResult[],
      'p-limit': [] as ThroughputResult[],
      'p-map': [] as ThroughputResult[],
    };
    const timeOf = (name: Contender) => async (): Promise<number> => {
      const result = await measure(name);
      results[name].push(result);
      return result.timeMs;
    };
    const samples = await interleave(
      { parafor: timeOf('parafor'), 'p-limit': timeOf('p-limit'), 'p-map': timeOf('p-map') },
      { rounds: runs, progress },
    );
    const cpu = (name: Contender): number[] => results[name].map(cpuUs);
    const parafor = median(samples.parafor);
    // Judged on the median of the per-round ratios: the runs of one round are seconds apart, so a
    // change in the machine's load between rounds cancels out. The ratio of the medians is shown too.
    const perRound = (name: Contender, of: (name: Contender) => readonly number[]): number =>
      median(of('parafor').map((value, round) => value / (of(name)[round] as number)));
    const ratioOf = (name: 'p-limit' | 'p-map'): number => perRound(name, (n) => samples[n]);
    const ratioRow = (name: 'p-limit' | 'p-map'): Row => {
      const other = median(samples[name]);
      const ratio = ratioOf(name);
      return {
        measure: `parafor / ${name}`,
        value: times(ratio),
        goal: `<= ${fixed(GOAL)}`,
        check: judge(ratio, '<=', GOAL),
        detail: `ratio of medians ${times(parafor / other)}; ${ms(parafor - other)} per call, ${fixed(((parafor - other) * 1000) / SHARDS)} us per shard`,
      };
    };
    const cpuRatioRow = (name: 'p-limit' | 'p-map'): Row => ({
      measure: `main-thread CPU per shard, parafor / ${name}`,
      value: times(perRound(name, cpu)),
      detail: `${fixed(median(cpu('parafor')))} vs ${fixed(median(cpu(name)))} us per shard (medians)`,
    });
    const row = (measure: string, name: Contender): Row => ({
      measure,
      value: ms(median(samples[name])),
      detail: `${spread(samples[name])}; main thread CPU ${fixed(median(cpu(name)))} us per shard`,
    });
    return {
      rows: [
        row('parafor: distribute(work, { concurrency })(items)', 'parafor'),
        row('raw p-limit: Promise.all(items.map(i => limit(() => work(i))))', 'p-limit'),
        row('p-map: pMap(items, work, { concurrency })', 'p-map'),
        ratioRow('p-limit'),
        ratioRow('p-map'),
        cpuRatioRow('p-limit'),
        cpuRatioRow('p-map'),
      ],
      notes: [
        `Medians of ${plural(runs, 'interleaved round')}; each run is a fresh process that warms up with one untimed run.`,
        'A ratio is the median of the per-round ratios (parafor and the other run seconds apart, under the same load).',
        `Floor: ${SHARDS / CONCURRENCY} waves x ${TIMER_MS} ms = ${ms((SHARDS / CONCURRENCY) * TIMER_MS)}; the rest is timer slack and per-shard CPU.`,
        `Main thread CPU: the timed run's own CPU time on the main thread (GC included), read from ${cpuClock.source}; on a shared machine it is the steadier figure, since the wall time of timers follows the load.`,
      ],
      charts: (['p-map', 'p-limit'] as const).map((name) =>
        versus(
          name,
          `${SHARDS.toLocaleString('en')} x ${TIMER_MS} ms timer, concurrency ${CONCURRENCY}`,
          ratioOf(name),
        ),
      ),
    };
  },
};

/**
 * Constant memory while streaming: 1,000,000 shards from an async generator through parafor with
 * `as: 'completed'`, against an eager `Promise.all` over the same inputs, materialized. Each
 * measurement runs in its own fresh process (bench/stream-memory-child.ts).
 * @module
 */
import { fixed, judge, mb, median, ms, plural, runFresh, spread, times, type Row, type Suite } from './harness.js';
import type { MemoryResult } from './stream-memory-child.js';

const SHARDS = 1_000_000;
/** Context only: many shards in flight and buffered (200 + a buffer of 200). */
const WIDE = 200;
const GOAL_MB = 50;
const CHECKSUM = (SHARDS * (SHARDS + 1)) / 2;

type Measurement = 'stream' | 'wide' | 'eager';

async function measure(what: Measurement): Promise<MemoryResult> {
  const args =
    what === 'eager'
      ? ['eager', String(SHARDS)]
      : ['parafor', String(SHARDS), what === 'wide' ? String(WIDE) : 'default'];
  const result = await runFresh<MemoryResult>('./stream-memory-child.ts', args, ['--expose-gc']);
  if (result.checksum !== CHECKSUM) throw new Error(`stream-memory: ${what} checksum ${result.checksum}`);
  return result;
}

const toMb = (bytes: number): number => bytes / 2 ** 20;
const growth = (results: readonly MemoryResult[]): number => median(results.map((r) => r.peakGrowth));
const time = (results: readonly MemoryResult[]): number => median(results.map((r) => r.timeMs));
const growthSpread = (results: readonly MemoryResult[]): string =>
  spread(
    results.map((r) => toMb(r.peakGrowth)),
    (v) => `${fixed(v)} MB`,
  );

export const streamMemory: Suite = {
  name: 'stream-memory',
  title: `Streaming ${SHARDS.toLocaleString('en')} shards from an async generator, as: 'completed': peak RSS growth`,
  async run({ runs = 3, progress }) {
    const results: Record<Measurement, MemoryResult[]> = { stream: [], wide: [], eager: [] };
    for (let run = 0; run < runs; run++) {
      for (const what of ['stream', 'eager', 'wide'] as const) {
        progress(`run ${run + 1}/${runs}: ${what}`);
        results[what].push(await measure(what));
      }
    }
    const { stream, wide, eager } = results;
    const retained = (of: readonly MemoryResult[]): string =>
      `heap left after GC ${mb(median(of.map((r) => r.retainedHeap)))}`;
    const timeRow = (measure: string, of: readonly MemoryResult[]): Row => ({
      measure,
      value: ms(time(of)),
      detail: `${spread(of.map((r) => r.timeMs))}; ${fixed((time(of) * 1000) / SHARDS)} us per shard`,
    });
    return {
      rows: [
        {
          measure: "parafor stream (as: 'completed', default concurrency): peak RSS growth",
          value: mb(growth(stream)),
          goal: `< ${fixed(GOAL_MB)} MB`,
          check: judge(toMb(growth(stream)), '<', GOAL_MB),
          detail: `${growthSpread(stream)}; ${retained(stream)}`,
        },
        {
          measure: 'eager Promise.all over the materialized inputs: peak RSS growth',
          value: mb(growth(eager)),
          detail: growthSpread(eager),
        },
        { measure: 'growth eager / parafor stream', value: times(growth(eager) / growth(stream)) },
        {
          measure: `parafor stream at concurrency ${WIDE} (context): peak RSS growth`,
          value: mb(growth(wide)),
          detail: `${growthSpread(wide)}; ${retained(wide)}`,
        },
        timeRow('parafor stream: time', stream),
        timeRow('eager Promise.all: time', eager),
        { measure: 'time parafor stream / eager', value: times(time(stream) / time(eager)) },
        timeRow(`parafor stream at concurrency ${WIDE}: time`, wide),
      ],
      notes: [
        `Medians of ${plural(runs, 'fresh process', 'es')} each (node --expose-gc --import tsx), alternated: stream, eager, concurrency ${WIDE}.`,
        'Growth = peak RSS during the run (sampled every 5 ms and every 16k results, and maxRSS) minus RSS after a full GC.',
        'All run the same trivial async work (async i => i + 1); the eager one first drains the generator into an array.',
        "The stream's default concurrency is the 'thread' executor's 5 (read-ahead bound 5 + a buffer of 5).",
      ],
    };
  },
};

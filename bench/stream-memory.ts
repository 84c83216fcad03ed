/**
 * Constant memory while streaming: 1,000,000 shards from an async generator through parafor with
 * `as: 'completed'`, against an eager `Promise.all` over the same inputs, materialized. Each
 * measurement runs in its own fresh process (bench/stream-memory-child.ts).
 * @module
 */
import {
  fixed,
  judge,
  mb,
  median,
  ms,
  plural,
  runFresh,
  spread,
  times,
  type Chart,
  type Row,
  type Suite,
} from './harness.js';
import type { MemoryResult } from './stream-memory-child.js';

/** The size the table is about, and the smaller sizes the chart adds (each a decade apart). */
const FULL = { shards: 1_000_000, smaller: [10_000, 100_000] };
const QUICK = { shards: 50_000, smaller: [5_000] };
/** Context only: many shards in flight and buffered (200 + a buffer of 200). */
const WIDE = 200;
const GOAL_MB = 50;

type Measurement = 'stream' | 'wide' | 'eager';

async function measure(what: Measurement, shards: number): Promise<MemoryResult> {
  const args =
    what === 'eager'
      ? ['eager', String(shards)]
      : ['parafor', String(shards), what === 'wide' ? String(WIDE) : 'default'];
  const result = await runFresh<MemoryResult>('./stream-memory-child.ts', args, ['--expose-gc']);
  const checksum = (shards * (shards + 1)) / 2;
  if (result.checksum !== checksum) throw new Error(`stream-memory: ${what} checksum ${result.checksum}`);
  return result;
}

function titleOf(shards: number): string {
  return `Streaming ${shards.toLocaleString('en')} shards from an async generator, as: 'completed': peak RSS growth`;
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
  title: titleOf(FULL.shards),
  async run({ runs = 3, progress, quick }) {
    const { shards: SHARDS, smaller } = quick ? QUICK : FULL;
    const results: Record<Measurement, MemoryResult[]> = { stream: [], wide: [], eager: [] };
    for (let run = 0; run < runs; run++) {
      for (const what of ['stream', 'eager', 'wide'] as const) {
        progress(`run ${run + 1}/${runs}: ${what}`);
        results[what].push(await measure(what, SHARDS));
      }
    }
    // The chart's smaller sizes: the stream and the eager run only, alternated as above.
    const sizes = smaller.map((shards) => ({ shards, stream: [] as MemoryResult[], eager: [] as MemoryResult[] }));
    for (let run = 0; run < runs; run++) {
      for (const size of sizes) {
        for (const what of ['stream', 'eager'] as const) {
          progress(`${size.shards.toLocaleString('en')} shards, run ${run + 1}/${runs}: ${what}`);
          size[what].push(await measure(what, size.shards));
        }
      }
    }
    sizes.push({ shards: SHARDS, stream: results.stream, eager: results.eager });
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
        ...sizes.slice(0, -1).map(({ shards, stream: streamed, eager: materialized }) => ({
          measure: `${shards.toLocaleString('en')} shards: peak RSS growth, parafor stream / eager`,
          value: `${mb(growth(streamed))} / ${mb(growth(materialized))}`,
          detail: 'for the chart: growth against the number of shards',
        })),
      ],
      charts: [memoryChart(sizes)],
      ...(quick ? { title: titleOf(SHARDS) } : {}),
      notes: [
        `Medians of ${plural(runs, 'fresh process', 'es')} each (node --expose-gc --import tsx), alternated: stream, eager, concurrency ${WIDE}; the smaller sizes of the chart alternate stream and eager.`,
        'Growth = peak RSS during the run (sampled every 5 ms and every 16k results, and maxRSS) minus RSS after a full GC.',
        'All run the same trivial async work (async i => i + 1); the eager one first drains the generator into an array.',
        "The stream's default concurrency is the 'thread' executor's 5 (read-ahead bound 5 + a buffer of 5).",
      ],
    };
  },
};

function memoryChart(
  sizes: readonly { readonly shards: number; readonly stream: MemoryResult[]; readonly eager: MemoryResult[] }[],
): Chart {
  return {
    key: 'stream-memory',
    title: 'Memory while streaming against a materialised array',
    kind: 'line',
    x: { title: 'shards (log scale)', log: true },
    y: { title: 'peak RSS growth (MB)' },
    points: sizes.flatMap(({ shards, stream, eager }) => [
      { x: shards, y: toMb(growth(stream)), series: "parafor stream (async generator, as: 'completed')" },
      { x: shards, y: toMb(growth(eager)), series: 'eager Promise.all over the materialised array' },
    ]),
    caption:
      'The peak resident memory a run added over its start, in a fresh process per point: the stream stays flat as the input grows, the materialised array grows with it.',
  };
}

/**
 * The queue executor on one machine: the CPU scenario of bench/cpu.ts on two local `parafor worker`
 * processes (one job at a time each) against `'worker'` with concurrency 2 (the queue's overhead),
 * and tiny shards through the queue, batched and one per job (the throughput batching buys). The
 * suite starts its own redis-server and workers, and stops them however it ends; without
 * redis-server it says so and measures nothing.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parallel } from '../src/index.js';
import { RedisServer } from '../test/executors/queue/servers.js';
import { burn, calibrate, square, Work } from './cpu-work.js';
import { interleave, median, ms, plural, ROOT, spread, timed, times, type Row, type Suite, versus } from './harness.js';

const FULL = { shards: 64, shardMs: 20, tiny: 20_000, single: 2_000 };
/** `--quick`: a few seconds. */
const QUICK = { shards: 16, shardMs: 5, tiny: 2_000, single: 200 };
const WORKERS = 2;
const QUEUE = 'parafor-bench';
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const WORK = fileURLToPath(new URL('./queue-work.ts', import.meta.url));

function titleOf({ shards, shardMs, tiny, single }: typeof FULL): string {
  return (
    `Queue executor, ${WORKERS} local workers: ${shards} shards x ~${shardMs} ms CPU vs 'worker', ` +
    `and ${tiny.toLocaleString('en')} (batched) / ${single.toLocaleString('en')} (one per job) tiny shards`
  );
}

/** `parafor worker` processes run from the sources (with tsx, as the bench runs), stopped however the suite ends. */
class Workers {
  readonly #children: ChildProcess[] = [];
  readonly #kill = (): void => {
    for (const child of this.#children) child.kill('SIGKILL');
  };

  constructor() {
    // Should the bench end without reaching its `finally` (process.exit), no worker outlives it.
    process.once('exit', this.#kill);
  }

  /** Starts `count` workers, each running one job at a time (`--concurrency 1`: one thread each). */
  async start(count: number, redis: RedisServer): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.#startOne(redis)));
  }

  async #startOne(redis: RedisServer): Promise<void> {
    const args = ['--import', 'tsx', CLI, 'worker', '--connection', redis.url, '--queue', QUEUE];
    const child = spawn(process.execPath, [...args, '--concurrency', '1', WORK], {
      cwd: ROOT,
      env: { ...process.env, PARAFOR_BENCH_REDIS: redis.url, PARAFOR_BENCH_QUEUE: QUEUE },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#children.push(child);
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (log += text));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parafor worker did not start in 30 s: ${log}`)), 30_000);
      const ready = (): void => {
        if (!log.includes('ready:')) return;
        clearTimeout(timer);
        resolve();
      };
      child.stderr?.on('data', ready);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`parafor worker exited (${code}) before it was ready: ${log}`));
      });
    });
  }

  /** SIGTERM (a graceful stop), then SIGKILL for any still running after 5 s. */
  async stop(): Promise<void> {
    process.off('exit', this.#kill);
    await Promise.all(
      this.#children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

export const queue: Suite = {
  name: 'queue',
  title: titleOf(FULL),
  async run({ runs = 5, progress, quick }) {
    if (spawnSync('redis-server', ['--version']).status !== 0) {
      return {
        rows: [{ measure: 'skipped', value: '-', detail: 'redis-server is not installed' }],
        notes: ['Install redis-server (Debian: apt-get install redis-server) to run this suite.'],
      };
    }
    const size = quick ? QUICK : FULL;
    const rounds = calibrate(size.shardMs);
    const shards = Array.from({ length: size.shards }, () => rounds);
    const expected = burn(rounds);
    const checkBurn = (name: string) => (results: readonly number[]) => {
      if (results.length !== size.shards || results.some((r) => r !== expected))
        throw new Error(`queue: ${name} is wrong`);
    };
    const checkSquare = (name: string, count: number) => (results: readonly number[]) => {
      if (results.length !== count || results.some((r, i) => r !== square(i)))
        throw new Error(`queue: ${name} is wrong`);
    };
    progress('starting redis-server');
    const redis = await RedisServer.start();
    const workers = new Workers();
    try {
      process.env['PARAFOR_BENCH_REDIS'] = redis.url;
      process.env['PARAFOR_BENCH_QUEUE'] = QUEUE;
      const { QueueWork } = await import('./queue-work.js');
      progress(`starting ${WORKERS} parafor worker processes`);
      await workers.start(WORKERS, redis);
      const onQueue = new QueueWork() as unknown as Record<'burn' | 'square', (items: number[]) => Promise<number[]>>;
      const single = parallel(new QueueWork(), { batchSize: 1 }) as unknown as typeof onQueue;
      const local = parallel(new Work(), { concurrency: WORKERS }) as unknown as typeof onQueue;
      const tiny = Array.from({ length: size.tiny }, (_, i) => i);
      const few = tiny.slice(0, size.single);

      progress('warm-up');
      // Every worker thread starts and loads its code before the timed rounds.
      await local.burn(shards.slice(0, WORKERS));
      await onQueue.burn(shards.slice(0, WORKERS * 4));
      await single.square(few.slice(0, 20));
      const cpu = await interleave(
        {
          worker: () => timed(async () => checkBurn("'worker'")(await local.burn(shards))),
          queue: () => timed(async () => checkBurn('queue')(await onQueue.burn(shards))),
        },
        { rounds: runs, progress },
      );
      const throughput = await interleave(
        {
          batched: async () =>
            size.tiny /
            ((await timed(async () => checkSquare('batched', size.tiny)(await onQueue.square(tiny)))) / 1000),
          single: async () =>
            size.single /
            ((await timed(async () => checkSquare('one per job', size.single)(await single.square(few)))) / 1000),
        },
        { rounds: runs, progress },
      );
      const overhead = median(cpu.queue.map((value, i) => value / (cpu.worker[i] as number)));
      const gain = median(throughput.batched.map((value, i) => value / (throughput.single[i] as number)));
      const rate = (value: number): string => `${Math.round(value).toLocaleString('en')} shards/s`;
      const rateRow = (measure: string, values: readonly number[]): Row => ({
        measure,
        value: rate(median(values)),
        detail: spread(values, rate),
      });
      return {
        rows: [
          {
            measure: `'worker', concurrency ${WORKERS}: ${size.shards} x burn`,
            value: ms(median(cpu.worker)),
            detail: spread(cpu.worker),
          },
          {
            measure: `queue, ${WORKERS} parafor worker --concurrency 1: ${size.shards} x burn`,
            value: ms(median(cpu.queue)),
            detail: spread(cpu.queue),
          },
          {
            measure: "overhead: time queue / 'worker' (no goal: reported as it is)",
            value: times(overhead),
            detail: `${ms(median(cpu.queue) - median(cpu.worker))} per call`,
          },
          rateRow(
            `queue, tiny shards, batchSize 'auto' (${size.tiny.toLocaleString('en')} per call)`,
            throughput.batched,
          ),
          rateRow(`queue, tiny shards, batchSize 1 (${size.single.toLocaleString('en')} per call)`, throughput.single),
          { measure: "throughput batchSize 'auto' / batchSize 1", value: times(gain) },
        ],
        charts: [versus("'worker' (same machine)", `queue, ${size.shards} x ${size.shardMs} ms CPU`, overhead)],
        notes: [
          `A redis-server of its own on loopback, and ${WORKERS} parafor worker processes, each --concurrency 1 (one worker thread, one job at a time), started from the sources with tsx; 'worker' runs concurrency ${WORKERS} in this process.`,
          `A CPU shard is ${rounds.toLocaleString('en')} xorshift rounds (~${size.shardMs} ms here, calibrated at start), as in the cpu suite.`,
          `Medians of ${plural(runs, 'interleaved round')} after a warm-up; a ratio is the median of the per-round ratios. The workers and this process share the machine's cores.`,
          'Tiny shards are x * x: batched, a job carries many shards; with batchSize 1 every shard is a job of its own (a Redis round trip each way).',
        ],
        ...(quick ? { title: titleOf(QUICK) } : {}),
      };
    } finally {
      await workers.stop();
      await redis.close();
    }
  },
};

/**
 * The queue executor when things go wrong, against a real redis-server and real `parafor worker`
 * processes: a worker killed mid-call, abort and fail-fast (their jobs removed, running ones
 * stopped), Redis unreachable or stopped mid-call (and workers that resume when it is back), a
 * worker with other code, and a graceful stop; a worker thread that dies under a batch, and errors
 * a shard leaves behind, as with `'worker'`. Standard mode only: nothing here depends on the
 * decorators' mode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  getDistribution,
  parallel,
  ShardError,
  shutdown,
  WorkerExitError,
  type CallStats,
  type Executor,
} from '../../../src/index.js';
import { queueExecutor } from '../../../src/queue.js';
import { Chunky } from '../../fixtures/workers/chunks.js';
import { Leftovers, type Outcome } from '../../fixtures/workers/leftovers.js';
import { range, settleWithin, sleep, until, warningsWith } from '../../helpers.js';
import { activeJobs, callKeys, RedisServer, skipReason, WorkerProcess } from './servers.js';

const QUEUE = 'faults';
process.env['PARAFOR_TEST_QUEUE'] = QUEUE;
/** The queue of a worker that runs one job at a time, in one thread, for the tests of worker threads. */
const THREADS = 'faults-threads';
const THREAD_MODULES = ['chunks', 'leftovers'].map((name) =>
  fileURLToPath(new URL(`../../fixtures/workers/${name}.js`, import.meta.url)),
);
let redis: RedisServer | undefined;
let workers: WorkerProcess[] = [];
let threadWorker: WorkerProcess | undefined;
let threads: Executor;
let methods: typeof import('../../fixtures/queue/methods.js');
const skip =
  skipReason() ??
  // The compiled legacy tree runs the same executor: its results suite covers that mode.
  (import.meta.url.includes('/legacy/') ? 'the standard build covers faults' : undefined);

before(async () => {
  if (skip !== undefined) return;
  redis = await RedisServer.start();
  process.env['PARAFOR_TEST_REDIS'] = redis.url;
  methods = await import('../../fixtures/queue/methods.js');
  threads = queueExecutor({ connection: redis.url, queue: THREADS, connectTimeout: 3000, idleTimeout: 200 });
  [threadWorker, ...workers] = await Promise.all([
    WorkerProcess.start(redis, THREADS, { concurrency: 1, modules: THREAD_MODULES }),
    WorkerProcess.start(redis, QUEUE),
    WorkerProcess.start(redis, QUEUE),
  ]);
});

after(async () => {
  await shutdown();
  await Promise.all([...workers, ...(threadWorker ? [threadWorker] : [])].map((worker) => worker.stop('SIGKILL')));
  await redis?.close();
});

const make = (): any => new methods.Shards();
const view = (options: object): any => parallel(new methods.Shards(), options);

/** Waits until `count` jobs of the queue are running. */
const running = (count: number): Promise<void> => activeJobs(redis!.url, QUEUE, count);

/** Waits until no key of any call is left in Redis, and says which are left if some stay. */
async function noCallKeys(ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  // Both queues' fixed keys stay.
  const callsLeft = async (): Promise<string[]> => callKeys(callKeys(await redis!.keys(), QUEUE), THREADS);
  let left = await callsLeft();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = await callsLeft();
  }
  assert.deepEqual(left, []);
}

/** The workers are free again: a new call is served (a shard left running would hold its slot). */
async function workersServe(): Promise<void> {
  const settled = await settleWithin(make().square(range(8)), 20_000);
  assert.ok('value' in settled, `the workers did not serve a new call: ${String((settled as any).error)}`);
  assert.deepEqual(
    settled.value,
    range(8).map((x) => x * x),
  );
}

/** A module whose `work` adds to its shard as `body` says, on the queue named by PARAFOR_TEST_CODE_QUEUE. */
function workModule(body: string): string {
  const index = pathToFileURL(new URL('../../../src/index.js', import.meta.url).pathname).href;
  const queueEntry = pathToFileURL(new URL('../../../src/queue.js', import.meta.url).pathname).href;
  return (
    `import { distribute } from ${JSON.stringify(index)};\n` +
    `import { queueExecutor } from ${JSON.stringify(queueEntry)};\n` +
    `const queue = process.env.PARAFOR_TEST_CODE_QUEUE ?? 'code';\n` +
    `const executor = queueExecutor({ connection: process.env.PARAFOR_TEST_REDIS, queue, idleTimeout: 100 });\n` +
    `export const work = distribute(function work(x) { return ${body}; }, { executor });\n`
  );
}

/** A program that calls `work` from `lib` on [1] and prints what came back, or the error's cause. */
function callWork(lib: string): string {
  return (
    `import { work } from ${JSON.stringify(lib)};\n` +
    'try { console.log("ran", JSON.stringify(await work([1]))); } catch (error) { console.log(String(error.cause ?? error)); }\n'
  );
}

/** Runs main.mjs in `folder` against the test's Redis, on `queue`; gives what it printed. */
async function runCaller(folder: string, queue = 'code'): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['main.mjs'], {
    cwd: folder,
    env: { ...process.env, PARAFOR_TEST_REDIS: redis!.url, PARAFOR_TEST_CODE_QUEUE: queue },
    timeout: 30_000,
  });
  return stdout;
}

describe('queue executor: faults', { skip }, () => {
  it('a worker killed with SIGKILL mid-call: its jobs run again on the other and every result returns', async () => {
    assert.equal(getDistribution(methods.Shards.prototype, 'where')?.decorators, 'standard');
    const call = view({ concurrency: 8 }).where(range(8).map(() => 700));
    await running(3);
    const [victim, survivor] = workers as [WorkerProcess, WorkerProcess];
    await victim.stop('SIGKILL');
    const settled: any = await settleWithin(call, 60_000);
    assert.ok('value' in settled, String(settled.error));
    assert.equal(settled.value.length, 8);
    assert.ok(settled.value.every(({ ms }: { ms: number }) => ms === 700));
    assert.ok(settled.value.some(({ pid }: { pid: number }) => pid === survivor.child.pid));
    workers = [survivor, await WorkerProcess.start(redis!, QUEUE)];
    await noCallKeys();
  });

  it('a CPU-bound shard longer than the lock runs once: the worker renews its lock meanwhile', async () => {
    // Locks of 1.5 s checked every 0.5 s (servers.ts): a shard blocking the worker's event loop for
    // 4 s would have its job taken for stalled and run again on the other worker.
    const dir = await mkdtemp(join(tmpdir(), 'parafor-lock-'));
    const file = join(dir, 'runs');
    try {
      const [pid] = (await make().noted([file], 4000)) as [number];
      const runs = (await readFile(file, 'utf8')).trim().split('\n').map(Number);
      assert.deepEqual(runs, [pid]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('abort: the call rejects with the reason, its waiting jobs are removed, its running ones stopped', async () => {
    const controller = new AbortController();
    // 4 run (2 workers x 2), 2 wait.
    const call = view({ concurrency: 6, signal: controller.signal }).busy(range(6).map(() => 0));
    await running(4);
    const reason = new Error('enough');
    controller.abort(reason);
    const settled = await settleWithin(call, 10_000);
    assert.ok('error' in settled);
    assert.equal(settled.error, reason);
    await noCallKeys();
    await workersServe();
  });

  it('fail-fast: the first failure rejects the call, and the shards still running are stopped', async () => {
    const settled = await settleWithin(view({ concurrency: 4 }).failOrSpin([1, 2, 3, 0, 4, 5]), 20_000);
    assert.ok('error' in settled);
    assert.ok(settled.error instanceof ShardError);
    assert.equal(settled.error.index, 3);
    assert.equal((settled.error.cause as any).code, 'E_ZERO');
    await noCallKeys();
    await workersServe();
  });

  it('break out of a stream: the jobs left are removed and the workers are free', async () => {
    let seen = 0;
    for await (const value of view({ as: 'completed', concurrency: 6 }).busy([5, 5, 0, 0, 0, 0])) {
      assert.equal(value, 5);
      if (++seen === 1) break;
    }
    await noCallKeys();
    await workersServe();
  });

  it('Redis unreachable (a closed port): the call fails within seconds, saying so', async () => {
    const started = Date.now();
    const settled = await settleWithin(methods.squareOffline([1, 2] as any) as Promise<unknown>, 15_000);
    assert.ok('error' in settled, 'the call should fail');
    assert.match(
      String(settled.error),
      /could not reach Redis at redis:\/\/127\.0\.0\.1:1 within 1500 ms \(.*ECONNREFUSED/i,
    );
    assert.ok(Date.now() - started < 15_000);
  });

  // On Node 26 a worker process once died here of a V8 fatal error ("Check failed: !is_null()"), as
  // Redis went away under its running job, before it could say so: reported, not yet understood.
  // Until it is, a failure here on Node 26 is shown as a todo rather than failing the run.
  const node26Crash =
    Number(process.versions.node.split('.')[0]) >= 26
      ? 'Node 26: a worker process may die of a V8 fatal error when Redis stops under its job'
      : undefined;
  it(
    'Redis stopped mid-call: the call fails saying so; workers say they lost it, and resume when it is back',
    { todo: node26Crash },
    async () => {
      // ioredis prints the errors of a client nobody listens to on stderr, through console.error.
      const printed: string[] = [];
      const { error: print } = console;
      console.error = (...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
        print(...args);
      };
      const call = view({ concurrency: 2 }).busy([4000, 4000]);
      await running(2);
      await redis!.stop();
      try {
        const settled = await settleWithin(call, 20_000);
        assert.ok('error' in settled, 'the call should fail');
        assert.ok(settled.error instanceof ShardError);
        assert.match(
          String(settled.error.cause),
          /Lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ for over 3000 ms/,
        );
        await Promise.all(workers.map((worker) => worker.waitFor(/lost the connection to Redis/, 10_000)));
      } finally {
        // Back even when an assertion failed: the tests after this one need it.
        await redis!.restart();
        console.error = print;
      }
      await Promise.all(workers.map((worker) => worker.waitFor(/again; resuming/, 15_000)));
      await workersServe();
      // The call's connections closed while Redis was down, and said nothing on the program's stderr.
      assert.deepEqual(printed, []);
    },
  );

  it('a worker with other code fails the shards with a clear error, and runs nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parafor-queue-code-'));
    const [callerDir, workerDir] = [join(root, 'caller'), join(root, 'worker')];
    await Promise.all([mkdir(callerDir), mkdir(workerDir)]);
    await writeFile(join(callerDir, 'lib.mjs'), workModule('x + 1'));
    await writeFile(join(workerDir, 'lib.mjs'), workModule('x + 2'));
    await writeFile(join(callerDir, 'main.mjs'), callWork('./lib.mjs'));
    const other = await WorkerProcess.start(redis!, 'code', { cwd: workerDir, modules: ['lib.mjs'], concurrency: 1 });
    try {
      const stdout = await runCaller(callerDir);
      assert.match(stdout, /its code differs from the caller's \(fingerprint \w+ in the worker, \w+ in the caller\)/);
      assert.doesNotMatch(stdout, /^ran/m);
    } finally {
      await other.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a method is found by its package and path there, whatever folder the caller and the worker started from', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parafor-queue-folders-'));
    await mkdir(join(root, 'lib'));
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'folders-app', type: 'module' }));
    await writeFile(join(root, 'lib', 'lib.mjs'), workModule('x + 1'));
    await writeFile(join(root, 'lib', 'main.mjs'), callWork('./lib.mjs'));
    await writeFile(join(root, 'other.mjs'), 'export const nothing = 0;\n');
    // The worker runs from the package's root, the caller from its lib folder.
    const worker = await WorkerProcess.start(redis!, 'code', { cwd: root, modules: ['lib/lib.mjs'], concurrency: 1 });
    const without = await WorkerProcess.start(redis!, 'code-other', {
      cwd: root,
      modules: ['other.mjs'],
      concurrency: 1,
    });
    try {
      assert.equal(await runCaller(join(root, 'lib')), 'ran [2]\n');
      // A worker that was not given the method's module says which one it needs.
      const stdout = await runCaller(join(root, 'lib'), 'code-other');
      assert.match(
        stdout,
        /started with other\.mjs \(folders-app\/other\.mjs in their packages\), not with folders-app\/lib\/lib\.mjs/,
      );
    } finally {
      await Promise.all([worker.stop(), without.stop()]);
      await rm(root, { recursive: true, force: true });
    }
  });

  it('SIGTERM: a worker finishes its running job, then exits 0', async () => {
    const [first, second] = workers as [WorkerProcess, WorkerProcess];
    // Only the first worker takes jobs for a moment.
    await second.stop('SIGTERM');
    const call = make().busy([1500]);
    await running(1);
    const code = await first.stop('SIGTERM');
    assert.equal(code, 0);
    assert.match(first.log, /SIGTERM: stopping after 1 running job/);
    assert.deepEqual(await call, [1500]);
    workers = [];
  });
});

describe('queue executor: worker threads that die, and errors left behind', { skip }, () => {
  /** `exitAt` on the one-thread worker, in batches of 4, every outcome settled. */
  const exits = (options: object = {}): any =>
    parallel(new Chunky(), {
      executor: threads,
      concurrency: 1,
      batchSize: 4,
      results: 'settled',
      stopOnError: false,
      ...options,
    });

  /** The outcomes as values, or the WorkerExitError of a shard that failed with one. */
  function outcomesOf(settled: PromiseSettledResult<number>[]): (number | WorkerExitError)[] {
    return settled.map((outcome, index) => {
      if (outcome.status === 'fulfilled') return outcome.value;
      const { reason } = outcome;
      assert.ok(reason instanceof ShardError, String(reason));
      assert.equal(reason.index, index);
      assert.ok(reason.cause instanceof WorkerExitError, `expected a WorkerExitError, got ${String(reason.cause)}`);
      return reason.cause;
    });
  }

  it("a batch whose worker thread exits: its other shards return, and the culprit alone fails with a WorkerExitError, as on 'worker'", async () => {
    const settled = await settleWithin(exits().exitAt(range(4), 2) as Promise<PromiseSettledResult<number>[]>, 20_000);
    assert.ok('value' in settled, String((settled as { error: unknown }).error));
    const outcomes = outcomesOf(settled.value);
    assert.deepEqual(outcomes.slice(0, 2), [0, 1]);
    assert.equal(outcomes[3], 3);
    const died = outcomes[2] as WorkerExitError;
    assert.equal(died.exitCode, 7);
    assert.deepEqual(died.shards, [2]);
    assert.match(died.message, /^Chunky\.exitAt: The worker thread died \(exit code 7\) while it held shard 2$/);
  });

  it('a crash is retried unless `retries: { crashes: false }` says not to', async () => {
    const seen: CallStats[] = [];
    const onStats = (stats: CallStats): number => seen.push(stats);
    const kept = (await exits({ retries: { limit: 2, minDelay: 5, crashes: false }, onStats }).exitAt(
      range(4),
      1,
    )) as PromiseSettledResult<number>[];
    assert.deepEqual(outcomesOf(kept).filter(Number.isInteger), [0, 2, 3]);
    assert.equal(((kept[1] as PromiseRejectedResult).reason as ShardError).attempts, 1);
    assert.equal(seen[0]?.retries, 0);
    const retried = (await exits({ retries: { limit: 1, minDelay: 5 }, onStats }).exitAt(
      range(4),
      1,
    )) as PromiseSettledResult<number>[];
    assert.deepEqual(outcomesOf(retried).filter(Number.isInteger), [0, 2, 3]);
    assert.equal(((retried[1] as PromiseRejectedResult).reason as ShardError).attempts, 2);
    assert.equal(seen[1]?.retries, 1);
  });

  it('a promise a shard leaves to reject after its result went back is one PARAFOR_LEFTOVER_ERROR warning in the caller', async () => {
    const token = `queue-left-${process.pid}`;
    const { warnings, stop } = warningsWith('PARAFOR_LEFTOVER_ERROR');
    try {
      // One shard a job, one job at a time, all in the worker's one thread: the second shard runs
      // after the first one's result went back, and waits there until what it left has failed.
      const view: any = parallel(new Leftovers(), { executor: threads, concurrency: 1, batchSize: 1 });
      const [first, second] = (await view.run([
        { token, leave: 'reject' },
        { token, wait: true },
      ])) as Outcome[];
      assert.equal(second?.worker, first?.worker);
      assert.equal(second?.fired, true);
      await until(() => warnings.length > 0);
      assert.equal(warnings.length, 1);
      const [warning] = warnings as [Error];
      assert.match(
        warning.message,
        /^Leftovers\.run: Shard 0 left a promise that rejected unhandled after its result was sent; no shard failed for it/,
      );
      assert.match(warning.message, new RegExp(`RangeError: left behind by ${token}$`));
    } finally {
      stop();
    }
  });
});

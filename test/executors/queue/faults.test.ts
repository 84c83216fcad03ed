/**
 * The queue executor when things go wrong, against a real redis-server and real `parafor worker`
 * processes: a worker killed mid-call, abort and fail-fast (their jobs removed, running ones
 * stopped), Redis unreachable or stopped mid-call (and workers that resume when it is back), a
 * worker with other code, and a graceful stop. Standard mode only: nothing here depends on the
 * decorators' mode.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { getDistribution, parallel, ShardError, shutdown } from '../../../src/index.js';
import { range, settleWithin, sleep } from '../../helpers.js';
import { callKeys, quietClient, RedisServer, skipReason, WorkerProcess } from './servers.js';

const QUEUE = 'faults';
process.env['PARAFOR_TEST_QUEUE'] = QUEUE;
let redis: RedisServer | undefined;
let workers: WorkerProcess[] = [];
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
  workers = await Promise.all([WorkerProcess.start(redis, QUEUE), WorkerProcess.start(redis, QUEUE)]);
});

after(async () => {
  await shutdown();
  await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  await redis?.close();
});

const make = (): any => new methods.Shards();
const view = (options: object): any => parallel(new methods.Shards(), options);

/** Waits until `count` jobs of the queue are running. */
async function running(count: number): Promise<void> {
  const client = quietClient(redis!.url);
  try {
    for (let i = 0; i < 400; i++) {
      if ((await client.llen(`bull:${QUEUE}:active`)) >= count) return;
      await sleep(25);
    }
    throw new Error(`${count} jobs never ran at once`);
  } finally {
    client.disconnect();
  }
}

/** Waits until no key of any call is left in Redis, and says which are left if some stay. */
async function noCallKeys(ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  let left = callKeys(await redis!.keys(), QUEUE);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = callKeys(await redis!.keys(), QUEUE);
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

  it('Redis stopped mid-call: the call fails saying so; workers say they lost it, and resume when it is back', async () => {
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
  });

  it('a worker with other code fails the shards with a clear error, and runs nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'parafor-queue-code-'));
    const index = pathToFileURL(new URL('../../../src/index.js', import.meta.url).pathname).href;
    const queueEntry = pathToFileURL(new URL('../../../src/queue.js', import.meta.url).pathname).href;
    const lib = (body: string): string =>
      `import { distribute } from ${JSON.stringify(index)};\n` +
      `import { queueExecutor } from ${JSON.stringify(queueEntry)};\n` +
      `const executor = queueExecutor({ connection: process.env.PARAFOR_TEST_REDIS, queue: 'code', idleTimeout: 100 });\n` +
      `export const work = distribute(function work(x) { return ${body}; }, { executor });\n`;
    const [callerDir, workerDir] = [join(root, 'caller'), join(root, 'worker')];
    await Promise.all([mkdir(callerDir), mkdir(workerDir)]);
    await writeFile(join(callerDir, 'lib.mjs'), lib('x + 1'));
    await writeFile(join(workerDir, 'lib.mjs'), lib('x + 2'));
    await writeFile(
      join(callerDir, 'main.mjs'),
      "import { work } from './lib.mjs';\n" +
        'try { await work([1]); console.log("ran"); } catch (error) { console.log(String(error.cause ?? error)); }\n',
    );
    const other = await WorkerProcess.start(redis!, 'code', { cwd: workerDir, modules: ['lib.mjs'], concurrency: 1 });
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['main.mjs'], {
        cwd: callerDir,
        env: { ...process.env, PARAFOR_TEST_REDIS: redis!.url },
        timeout: 30_000,
      });
      assert.match(stdout, /its code differs from the caller's \(fingerprint \w+ in the worker, \w+ in the caller\)/);
      assert.doesNotMatch(stdout, /^ran/m);
    } finally {
      await other.stop();
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

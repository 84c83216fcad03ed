/**
 * classifyPoolFailure against workerpool's own rejections: every failure here is produced by a real
 * workerpool pool (functions run with `pool.exec(fn)` in workerpool's default worker), never written
 * by hand, so a workerpool release that rewords them fails these tests.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import workerpool from 'workerpool';
import { classifyPoolFailure } from '../../../src/executors/pool/failures.js';
import { deferred, until } from '../../helpers.js';

type Pool = ReturnType<typeof workerpool.pool>;

/**
 * A worker script with one method, `forever`, that says when it starts (through workerpool's
 * events) and never ends. (A function run by `pool.exec(fn)` cannot emit: workerpool 10 hands it
 * `this.worker.emit` before defining it.) Everything else runs as `pool.exec(fn)`.
 */
const script = `const workerpool = require(${JSON.stringify(createRequire(import.meta.url).resolve('workerpool'))});
workerpool.worker({
  forever() {
    workerpool.workerEmit('started');
    return new Promise(() => {});
  },
});
`;

let dir = '';
let scriptPath = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parafor-failures-'));
  scriptPath = join(dir, 'forever.cjs');
  await writeFile(scriptPath, script);
});

const pools: Pool[] = [];
after(async () => {
  // With a deadline: workerpool waits forever for a worker that already exited to exit.
  await Promise.all(pools.map((pool) => pool.terminate(true, 5000).catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});

/** A pool of one worker, terminated after the tests; a child process's output is kept off the test's. */
function onePool(workerType: 'thread' | 'process'): Pool {
  const pool = workerpool.pool(scriptPath, {
    maxWorkers: 1,
    workerType,
    workerTerminateTimeout: 200,
    ...(workerType === 'process' ? { forkOpts: { silent: true } } : {}),
  });
  pools.push(pool);
  return pool;
}

/** What a task's promise (workerpool's own Promise class) rejects with; fails the test if it fulfils. */
async function rejectionOf(task: object): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  // A rejection that never comes must fail the test, not hang the suite.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the task neither rejected nor fulfilled within 15 s')), 15_000);
  });
  try {
    await Promise.race([task as PromiseLike<unknown>, deadline]);
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
  assert.fail('expected the task to be rejected');
}

/** Starts the never-ending task; `started` resolves once it runs in the worker. */
function startForever(pool: Pool): { result: ReturnType<Pool['exec']>; started: Promise<void> } {
  const started = deferred();
  const result = pool.exec('forever', [], { on: () => started.resolve() });
  return { result, started: started.promise };
}

/** The worker handlers of a pool (workerpool exposes no other way to see a worker die while idle). */
function handlers(pool: Pool): { terminated: boolean }[] {
  return (pool as unknown as { workers: { terminated: boolean }[] }).workers;
}

describe('classifyPoolFailure on real workerpool rejections', { timeout: 30_000 }, () => {
  for (const workerType of ['thread', 'process'] as const) {
    it(`a ${workerType} worker that calls process.exit(3) during a task: 'died' with exit code 3`, async () => {
      const error = await rejectionOf(onePool(workerType).exec(() => process.exit(3), []));
      assert.match(String((error as Error).message), /terminated unexpectedly/i);
      assert.deepEqual(classifyPoolFailure(error), { kind: 'died', exitCode: 3, signal: null, reason: undefined });
    });
  }

  it("a 'process' worker killed by SIGKILL during a task: 'died' with signal SIGKILL and no exit code", async () => {
    const error = await rejectionOf(onePool('process').exec(() => process.kill(process.pid, 'SIGKILL'), []));
    assert.deepEqual(classifyPoolFailure(error), {
      kind: 'died',
      exitCode: null,
      signal: 'SIGKILL',
      reason: undefined,
    });
  });

  it("a 'process' worker killed from outside (SIGTERM by the parent) during a task: 'died' with that signal", async () => {
    const pool = onePool('process');
    const pid = await pool.exec(() => process.pid, []);
    const { result, started } = startForever(pool);
    await started;
    process.kill(pid, 'SIGTERM');
    const failure = classifyPoolFailure(await rejectionOf(result));
    assert.equal(failure.kind, 'died');
    assert.equal(failure.kind === 'died' && failure.signal, 'SIGTERM');
  });

  it("a thread worker that throws uncaught outside the task while holding it: 'died' with the error as reason", async () => {
    const error = await rejectionOf(
      onePool('thread').exec(() => {
        setTimeout(() => {
          throw new RangeError('thrown outside any task');
        }, 0);
        return new Promise(() => undefined);
      }, []),
    );
    const failure = classifyPoolFailure(error);
    assert.equal(failure.kind, 'died');
    if (failure.kind !== 'died') return;
    assert.equal(failure.exitCode, null);
    assert.equal(failure.signal, null);
    assert.ok(failure.reason instanceof Error, `reason ${String(failure.reason)}`);
    assert.equal(failure.reason.name, 'RangeError');
    assert.match(failure.reason.message, /thrown outside any task/);
  });

  it("a 'process' worker that throws uncaught outside the task: 'died' with its exit code (1)", async () => {
    const error = await rejectionOf(
      onePool('process').exec(() => {
        setTimeout(() => {
          throw new Error('thrown outside any task');
        }, 0);
        return new Promise(() => undefined);
      }, []),
    );
    assert.deepEqual(classifyPoolFailure(error), { kind: 'died', exitCode: 1, signal: null, reason: undefined });
  });

  for (const workerType of ['thread', 'process'] as const) {
    it(`a task cancelled with .cancel() on a ${workerType} worker: 'cancelled'`, async () => {
      const { result, started } = startForever(onePool(workerType));
      await started;
      result.cancel();
      const error = await rejectionOf(result);
      assert.equal((error as Error).name, 'CancellationError');
      assert.deepEqual(classifyPoolFailure(error), { kind: 'cancelled' });
    });
  }

  it("a task cancelled while still queued: 'cancelled'", async () => {
    const pool = onePool('thread');
    const { started } = startForever(pool);
    await started;
    const queued = pool.exec(() => 1, []);
    queued.cancel();
    assert.deepEqual(classifyPoolFailure(await rejectionOf(queued)), { kind: 'cancelled' });
  });

  it("a task past its .timeout(): 'cancelled'", async () => {
    const { result, started } = startForever(onePool('thread'));
    await started;
    const timed = result.timeout(10);
    const error = await rejectionOf(timed);
    assert.equal((error as Error).name, 'TimeoutError');
    assert.deepEqual(classifyPoolFailure(error), { kind: 'cancelled' });
  });

  for (const workerType of ['thread', 'process'] as const) {
    it(`pool.terminate(true) while a task runs on a ${workerType} worker: 'shutdown'`, async () => {
      const pool = onePool(workerType);
      const { result, started } = startForever(pool);
      await started;
      const terminated = pool.terminate(true);
      const error = await rejectionOf(result);
      await terminated;
      assert.match(String((error as Error).message), /terminated/i);
      assert.deepEqual(classifyPoolFailure(error), { kind: 'shutdown' });
    });
  }

  it("a task still queued when the pool terminates ('Pool terminated'): 'shutdown'", async () => {
    const pool = onePool('thread');
    const { result: running, started } = startForever(pool);
    await started;
    const queued = pool.exec(() => 1, []);
    const terminated = pool.terminate(true);
    const [queuedError, runningError] = await Promise.all([rejectionOf(queued), rejectionOf(running)]);
    await terminated;
    assert.match(String((queuedError as Error).message), /pool terminated/i);
    assert.deepEqual(classifyPoolFailure(queuedError), { kind: 'shutdown' });
    assert.deepEqual(classifyPoolFailure(runningError), { kind: 'shutdown' });
  });

  for (const workerType of ['thread', 'process'] as const) {
    it(`a task sent to a ${workerType} worker that died while idle ('Worker is terminated'): 'unreached'`, async () => {
      const pool = onePool(workerType);
      // The first task succeeds, and its worker exits just after, with nothing to do.
      assert.equal(
        await pool.exec(() => {
          setTimeout(() => process.exit(0), 20);
          return 'done';
        }, []),
        'done',
      );
      await until(() => handlers(pool).every((handler) => handler.terminated));
      const error = await rejectionOf(pool.exec(() => 'never runs', []));
      assert.match(String((error as Error).message), /worker is terminated/i);
      assert.deepEqual(classifyPoolFailure(error), { kind: 'unreached' });
      // The pool dropped the dead worker: the next task runs on a new one.
      assert.equal(await pool.exec(() => 'runs', []), 'runs');
    });
  }

  for (const workerType of ['thread', 'process'] as const) {
    it(`an ordinary error thrown by a task on a ${workerType} worker: 'other', passed on as it is`, async () => {
      const error = await rejectionOf(
        onePool(workerType).exec(() => {
          throw new TypeError('an ordinary failure');
        }, []),
      );
      assert.match(String((error as Error).message), /an ordinary failure/);
      assert.deepEqual(classifyPoolFailure(error), { kind: 'other', error });
    });
  }

  it("a task that rejects with a non-error: 'other'", async () => {
    const error = await rejectionOf(onePool('thread').exec(() => Promise.reject('just text'), []));
    const failure = classifyPoolFailure(error);
    assert.equal(failure.kind, 'other');
  });
});

describe('classifyPoolFailure on values no pool gives', () => {
  it("anything that is not an error is 'other'", () => {
    for (const value of [undefined, null, 'Worker terminated', 42, { message: 'Pool terminated' }]) {
      assert.deepEqual(classifyPoolFailure(value), { kind: 'other', error: value });
    }
  });
});

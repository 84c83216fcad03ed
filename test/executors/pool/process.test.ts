/**
 * The 'process' executor with real child processes: the same user method by reference, errors and
 * faults, with full isolation. Runs in both decorator modes.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  getDistribution,
  parallel,
  ShardError,
  ShardTimeoutError,
  shutdown,
  type ShardOutcome,
} from '../../../src/index.js';
import { cubeInProcess, digest, Hasher, WithCallback } from '../../fixtures/workers/shapes.js';
import { range } from '../../helpers.js';

const mode = getDistribution(Hasher.prototype, 'hash')?.decorators;
const inProcesses = { executor: 'process' } as const;

function statuses(outcomes: readonly ShardOutcome<unknown, unknown>[]): string[] {
  return outcomes.map((outcome) => outcome.status);
}

function causeOf(error: unknown): any {
  assert.ok(error instanceof ShardError, `expected a ShardError, got ${String(error)}`);
  return error.cause;
}

after(() => shutdown());

describe(`'process' executor (${mode} mode)`, () => {
  it('runs an instance method in child processes with its fields, prototype and module imports', async () => {
    const results = await parallel(new Hasher('salt'), inProcesses).hash(range(4), '?');
    results.forEach((result, i) => {
      assert.equal(result.value, digest(`salt/${i}?`));
      assert.notEqual(result.pid, process.pid, 'in another process');
      assert.equal(result.index, i);
      assert.equal(result.prototype, true);
      assert.deepEqual(result.fields, [42, true, true], 'Map, Date and typed array survive (advanced serialization)');
    });
  });

  it('runs a static method and the function form', async () => {
    assert.deepEqual(await parallel(Hasher, inProcesses).double([1, 2]), [
      { value: 2, isClass: true },
      { value: 4, isClass: true },
    ]);
    const cubes = await cubeInProcess(range(4));
    assert.deepEqual(
      cubes.map((r) => r.cube),
      [0, 1, 8, 27],
    );
    assert.ok(cubes.every((r) => r.pid !== process.pid));
  });

  it('keeps the error class name, message, cause and own properties', async () => {
    const cause = causeOf(
      await parallel(new Hasher(), inProcesses)
        .fail(range(3))
        .catch((e: unknown) => e),
    );
    assert.equal(cause.name, 'ValidationError');
    assert.equal(cause.code, 'E_BAD');
    assert.equal(cause.cause instanceof RangeError, true);
  });

  it('names an unclonable field before any shard runs', async () => {
    await assert.rejects(
      parallel(new WithCallback(), inProcesses).run([1]),
      /`this\.onDone` is `\[Function[^`]*\]` \(function\)/,
    );
  });

  it('a shard that exits its process fails alone with the exit code; the pool replaces the process', async () => {
    const settled = await parallel(new Hasher(), { ...inProcesses, results: 'settled' }).crash(range(4));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const failed = settled[1];
    if (failed?.status === 'rejected') {
      const cause = failed.reason.cause as { name: string; exitCode: number; message: string };
      assert.equal(cause.name, 'WorkerExitError');
      assert.equal(cause.exitCode, 3);
      assert.match(cause.message, /Hasher\.crash: The worker process died \(exit code 3\)/);
    }
  });

  it('a process killed by a signal fails its shard saying which signal', async () => {
    const cause = causeOf(
      await parallel(new Hasher(), inProcesses)
        .killSelf(range(3))
        .catch((e: unknown) => e),
    );
    assert.equal(cause.signal, 'SIGKILL');
    assert.match(cause.message, /killed by SIGKILL/);
  });

  it('a shard stuck in a loop times out and its process is terminated', async () => {
    const settled = await parallel(new Hasher(), { ...inProcesses, results: 'settled', timeout: 500 }).spin(range(3));
    assert.deepEqual(statuses(settled), ['fulfilled', 'rejected', 'fulfilled']);
    const failed = settled[1];
    if (failed?.status === 'rejected') assert.ok(failed.reason.cause instanceof ShardTimeoutError);
    assert.deepEqual(await parallel(Hasher, inProcesses).double([4]), [{ value: 8, isClass: true }]);
  });

  it('runs a distributed call made inside a child process inline, in that process', async () => {
    const [result] = await parallel(new Hasher(), inProcesses).nested([1]);
    assert.notEqual(result?.outer.pid, process.pid);
    assert.deepEqual(
      result?.inner.map((r) => r.pid),
      [result?.outer.pid, result?.outer.pid],
    );
  });

  it('copies typed arrays even with transfer: true (processes cannot share memory)', async () => {
    const shard = new Float64Array([1, 2]);
    const [scaled] = await parallel(new Hasher(), inProcesses).scale([shard], 3);
    assert.deepEqual([...(scaled ?? [])], [3, 6]);
    assert.equal(shard.byteLength, 16);
  });
});

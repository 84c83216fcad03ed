/**
 * Scripts that use the worker executors, run as child processes with a deadline: they exit by
 * themselves, import no pool until the first call, and refuse the entry-script trap at once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
const mode = import.meta.url.includes('/legacy/') ? 'legacy' : 'standard';
const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/workers/${name}.js`, import.meta.url));
/** Far above what these scripts take (well under a second): only a script that hangs reaches it. */
const DEADLINE_MS = 20_000;

async function runScript(
  name: string,
  env: Record<string, string> = {},
  flags: readonly string[] = [],
): Promise<{ lines: string[]; ms: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [...flags, fixture(name)], {
    timeout: DEADLINE_MS,
    env: { ...process.env, ...env },
  });
  return { lines: stdout.trim().split('\n'), ms: performance.now() - started };
}

describe(`scripts using the worker executors (compiled, ${mode} mode)`, () => {
  for (const executor of ['worker', 'process']) {
    it(`a script that fans out on '${executor}' with top-level await exits by itself`, async () => {
      const { lines } = await runScript('exits', { EXECUTOR: executor });
      assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), {
        hashes: 3,
        inWorker: true,
        cubes: [
          { value: 8, isClass: true },
          { value: 10, isClass: true },
        ],
        three: [27],
      });
    });
  }

  for (const [executor, how] of [
    ['worker', /Hasher\.hog: The worker thread died \(out of memory\) while it held shard 1/],
    ['process', /Hasher\.hog: The worker process died \(killed by SIGABRT\) while it held shard 1/],
  ] as const) {
    it(`a shard that runs its '${executor}' out of memory fails alone, saying so`, async () => {
      const { lines } = await runScript('oom', { EXECUTOR: executor }, ['--max-old-space-size=64']);
      const outcomes = JSON.parse(lines.at(-1) ?? '') as { status: string; cause?: string }[];
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.match(outcomes[1]?.cause ?? '', how);
    });
  }

  it('shutdown() during a call fails its shards without starting a new pool; later calls work and the script exits', async () => {
    const { lines } = await runScript('shutdown-midway');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { first: ['ran', true, true, true], later: 1 });
  });

  it('shutdown() while a call is still loading its method in a worker fails its shards, and never rejects the call', async () => {
    const { lines } = await runScript('shutdown-probing');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { first: [true, true, true], later: [10] });
  });

  it('shutdown() while the first call loads the pool client fails its shards, leaves no pool, and the script exits', async () => {
    const { lines } = await runScript('shutdown-opening');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { first: [true, true], workers: 0 });
  });

  for (const executor of ['worker', 'process']) {
    it(`'${executor}': a first call with one shard starts every worker the call may use, and the script still exits`, async () => {
      const { lines } = await runScript('warm', { EXECUTOR: executor });
      assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { results: [42], workers: 3 });
    });
  }

  for (const executor of ['worker', 'process']) {
    it(`'${executor}': calls aborted while one's batch waits in the pool's queue reject, and the script exits quietly`, async () => {
      const { stdout, stderr } = await run(process.execPath, [fixture('abort-queued')], {
        timeout: DEADLINE_MS,
        env: { ...process.env, EXECUTOR: executor },
      });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), ['rejected', 'rejected']);
      assert.equal(stderr, '');
    });
  }

  for (const executor of ['worker', 'process']) {
    it(`'${executor}': a pool whose every worker died while its cancelled task was cleaned up runs the next call`, async () => {
      const { lines } = await runScript('dies-while-cancelled', { EXECUTOR: executor });
      const size = availableParallelism();
      assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), {
        first: Array.from({ length: size }, () => 'ShardTimeoutError'),
        next: 2,
      });
    });
  }

  for (const executor of ['worker', 'process']) {
    it(`'${executor}': a method whose module never finishes loading fails within its timeout, and the script exits`, async () => {
      const { lines } = await runScript('hangs-loading', { EXECUTOR: executor });
      const { outcome } = JSON.parse(lines.at(-1) ?? '') as { outcome: string };
      assert.equal(
        outcome,
        'Stuck.run: Loading the method in a worker took longer than the timeout (500 ms), so it was stopped',
      );
    });
  }

  for (const executor of ['worker', 'process']) {
    it(`'${executor}': a batch sent to a worker whose loading of the method never ends fails within the timeout`, async () => {
      const { lines } = await runScript('reloads', { EXECUTOR: executor });
      const { outcomes } = JSON.parse(lines.at(-1) ?? '') as { outcomes: unknown[] };
      assert.equal(outcomes.length, 2);
      // One shard ran on the worker that had loaded the method; the other reached the new one.
      assert.ok(outcomes.includes(1) || outcomes.includes(2), `one shard ran: ${JSON.stringify(outcomes)}`);
      assert.ok(
        outcomes.some((o) => /took longer than the timeout \(500 ms\)/.test(String(o))),
        `the other failed for its loading: ${JSON.stringify(outcomes)}`,
      );
    });
  }

  it('a call never runs more than its concurrency when another call grows the shared pool', async () => {
    const { lines } = await runScript('pool-grows');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { most: 2 });
  });

  it('importing parafor loads no pool; the first worker call does', async () => {
    const { lines } = await runScript('lazy');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), { atImport: false, afterCall: true });
  });

  it('a class in the entry script fails at once, saying what to do, and the program never runs twice', async () => {
    const { lines } = await runScript('entry-class');
    assert.deepEqual(
      lines.filter((line) => line === 'program started'),
      ['program started'],
    );
    const result = JSON.parse(lines.at(-1) ?? '') as { name: string; message: string };
    assert.equal(result.name, 'TypeError');
    assert.match(result.message, /Report\.cube: The method is defined in the entry script entry-class\.js/);
    assert.match(result.message, /would run the whole program again in every worker/);
    assert.match(result.message, /Move the class or function into a module of its own/);
  });

  it('an entry script that guards its program and says so with `module` works, running once', async () => {
    const { lines } = await runScript('entry-guarded');
    assert.deepEqual(lines, ['program started', JSON.stringify({ results: [1, 8, 27] })]);
  });
});

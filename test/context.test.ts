import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { currentShard, distribute } from '../src/index.js';
import { deferred, range } from './helpers.js';

const dist = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));

/** Runs `body` as a module of its own in a fresh process (nothing else has hooks on there), with
 * `distribute`, `currentShard` and `executionAsyncId` in scope. */
async function probeScript(body: string): Promise<{ stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'parafor-context-'));
  try {
    const script = join(dir, 'probe.mjs');
    await writeFile(
      script,
      `import { executionAsyncId } from 'node:async_hooks';\n` +
        `const { distribute, currentShard } = await import(${JSON.stringify(dist)});\n${body}\n`,
    );
    return await promisify(execFile)(process.execPath, [script]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('currentShard() and the program around parafor', () => {
  it('leaves no promise hooks on once its calls are over (every promise of the program would pay for them)', async () => {
    // Promise hooks give every promise an async id: with none on, code after an `await` runs with id 0.
    // A fresh process, so nothing else (the test runner) has hooks on.
    const dir = await mkdtemp(join(tmpdir(), 'parafor-hooks-'));
    try {
      const script = join(dir, 'probe.mjs');
      await writeFile(
        script,
        `import { executionAsyncId } from 'node:async_hooks';
const { distribute, currentShard } = await import(${JSON.stringify(dist)});
const probe = async () => { await null; return executionAsyncId(); };
const before = await probe();
let seen;
const results = await distribute(async (x) => { await null; seen = currentShard()?.index; return x; })([1, 2, 3]);
for await (const x of distribute((x) => x, { as: 'completed' })([1, 2, 3])) if (x === 1) break;
console.log(JSON.stringify({ before, seen, results, after: await probe() }));`,
      );
      const { stdout } = await promisify(execFile)(process.execPath, [script]);
      assert.deepEqual(JSON.parse(stdout), { before: 0, seen: 2, results: [1, 2, 3], after: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns no promise hook on for shards that never ask for their context, and keeps it for those that do', async () => {
    const { stdout, stderr } = await probeScript(
      `const probe = async () => { await null; return executionAsyncId(); };
// Its code does not name currentShard, and it never asks: no hook on, even during the call.
const during = await distribute(async () => probe())([1, 2, 3]);
// It asks through a helper, first before its first await: it keeps its context after awaits.
const ask = () => currentShard()?.index;
const asked = await distribute(async () => { const first = ask(); await null; await probe(); return [first, ask()]; })([1, 2, 3]);
console.log(JSON.stringify({ during, asked }));`,
    );
    assert.deepEqual(JSON.parse(stdout), {
      during: [0, 0, 0],
      asked: [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
    });
    assert.equal(stderr, '');
  });

  it('says so, once, when a shard asks only after an await before any shard asked (Node 20 and 22)', async () => {
    const { stdout, stderr } = await probeScript(
      `const ask = () => currentShard()?.index;
const late = await distribute(async () => { await null; return ask() ?? null; }, { concurrency: 1 })([1, 2, 3]);
const next = await distribute(async () => { await null; return ask() ?? null; })([1, 2]);
console.log(JSON.stringify({ late, next }));`,
    );
    // Node 24 and later keep every shard's context without promise hooks, so from the first shard.
    const hooks = Number(process.versions.node.split('.')[0]) < 24;
    assert.deepEqual(JSON.parse(stdout), { late: hooks ? [null, 1, 2] : [0, 1, 2], next: [0, 1] });
    const warnings = stderr.match(/PARAFOR_CONTEXT_LATE/g) ?? [];
    assert.equal(warnings.length, hooks ? 1 : 0, stderr);
  });

  it('keeps working in a call that is still running when another call ends', async () => {
    const gate = deferred();
    const slow = distribute(
      async (_: number) => {
        await gate.promise;
        await Promise.resolve();
        return currentShard()?.index;
      },
      { concurrency: 3 },
    )(range(3));
    assert.deepEqual(await distribute((x: number) => x * 2)([1, 2]), [2, 4]);
    gate.resolve();
    assert.deepEqual(await slow, [0, 1, 2]);
  });

  it('keeps working in the outer call after a nested call ends inside one of its shards', async () => {
    const inner = distribute((x: number) => x + 1, { concurrency: 2 });
    const outer = distribute(
      async (i: number) => {
        await inner([i, i]);
        await Promise.resolve();
        return currentShard()?.index;
      },
      { concurrency: 2 },
    );
    assert.deepEqual(await outer(range(4)), [0, 1, 2, 3]);
  });
});

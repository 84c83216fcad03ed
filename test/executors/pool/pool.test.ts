/**
 * The shared pools when a worker dies while idle (a shard left a timer that ends its worker after
 * it returned): the next call still runs, a method loaded for the first time too, and shutdown()
 * still ends. Run as child processes with a
 * deadline, on the compiled sources of this test build.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** parafor's entry in this test build: .build/<mode>/src/index.js. */
const index = new URL('../../../src/index.js', import.meta.url).href;
/** Far above what these scripts take: only a script that hangs reaches it. */
const DEADLINE_MS = 20_000;

// The shard returns, then its worker dies with nothing to do: a timer that exits, late enough for
// the result to reach the main thread first even on a loaded machine.
const lib = `import { distribute } from ${JSON.stringify(index)};
export const late = distribute(
  (i) => {
    setTimeout(() => process.exit(1), 100);
    return i * 2;
  },
  { executor: process.env.EXECUTOR },
);
export const other = distribute((i) => i + 1, { executor: process.env.EXECUTOR });
`;

// Calls once, waits for the worker to die, then calls again or shuts down.
const main = `import { shutdown } from ${JSON.stringify(index)};
import { late, other } from './lib.mjs';
const first = await late([1]);
await new Promise((resolve) => setTimeout(resolve, 600));
if (process.env.THEN === 'call') {
  console.log(JSON.stringify({ first, second: await late([2, 3]) }));
} else if (process.env.THEN === 'load') {
  console.log(JSON.stringify({ first, other: await other([5, 6]) }));
} else {
  await shutdown();
  console.log(JSON.stringify({ first, shutdown: 'done' }));
}
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parafor-idle-death-'));
  await writeFile(join(dir, 'lib.mjs'), lib);
  await writeFile(join(dir, 'main.mjs'), main);
});
after(() => rm(dir, { recursive: true, force: true }));

async function runMain(executor: string, then: 'call' | 'load' | 'shutdown'): Promise<unknown> {
  const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], {
    timeout: DEADLINE_MS,
    env: { ...process.env, EXECUTOR: executor, THEN: then },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

describe('a pool worker that died while idle', () => {
  for (const executor of ['worker', 'process']) {
    it(`'${executor}': the next call's shards go to a live worker and succeed`, async () => {
      assert.deepEqual(await runMain(executor, 'call'), { first: [2], second: [4, 6] });
    });

    // Loading a method it never ran sends its probe to the dead worker first ('Worker is terminated'):
    // it is sent again, to a live one.
    it(`'${executor}': a method loaded for the first time loads on a live worker and runs`, async () => {
      assert.deepEqual(await runMain(executor, 'load'), { first: [2], other: [6, 7] });
    });

    // workerpool's terminate() waits for the 'exit' event of every worker it holds, and a worker
    // that already exited while idle (still in the pool until a task is sent to it) never emits it
    // again: shutdown() gives up on it after a bounded wait.
    it(`'${executor}': shutdown() ends`, async () => {
      assert.deepEqual(await runMain(executor, 'shutdown'), { first: [2], shutdown: 'done' });
    });
  }
});

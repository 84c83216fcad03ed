/**
 * Importing parafor loads no worker pool: workerpool is loaded by the first call that needs it.
 * Checked on the built package (dist/, from `npm run build`) in a child process, so that nothing
 * the test runner loaded counts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The repository: the compiled test lives in .build/<mode>/test/. */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dist = pathToFileURL(join(root, 'dist/index.js')).href;
/** Far above what the script takes: only a script that hangs reaches it. */
const DEADLINE_MS = 20_000;

// workerpool is CommonJS: once loaded (by `import` too), its files are in the CommonJS cache.
const probe = `import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
export const loaded = () => Object.keys(cache).filter((file) => /[\\\\/]workerpool[\\\\/]/.test(file));
`;

// A module of its own (a worker must not import the entry script) with a function on 'worker'.
const lib = `import { distribute } from ${JSON.stringify(dist)};
export const cube = distribute((i) => i ** 3, { executor: 'worker' });
`;

const main = `import { loaded } from './probe.mjs';
const before = loaded();
const parafor = await import(${JSON.stringify(dist)});
const afterImport = loaded();
const { cube } = await import('./lib.mjs');
const afterDefine = loaded();
const cubes = await cube([1, 2, 3]);
const afterCall = loaded();
await parafor.shutdown();
console.log(JSON.stringify({ before, afterImport, afterDefine, cubes, afterCall: afterCall.length }));
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parafor-lazy-'));
  await writeFile(join(dir, 'probe.mjs'), probe);
  await writeFile(join(dir, 'lib.mjs'), lib);
  await writeFile(join(dir, 'main.mjs'), main);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('lazy loading (the built package)', () => {
  it("importing parafor, and defining a 'worker' function, loads no workerpool; the first call does", async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { timeout: DEADLINE_MS });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
      before: string[];
      afterImport: string[];
      afterDefine: string[];
      cubes: number[];
      afterCall: number;
    };
    assert.deepEqual(seen.cubes, [1, 8, 27], 'the call ran');
    // The check can see workerpool: it does once a call has used a worker.
    assert.ok(seen.afterCall > 0, 'after a worker call, workerpool is in the CommonJS cache');
    assert.deepEqual(seen.before, []);
    assert.deepEqual(seen.afterImport, [], 'importing parafor loads no workerpool file');
    assert.deepEqual(seen.afterDefine, [], "defining a 'worker' function loads no workerpool file");
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

describe('the published package', () => {
  it('resolves `parafor` through its exports map to the built dist/, with the whole public API', async () => {
    const published = await import('parafor');
    for (const name of ['distribute', 'distributeOver', 'parallel', 'currentShard', 'shutdown', 'getDistribution']) {
      assert.equal(typeof published[name as keyof typeof published], 'function', name);
    }
    assert.ok(published.ShardError.prototype instanceof Error);
    assert.equal(published.DISTRIBUTION_KEY, 'parafor:distribution');
  });

  it('works from plain JavaScript with no decorators: the function form', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parafor-js-'));
    try {
      const script = join(dir, 'use.mjs');
      await writeFile(
        script,
        `import { distribute } from ${JSON.stringify(join(root, 'dist/index.js'))};\n` +
          `const cubes = distribute(async (i) => i ** 3, { concurrency: 5 });\n` +
          `console.log(JSON.stringify(await cubes([0, 1, 2, 3])));\n`,
      );
      const { stdout } = await run(process.execPath, [script]);
      assert.equal(stdout.trim(), '[0,1,8,27]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

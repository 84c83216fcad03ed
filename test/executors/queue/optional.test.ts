/**
 * bullmq and ioredis are optional: the built package works without them, and `parafor/queue` says
 * what to install. A child process runs with a resolve hook that finds neither package, as on a
 * machine where they are not installed. Also the `parafor` command's usage.
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
const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const dist = (file: string): string => pathToFileURL(join(root, 'dist', file)).href;
const CLI = join(root, 'dist/cli/main.js');
const DEADLINE_MS = 30_000;

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === 'bullmq' || specifier === 'ioredis') {
    throw Object.assign(new Error(\`Cannot find package '\${specifier}'\`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
`;
const registerHooks = `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url));
`;
const lib = `import { distribute } from ${JSON.stringify(dist('index.js'))};
export const cube = distribute((i) => i ** 3, { executor: 'worker' });
`;
const main = `const parafor = await import(${JSON.stringify(dist('index.js'))});
const { cube } = await import('./lib.mjs');
const cubes = await cube([1, 2, 3]);
await parafor.shutdown();
let queue;
try {
  await import(${JSON.stringify(dist('queue.js'))});
  queue = 'loaded';
} catch (error) {
  queue = String(error.message);
}
console.log(JSON.stringify({ cubes, queue }));
`;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parafor-optional-'));
  await Promise.all([
    writeFile(join(dir, 'hooks.mjs'), hooks),
    writeFile(join(dir, 'register.mjs'), registerHooks),
    writeFile(join(dir, 'lib.mjs'), lib),
    writeFile(join(dir, 'main.mjs'), main),
  ]);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('bullmq and ioredis are optional (the built package)', () => {
  it('without them, parafor works and parafor/queue says what to install', async () => {
    const { stdout } = await run(process.execPath, ['--import', join(dir, 'register.mjs'), join(dir, 'main.mjs')], {
      timeout: DEADLINE_MS,
    });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { cubes: number[]; queue: string };
    assert.deepEqual(seen.cubes, [1, 8, 27]);
    assert.match(seen.queue, /^parafor\/queue: The queue executor runs on BullMQ and Redis/);
    assert.match(seen.queue, /is not installed/);
    assert.match(seen.queue, /npm install bullmq ioredis/);
  });

  it('importing parafor never loads them, even with them installed', async () => {
    const probe = `await import(${JSON.stringify(dist('index.js'))});\n`;
    // The resolve hook records every specifier resolved: neither bullmq nor ioredis may be among them.
    const recorder = `export async function resolve(specifier, context, next) {
  if (/^(bullmq|ioredis)($|\\/)/.test(specifier)) process.stdout.write('RESOLVED ' + specifier + '\\n');
  return next(specifier, context);
}
`;
    await writeFile(join(dir, 'probe.mjs'), probe);
    await writeFile(join(dir, 'recorder.mjs'), recorder);
    await writeFile(
      join(dir, 'register-recorder.mjs'),
      "import { register } from 'node:module';\nregister(new URL('./recorder.mjs', import.meta.url));\n",
    );
    const { stdout } = await run(
      process.execPath,
      ['--import', join(dir, 'register-recorder.mjs'), join(dir, 'probe.mjs')],
      { timeout: DEADLINE_MS },
    );
    assert.doesNotMatch(stdout, /RESOLVED/);
  });
});

describe('the parafor command', () => {
  it('parafor --help and parafor worker --help print their usage', async () => {
    const top = await run(process.execPath, [CLI, '--help'], { timeout: DEADLINE_MS });
    assert.match(top.stdout, /Usage: parafor <command>/);
    assert.match(top.stdout, /worker/);
    const worker = await run(process.execPath, [CLI, 'worker', '--help'], { timeout: DEADLINE_MS });
    assert.match(worker.stdout, /Usage: parafor worker --queue <name>/);
    for (const option of ['--connection', '--concurrency', '--lock-duration', '--stalled-interval']) {
      assert.match(worker.stdout, new RegExp(option));
    }
  });

  it('bad usage exits 2 and says what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['nonsense'], /Unknown command 'nonsense'/],
      [['worker', 'lib.js'], /--queue is required/],
      [['worker', '--queue', 'q'], /give at least one module/],
      [['worker', '--queue', 'q', '--concurrency', '0', 'lib.js'], /integer from 1 and up for --concurrency, got '0'/],
      [['worker', '--queue', 'q', '--nope', 'lib.js'], /nope/],
    ];
    for (const [args, message] of cases) {
      const failed = await run(process.execPath, [CLI, ...args], { timeout: DEADLINE_MS }).then(
        () => assert.fail(`${args.join(' ')} should fail`),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(failed.code, 2, args.join(' '));
      assert.match(failed.stderr, message);
    }
  });
});

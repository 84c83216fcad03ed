/**
 * The `parafor worker` command itself, as real processes against a real redis-server: stopping it
 * within seconds whatever Redis does (never reached, lost), gracefully mid-job, or at once on a
 * second signal; the default concurrency; a TypeScript module with no loader on its command line;
 * and bullmq missing. Standard mode only: nothing here depends on the decorators' mode.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shutdown } from '../../../src/index.js';
import { settleWithin, sleep } from '../../helpers.js';
import { activeJobs, CLI, freePort, METHODS, RedisServer, skipReason, WorkerProcess } from './servers.js';

const QUEUE = 'worker-cli';
process.env['PARAFOR_TEST_QUEUE'] = QUEUE;
/** How long a worker with nothing to finish may take to exit once told to stop. */
const EXIT_MS = 5000;
let redis: RedisServer | undefined;
let methods: typeof import('../../fixtures/queue/methods.js');
/** Every process a test started, to kill at the end whatever happened. */
const children: ChildProcess[] = [];
const skip =
  skipReason() ?? (import.meta.url.includes('/legacy/') ? 'the standard build covers parafor worker' : undefined);

/** A `parafor` process started with `args` as they are (no option added), its stderr collected. */
class Cli {
  readonly child: ChildProcess;
  log = '';
  readonly #exited: Promise<number | null>;

  constructor(args: readonly string[], nodeArgs: readonly string[] = [], cwd = process.cwd()) {
    this.child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.log += text));
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    children.push(this.child);
  }

  /** Resolves once `pattern` appears on its stderr; rejects if it exits first or `ms` pass. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`parafor exited (${this.child.exitCode}): ${this.log}`);
      if (Date.now() > deadline) throw new Error(`parafor never said ${String(pattern)}: ${this.log}`);
      await sleep(25);
    }
  }

  /** Its exit code once it exits, or 'still running' if it has not within `ms`. */
  async exitWithin(ms: number): Promise<number | null | 'still running'> {
    const settled = await settleWithin(this.#exited, ms);
    return 'value' in settled ? settled.value : 'still running';
  }
}

before(async () => {
  if (skip !== undefined) return;
  redis = await RedisServer.start();
  process.env['PARAFOR_TEST_REDIS'] = redis.url;
  methods = await import('../../fixtures/queue/methods.js');
});

/** Kills what a test left running (it failed before it stopped them), so that the next test has the queue to itself. */
async function killLeftovers(): Promise<void> {
  const left = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    left.map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

afterEach(killLeftovers);

after(async () => {
  await shutdown();
  await killLeftovers();
  await redis?.close();
});

/** `parafor worker` on the test's queue, through servers.ts, started and ready. */
async function startWorker(options: Parameters<typeof WorkerProcess.start>[2]): Promise<WorkerProcess> {
  const worker = await WorkerProcess.start(redis!, QUEUE, options);
  children.push(worker.child);
  return worker;
}

/** Waits until `count` jobs of the queue are running. */
const running = (count: number): Promise<void> => activeJobs(redis!.url, QUEUE, count);

describe('parafor worker', { skip }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`never reached Redis (a closed port): says it cannot reach it, and ${signal} ends it within seconds, exit 0`, async () => {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const worker = new Cli(['worker', '--connection', url, '--queue', QUEUE, METHODS]);
      await worker.waitFor(/cannot reach Redis/);
      // A few attempts to connect go by: it is between two of them, not at its first.
      await sleep(600);
      const stoppedAt = Date.now();
      worker.child.kill(signal);
      assert.equal(await worker.exitWithin(EXIT_MS), 0, worker.log);
      assert.ok(Date.now() - stoppedAt < EXIT_MS);
      const where = url.replaceAll('.', '\\.').replaceAll('/', '\\/');
      assert.match(worker.log, new RegExp(`cannot reach Redis at ${where} \\(.*ECONNREFUSED.*\\); retrying`));
      assert.doesNotMatch(worker.log, /lost the connection|ready:/);
      assert.match(worker.log, new RegExp(`${signal}: stopping after 0 running job`));
    });
  }

  it('never reached Redis, then Redis starts: the worker starts too', async () => {
    const late = await RedisServer.start();
    try {
      await late.stop();
      const worker = new Cli(['worker', '--connection', late.url, '--queue', QUEUE, METHODS]);
      await worker.waitFor(/cannot reach Redis/);
      await late.restart();
      await worker.waitFor(/ready:/);
      assert.match(worker.log, /reached Redis at redis:\/\/127\.0\.0\.1:\d+\n.*ready: queue 'worker-cli'/);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exitWithin(EXIT_MS), 0, worker.log);
    } finally {
      await late.close();
    }
  });

  it('lost Redis: SIGTERM still ends it within seconds, exit 0', async () => {
    const gone = await RedisServer.start();
    try {
      const worker = new Cli(['worker', '--connection', gone.url, '--queue', QUEUE, METHODS]);
      await worker.waitFor(/ready:/);
      await gone.stop();
      await worker.waitFor(/lost the connection to Redis/);
      worker.child.kill('SIGTERM');
      // Closing waits a few seconds for a Redis that might answer, never for ever.
      assert.equal(await worker.exitWithin(10_000), 0, worker.log);
    } finally {
      await gone.close();
    }
  });

  it('SIGINT: a worker finishes its running job, then exits 0', async () => {
    const worker = await startWorker({ concurrency: 1 });
    // A decorated method takes an array of its parameter: its type says the parameter's.
    const call = settleWithin((new methods.Shards() as any).busy([1500]) as Promise<number[]>, 20_000);
    await running(1);
    assert.equal(await worker.stop('SIGINT'), 0);
    assert.match(worker.log, /SIGINT: stopping after 1 running job/);
    // No other worker: the result is the one this worker stored before it exited.
    assert.deepEqual(await call, { value: [1500] });
  });

  it('a second signal lets the running job go: the worker exits at once, and another worker runs the job', async () => {
    const worker = await startWorker({ concurrency: 1 });
    const call = settleWithin((new methods.Shards() as any).where([3000]) as Promise<unknown>, 30_000);
    await running(1);
    worker.child.kill('SIGTERM');
    await worker.waitFor(/SIGTERM: stopping after 1 running job/);
    const stoppedAt = Date.now();
    assert.equal(await worker.stop('SIGINT'), 0);
    assert.ok(Date.now() - stoppedAt < 2500, `it took ${Date.now() - stoppedAt} ms to exit`);
    assert.match(worker.log, /SIGINT again: letting 1 running job\(s\) go/);
    // Its job's lock expires, and the next worker takes it and runs it from the start.
    const next = await startWorker({ concurrency: 1 });
    assert.deepEqual(await call, { value: [{ pid: next.child.pid, ms: 3000 }] });
    assert.equal(await next.stop(), 0);
  });

  it('the default --concurrency is the number of cores, which it says when ready', async () => {
    const worker = new Cli(['worker', '--connection', redis!.url, '--queue', QUEUE, METHODS]);
    await worker.waitFor(/ready:/, 20_000);
    assert.match(
      worker.log,
      new RegExp(`ready: queue '${QUEUE}' on ${redis!.url.replaceAll('.', '\\.')}, ${availableParallelism()} at once`),
    );
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exitWithin(EXIT_MS), 0, worker.log);
  });

  it('refuses two modules with the same name in their packages, and a symbolic link names its target', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parafor-worker-twins-'));
    try {
      for (const side of ['a', 'b']) {
        await mkdir(join(dir, side));
        await writeFile(join(dir, side, 'package.json'), JSON.stringify({ name: 'twin', type: 'module' }));
        await writeFile(join(dir, side, 'lib.mjs'), 'export const nothing = 0;\n');
      }
      const twins = new Cli(
        ['worker', '--connection', redis!.url, '--queue', QUEUE, 'a/lib.mjs', 'b/lib.mjs'],
        [],
        dir,
      );
      assert.equal(await twins.exitWithin(20_000), 1, twins.log);
      assert.match(twins.log, /lib\.mjs and b\/lib\.mjs have the same name in their packages, twin\/lib\.mjs/);
      // A link to a module is that module: given both, the worker sees one module twice.
      await symlink(join(dir, 'a', 'lib.mjs'), join(dir, 'link.mjs'));
      const linked = new Cli(
        ['worker', '--connection', redis!.url, '--queue', QUEUE, 'a/lib.mjs', 'link.mjs'],
        [],
        dir,
      );
      assert.equal(await linked.exitWithin(20_000), 1, linked.log);
      assert.match(linked.log, /and link\.mjs have the same name in their packages, twin\/lib\.mjs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without bullmq, it says what to install and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parafor-worker-cli-'));
    try {
      // As in optional.test.ts: a resolve hook that finds neither package, as where they are not installed.
      const hooks =
        'export async function resolve(specifier, context, next) {\n' +
        "  if (specifier === 'bullmq' || specifier === 'ioredis') {\n" +
        "    throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });\n" +
        '  }\n' +
        '  return next(specifier, context);\n' +
        '}\n';
      await writeFile(join(dir, 'hooks.mjs'), hooks);
      await writeFile(
        join(dir, 'register.mjs'),
        "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n",
      );
      await writeFile(join(dir, 'lib.mjs'), 'export const nothing = 0;\n');
      const worker = new Cli(
        ['worker', '--connection', redis!.url, '--queue', QUEUE, join(dir, 'lib.mjs')],
        ['--import', join(dir, 'register.mjs')],
      );
      assert.equal(await worker.exitWithin(20_000), 1, worker.log);
      assert.match(worker.log, /^parafor worker: .*bullmq \(or its Redis client, ioredis\) is not installed/m);
      assert.match(worker.log, /npm install bullmq ioredis/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Last: it registers tsx in this process, for the caller's side.
  it('imports a .ts module with no TypeScript loader on its command line, and runs its methods', async () => {
    // Beside the compiled fixtures, so that it imports the parafor the worker runs (the same build).
    const source = fileURLToPath(new URL('../../../../../test/fixtures/queue/typescript-module.ts', import.meta.url));
    const copy = join(fileURLToPath(new URL('../../fixtures/queue/', import.meta.url)), 'typescript-module.ts');
    await copyFile(source, copy);
    try {
      const worker = await startWorker({ modules: [copy], concurrency: 1 });
      assert.ok(!worker.child.spawnargs.some((arg) => /tsx/.test(arg)), worker.child.spawnargs.join(' '));
      // The caller imports the same file, with tsx in this process.
      const tsx = (await import('tsx/esm/api')) as { register(): unknown };
      tsx.register();
      const { Geometry } = (await import(
        pathToFileURL(copy).href
      )) as typeof import('../../fixtures/queue/typescript-module.js');
      const points = [
        { x: 3, y: 4 },
        { x: 5, y: 12 },
      ];
      const settled = await settleWithin((new Geometry() as any).norm(points) as Promise<unknown>, 20_000);
      assert.deepEqual(settled, {
        value: [
          { norm: 5, pid: worker.child.pid },
          { norm: 13, pid: worker.child.pid },
        ],
      });
      assert.equal(await worker.stop(), 0);
    } finally {
      await rm(copy, { force: true });
    }
  });
});

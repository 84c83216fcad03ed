/**
 * The queue executor against a real redis-server and two real `parafor worker` processes: every
 * `as` and `results`, values JSON would lose, remote errors, tiny shards in batches, a timeout, the
 * keys left in Redis, and a program that exits by itself. The whole file runs in standard mode;
 * legacy mode runs one call (the executor does not depend on the decorators' mode).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { getDistribution, parallel, ShardError, shutdown } from '../../../src/index.js';
import { queueExecutor } from '../../../src/queue.js';
import { range, settleWithin } from '../../helpers.js';
import { callKeys, METHODS, quietClient, RedisServer, skipReason, streamEntries, WorkerProcess } from './servers.js';

const skip = skipReason();
const QUEUE = 'results';
process.env['PARAFOR_TEST_QUEUE'] = QUEUE;
let redis: RedisServer | undefined;
const workers: WorkerProcess[] = [];
// The methods read Redis's address from the environment when their module loads: after before().
let methods: typeof import('../../fixtures/queue/methods.js');

before(async () => {
  if (skip !== undefined) return;
  redis = await RedisServer.start();
  process.env['PARAFOR_TEST_REDIS'] = redis.url;
  methods = await import('../../fixtures/queue/methods.js');
  workers.push(...(await Promise.all([WorkerProcess.start(redis, QUEUE), WorkerProcess.start(redis, QUEUE)])));
});

after(async () => {
  await shutdown();
  await Promise.all(workers.map((worker) => worker.stop()));
  await redis?.close();
});

/** The test methods; typed loosely, as a method written for one item is typed for one item at call sites. */
const make = (offset = 0): any => new methods.Shards(offset);
/** `parallel()`'s view of a call with options of its own, typed as loosely. */
const view = (target: object, options: object): any => parallel(target, options);

const legacy = (): boolean => getDistribution(methods.Shards.prototype, 'square')?.decorators === 'legacy';

describe('queue executor: results', { skip }, () => {
  it('returns every result in input order, with `this` rebuilt in the worker', async () => {
    const shards = make(1);
    assert.deepEqual(
      await shards.square(range(10)),
      range(10).map((x) => x * x + 1),
    );
  });

  it("every `as` and `results` behaves as with 'worker'", async (t) => {
    if (legacy()) return t.skip('standard mode covers the shapes');
    const shards = make();
    const input = range(12);
    const squares = input.map((x) => x * x);
    assert.deepEqual(
      await view(shards, { results: 'entries' }).square(input),
      input.map((x) => ({ index: x, shard: x, value: x * x })),
    );
    const settled = (await view(shards, { results: 'settled', stopOnError: false }).oddFails(range(4))) as any[];
    assert.deepEqual(
      settled.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected'],
    );
    assert.equal(settled[1].reason.cause.code, 'E_ODD');
    const ordered: unknown[] = [];
    for await (const value of view(shards, { as: 'ordered' }).square(input)) ordered.push(value);
    assert.deepEqual(ordered, squares);
    const completed: number[] = [];
    for await (const value of view(shards, { as: 'completed' }).square(input)) completed.push(value as number);
    assert.deepEqual(
      completed.sort((a, b) => a - b),
      squares,
    );
    const entries: unknown[] = [];
    for await (const entry of view(shards, { as: 'completed', results: 'entries' }).square([3, 4])) {
      entries.push(entry);
    }
    assert.deepEqual(
      entries.sort((a: any, b: any) => a.index - b.index),
      [
        { index: 0, shard: 3, value: 9 },
        { index: 1, shard: 4, value: 16 },
      ],
    );
  });

  it('keeps what the structured clone keeps (Map, Date, BigInt, undefined)', async (t) => {
    if (legacy()) return t.skip('standard mode covers values');
    const [value] = await make().rich([5]);
    assert.deepEqual(value, { map: new Map([['x', 5]]), date: new Date(5), big: 5n, none: undefined });
  });

  it("a shard that throws is a ShardError whose cause has the remote error's name, message, stack and own properties", async (t) => {
    if (legacy()) return t.skip('standard mode covers errors');
    const error = await make()
      .oddFails([0, 1, 2])
      .then(
        () => assert.fail('should reject'),
        (thrown: unknown) => thrown,
      );
    assert.ok(error instanceof ShardError);
    assert.equal(error.index, 1);
    const cause = error.cause as any;
    assert.equal(cause.name, 'OddError');
    assert.equal(cause.message, 'odd 1');
    assert.equal(cause.code, 'E_ODD');
    assert.deepEqual(cause.detail, { n: 1 });
    assert.match(cause.stack, /oddFails/);
  });

  it('runs tiny shards in batches: 20,000 shards, far fewer jobs', async (t) => {
    if (legacy()) return t.skip('standard mode covers batching');
    const input = range(20_000);
    // BullMQ counts every job added in the queue's `id` key, custom ids too.
    const jobs = async (): Promise<number> => Number(await (await redisClient()).get(`bull:${QUEUE}:id`));
    const before = await jobs();
    const results: number[] = await make().square(input);
    assert.equal(results.length, input.length);
    assert.ok(results.every((value, i) => value === i * i));
    const added = (await jobs()) - before;
    assert.ok(added < input.length / 10, `${added} jobs for ${input.length} shards`);
  });

  it('spreads jobs over both workers', async (t) => {
    if (legacy()) return t.skip('standard mode covers spreading');
    // Each worker runs 2 at once: 8 jobs of 300 ms keep more than one worker busy.
    const ran = await view(make(), { concurrency: 8 }).where(range(8).map(() => 300));
    const pids = new Set(ran.map(({ pid }: { pid: number }) => pid));
    assert.equal(pids.size, 2, `ran in ${[...pids].join(', ')}`);
    assert.ok(!pids.has(process.pid));
  });

  it('a timeout stops a shard that runs too long, and the others still return', async (t) => {
    if (legacy()) return t.skip('standard mode covers timeouts');
    const outcomes = (await view(make(), {
      timeout: 1500,
      results: 'settled',
      stopOnError: false,
    }).busy([10, 0, 20])) as any[];
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String(outcomes[1].reason), /timeout|time/i);
  });

  it('retries and onProgress work through the engine, as with every executor', async (t) => {
    if (legacy()) return t.skip('standard mode covers retries');
    const dir = await mkdtemp(join(tmpdir(), 'parafor-queue-retries-'));
    try {
      const seen: { done: number; retries: number }[] = [];
      const files = [join(dir, 'a'), join(dir, 'b')];
      const attempts = await view(make(), {
        retries: { limit: 2, minDelay: 10 },
        onProgress: ({ done, retries }: { done: number; retries: number }) => seen.push({ done, retries }),
      }).flaky(files);
      assert.deepEqual(attempts, [2, 2]);
      assert.deepEqual(seen.at(-1), { done: 2, retries: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no key of its calls in Redis, only the queue’s fixed keys', async () => {
    await make().square(range(50));
    // Removals are sent as results are read: they land within moments.
    let left: string[] = [];
    for (let i = 0; i < 40; i++) {
      left = callKeys(await redis!.keys(), QUEUE);
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(left, []);
  });

  it('the events stream keeps no shard and no result: only job ids, event names and markers', async (t) => {
    if (legacy()) return t.skip('standard mode covers the stream');
    await make().rich(range(30));
    await view(make(), { results: 'settled', stopOnError: false }).oddFails(range(6));
    const entries = await streamEntries(redis!.url, `bull:${QUEUE}:events`);
    assert.ok(entries.length > 0);
    for (const entry of entries) {
      // BullMQ copies a job's return value into its `completed` event: here only the marker.
      if (entry['event'] === 'completed') assert.equal(entry['returnvalue'], '{"logged":true}');
      for (const [field, value] of Object.entries(entry)) {
        assert.ok(value.length < 100, `the ${entry['event']} event keeps ${field} of ${value.length} chars`);
      }
    }
    // The stream is bounded well below BullMQ's 10,000 events (trimmed by whole nodes of 100).
    const client = quietClient(redis!.url);
    try {
      assert.equal(await client.hget(`bull:${QUEUE}:meta`, 'opts.maxLenEvents'), '1000');
    } finally {
      client.disconnect();
    }
  });

  it('every result comes back when the events stream delivers nothing (reconciliation by job id alone)', async (t) => {
    if (legacy()) return t.skip('standard mode covers missed events');
    // A Redis user that may do everything but read streams: the executor's QueueEvents never hears
    // an event, as when every event was trimmed before it was read.
    const admin = quietClient(redis!.url);
    await admin.call('ACL', 'SETUSER', 'deaf', 'on', '>deaf', '~*', '&*', '+@all', '-xread');
    const deaf = queueExecutor({
      connection: redis!.url.replace('//', '//deaf:deaf@'),
      queue: QUEUE,
      connectTimeout: 3000,
      idleTimeout: 100,
    });
    try {
      const started = Date.now();
      const input = range(24);
      const squares = await view(make(), { executor: deaf }).square(input);
      assert.deepEqual(
        squares,
        input.map((x) => x * x),
      );
      const entries = await view(make(), { executor: deaf, concurrency: 3 }).where([50, 50, 50, 50, 50, 50]);
      assert.equal(entries.length, 6);
      // Each round of reading the jobs' state is 500 ms apart: a few rounds.
      assert.ok(Date.now() - started < 8000, `${Date.now() - started} ms`);
    } finally {
      await deaf.shutdown?.();
      await admin.call('ACL', 'DELUSER', 'deaf');
      admin.disconnect();
    }
  });

  it('declares bullmq and ioredis as optional peer dependencies, with ranges the tested versions meet', async () => {
    const read = async (path: string): Promise<any> => JSON.parse(await readFile(path, 'utf8'));
    const own = await read('package.json');
    for (const name of ['bullmq', 'ioredis']) {
      assert.equal(own.peerDependenciesMeta?.[name]?.optional, true, name);
      const range = own.peerDependencies?.[name];
      assert.equal(typeof range, 'string', `no peerDependencies range for ${name}`);
      // A caret range on the major of the devDependency, from at most the version tested.
      const [major, minor, patch] = String(range).replace(/^\^/, '').split('.').map(Number);
      const installed = (await read(`node_modules/${name}/package.json`)).version as string;
      const [iMajor, iMinor, iPatch] = installed.split('.').map(Number);
      assert.match(range, /^\^\d+\.\d+\.\d+$/);
      assert.equal(iMajor, major, `${name} ${installed} against ${range}`);
      const older = iMinor! < minor! || (iMinor === minor && iPatch! < patch!);
      assert.ok(!older, `${name} ${installed} is older than ${range}`);
      assert.equal(String(own.devDependencies[name]).replace(/^\^/, '').split('.')[0], String(major));
    }
  });

  it('a program exits by itself after its calls, without shutdown()', async (t) => {
    if (legacy()) return t.skip('standard mode covers exiting');
    const dir = await mkdtemp(join(tmpdir(), 'parafor-queue-exit-'));
    try {
      const script = join(dir, 'main.mjs');
      await writeFile(
        script,
        `const { Shards } = await import(${JSON.stringify(pathToFileURL(METHODS).href)});\n` +
          'console.log(JSON.stringify(await new Shards().square([1, 2, 3])));\n',
      );
      const started = promisify(execFile)(process.execPath, [script], {
        env: { ...process.env, PARAFOR_TEST_REDIS: redis!.url, PARAFOR_TEST_QUEUE: QUEUE },
        timeout: 30_000,
      });
      const settled = await settleWithin(started, 30_000);
      assert.ok('value' in settled, `the program did not exit: ${String((settled as any).error)}`);
      assert.equal(settled.value.stdout.trim(), '[1,4,9]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

let client: import('ioredis').Redis | undefined;
async function redisClient(): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  client ??= new Redis(redis!.url);
  return client;
}
after(() => client?.disconnect());

/**
 * Concurrency holds after a timeout: a timed-out shard's slot comes back only once its worker is
 * gone, not when its task is cancelled, within one call and across calls sharing a pool. Shards
 * hold a connection to a server here while they occupy a worker (see fixtures/workers/slots.ts).
 * Runs in both decorator modes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getDistribution, parallel, shutdown, ShardTimeoutError } from '../../../src/index.js';
import { sharedPool } from '../../../src/executors/pool/pool.js';
import { Slots, type Hold } from '../../fixtures/workers/slots.js';

const mode = getDistribution(Slots.prototype, 'hold')?.decorators;

/** Counts the shards holding a connection at once: in all, and per call. */
class Counter {
  readonly server: Server;
  now = 0;
  max = 0;
  readonly perCall = new Map<string, { now: number; max: number }>();
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => this.#open(socket));
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  reset(): void {
    this.max = this.now;
    this.perCall.clear();
  }

  #open(socket: Socket): void {
    this.#sockets.add(socket);
    this.max = Math.max(this.max, ++this.now);
    let call: { now: number; max: number } | undefined;
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (call !== undefined || !text.includes('\n')) return;
      const name = text.slice(0, text.indexOf('\n'));
      call = this.perCall.get(name) ?? { now: 0, max: 0 };
      this.perCall.set(name, call);
      call.max = Math.max(call.max, ++call.now);
    });
    // A connection ends when its shard lets go or its worker is gone, whichever way.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.now--;
      if (call !== undefined) call.now--;
    });
    socket.on('end', () => socket.end());
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.server.close();
    return once(this.server, 'close').then(() => undefined);
  }
}

const counter = new Counter();
before(async () => {
  counter.server.listen(0, '127.0.0.1');
  await once(counter.server, 'listening');
});
after(async () => {
  await shutdown();
  await counter.close();
});

function shards(call: string, pattern: string, ms = 30): Hold[] {
  return [...pattern].map((c) => ({ call, stuck: c === 'x', ms }));
}

for (const executor of ['worker', 'process'] as const) {
  describe(`'${executor}': a timed-out shard's slot comes back when its worker is gone (${mode} mode)`, () => {
    it('with concurrency: 1, the next shard never runs beside a timed-out one that keeps running', async () => {
      counter.reset();
      const settled = await parallel(new Slots(), {
        executor,
        concurrency: 1,
        timeout: 400,
        results: 'settled',
      }).hold(shards('one', 'x.x.'), counter.port);
      assert.deepEqual(
        settled.map((s) => s.status),
        ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      const failed = settled[0];
      if (failed?.status === 'rejected') assert.ok(failed.reason.cause instanceof ShardTimeoutError);
      assert.equal(counter.perCall.get('one')?.max, 1, 'never two shards at once');
    });

    it('concurrent calls on the shared pool never run more shards than the pool has workers, nor a call more than its concurrency', async () => {
      counter.reset();
      const calls = ['a', 'b', 'c', 'd'].map((call, i) =>
        parallel(new Slots(), { executor, concurrency: 2, timeout: 400, results: 'settled' }).hold(
          shards(call, i % 2 === 0 ? 'x..x..' : '.x...x', 20),
          counter.port,
        ),
      );
      const settled = await Promise.all(calls);
      for (const results of settled) {
        assert.equal(results.filter((s) => s.status === 'rejected').length, 2, 'each stuck shard timed out');
      }
      const size = sharedPool(executor).size;
      assert.ok(counter.max <= size, `at most ${size} shards at once, saw ${counter.max}`);
      for (const [call, { max }] of counter.perCall) assert.ok(max <= 2, `call ${call} ran ${max} at once`);
    });
  });
}

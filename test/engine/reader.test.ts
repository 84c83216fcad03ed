/**
 * Iterators that break the protocol (issue 8, #6 and #13): whatever `next()`, `return()` or their
 * results do, the call settles with a ShardSourceError naming the method and the index being read
 * (or, when only the closing fails, a PARAFOR_CLEANUP_FAILED warning), nothing is left unhandled, and
 * a program that meets them all exits by itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parallel, ShardError, ShardSourceError } from '../../src/index.js';
import { badlyClosingSources, failingSources, Sources } from '../fixtures/workers/fuzz-sources.js';
import { collect, settleWithin, unhandledRejections, until, warningsWith } from '../helpers.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/workers/fuzz-sources-main.js', import.meta.url));

const unhandled = unhandledRejections();
after(unhandled.stop);

/** Lets a rejection nobody handles reach the 'unhandledRejection' event before the test ends. */
async function nothingUnhandled(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(unhandled.reasons, []);
}

/** What a PARAFOR_CLEANUP_FAILED warning says went wrong in closing the shards. */
function closingFailure(warning: Error | undefined): string {
  const prefix = 'parafor: closing the shards of Sources.echo failed: ';
  const message = warning?.message ?? '';
  assert.ok(message.startsWith(prefix), message);
  return message.slice(prefix.length);
}

for (const executor of ['thread', 'worker'] as const) {
  for (const as of ['array', 'completed', 'ordered'] as const) {
    describe(`a source that breaks the iterator protocol, ${executor}, as: '${as}'`, () => {
      for (const source of failingSources) {
        it(source.name, async () => {
          const view = parallel(new Sources(), { executor, as });
          const settled = await settleWithin(collect(() => view.echo(source.shards() as Iterable<number>)));
          assert.ok('error' in settled, 'the call must fail');
          const { error } = settled;
          assert.ok(error instanceof ShardSourceError, String(error));
          assert.equal(error.method, 'Sources.echo');
          assert.equal(error.index, source.index);
          const cause = error.cause as Error;
          assert.equal(cause instanceof TypeError, source.typeError, String(cause));
          assert.match(cause.message, source.cause);
          assert.equal(
            error.message,
            `Sources.echo: Reading shard ${source.index} from the shards failed: ${cause.name}: ${cause.message}`,
          );
          await nothingUnhandled();
        });
      }
    });
  }

  describe(`a source whose closing fails, ${executor}`, () => {
    for (const source of badlyClosingSources) {
      it(`${source.name}: break ends the loop, the failure is a warning`, async () => {
        const { warnings, stop } = warningsWith('PARAFOR_CLEANUP_FAILED');
        try {
          const view = parallel(new Sources(), { executor, as: 'completed' });
          const seen: number[] = [];
          for await (const value of view.echo(source.shards() as Iterable<number>)) {
            seen.push(value);
            if (seen.length === 3) break;
          }
          assert.equal(seen.length, 3);
          await until(() => warnings.length > 0);
          assert.match(closingFailure(warnings[0]), source.warning);
          await nothingUnhandled();
        } finally {
          stop();
        }
      });

      it(`${source.name}: a failing shard still fails the call with its own error, the closing is a warning`, async () => {
        const { warnings, stop } = warningsWith('PARAFOR_CLEANUP_FAILED');
        try {
          const view = parallel(new Sources(), { executor });
          // Shard 0 is -1, which the method refuses: fail-fast stops the call and closes the source.
          const settled = await settleWithin(view.echo(source.shards(-1) as Iterable<number>));
          assert.ok(
            'error' in settled && settled.error instanceof ShardError,
            "the call must fail with the shard's error",
          );
          assert.equal(settled.error.index, 0);
          await until(() => warnings.length > 0);
          assert.match(closingFailure(warnings[0]), source.warning);
          await nothingUnhandled();
        } finally {
          stop();
        }
      });
    }
  });
}

describe('what is and is not closed', () => {
  it('an iterator whose reading failed is not closed, as for…of leaves it', async () => {
    let closed = 0;
    let calls = 0;
    const shards = {
      [Symbol.iterator]: () => ({
        next: () => (++calls === 1 ? { done: false, value: 1 } : 42),
        return: () => {
          closed++;
          return {};
        },
      }),
    } as unknown as Iterable<number>;
    await assert.rejects(parallel(new Sources()).echo(shards), ShardSourceError);
    assert.equal(closed, 0);
  });

  it('an iterator left before its end is closed once; one read to its end is not', async () => {
    let closed = 0;
    const counting = (limit: number): Iterable<number> => ({
      [Symbol.iterator]: () => {
        let i = 0;
        return {
          next: () => (i < limit ? { done: false, value: i++ } : { done: true, value: undefined }),
          return: () => {
            closed++;
            return { done: true, value: undefined };
          },
        };
      },
    });
    assert.deepEqual(await parallel(new Sources()).echo(counting(3)), [0, 1, 2]);
    assert.equal(closed, 0);
    for await (const value of parallel(new Sources(), { as: 'ordered' }).echo(counting(100))) if (value === 1) break;
    assert.equal(closed, 1);
  });

  it('a truthy `done` ends the input, as for…of reads it', async () => {
    let i = 0;
    const shards = {
      [Symbol.iterator]: () => ({ next: () => (i < 2 ? { done: 0, value: i++ } : { done: 1 }) }),
    } as unknown as Iterable<number>;
    assert.deepEqual(await parallel(new Sources()).echo(shards), [0, 1]);
  });
});

describe('a program that meets every misbehaving source', () => {
  for (const executor of ['thread', 'worker', 'process']) {
    it(`exits by itself with nothing unhandled (${executor})`, async () => {
      const { stdout } = await run(process.execPath, ['--unhandled-rejections=strict', fixture], {
        env: { ...process.env, EXECUTOR: executor },
        timeout: 60_000,
      });
      const seen = JSON.parse(stdout) as { sourceErrors: number; broken: number; warnings: number };
      assert.deepEqual(seen, {
        sourceErrors: failingSources.length * 2,
        broken: badlyClosingSources.length,
        warnings: badlyClosingSources.length,
      });
    });
  }
});

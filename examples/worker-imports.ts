/**
 * A method that uses its module's imports (node:zlib, node:crypto) and module-level state, run in
 * worker threads by reference. Errors from the worker keep their name, message, stack and own
 * properties, but not their class. Run it: `npx tsx examples/worker-imports.ts`.
 */
import { parallel, ShardError } from '../src/index.js';
import { NotFoundError, Summarizer } from './worker-imports-lib.js';

const texts = Array.from({ length: 8 }, (_, i) =>
  `Text ${i}: the quick brown fox jumps over the lazy dog `.repeat(2000 * (i + 1)),
);
const library = new Map([
  ['fox', texts[0]!],
  ['proverb', 'A stitch in time saves nine, and a penny saved is a penny earned.'],
]);
const summarizer = new Summarizer(9, 'doc', library);

console.log('Summaries made in the workers (shard, words, distinct words, deflated size, hash):');
for (const summary of await parallel(summarizer).summarize(texts)) {
  console.log(
    `  #${summary.index}: ${summary.words} words, ${summary.distinct} distinct, ${summary.compressedBytes} bytes deflated, ${summary.sha256}`,
  );
}

// A custom error thrown in a worker: its class stays there, its name, code, message and stack come back.
try {
  await parallel(summarizer).distinctWordsOf(['proverb', 'fox', 'moby-dick']);
} catch (error) {
  if (!(error instanceof ShardError)) throw error;
  const cause = error.cause as Error & { code?: string; title?: string };
  console.log(`\nA NotFoundError thrown in a worker:\n  ${error.message}`);
  console.log(`  cause.name:    ${cause.name}`);
  console.log(`  cause.code:    ${cause.code}`);
  console.log(`  cause.title:   ${cause.title}`);
  console.log(`  cause.message: ${cause.message}`);
  console.log(`  cause instanceof NotFoundError: ${cause instanceof NotFoundError} (a plain Error: test name or code)`);
  const stack = (cause.stack ?? '').split('\n').slice(0, 3);
  console.log(`  cause.stack, from the worker:\n${stack.map((line) => `    ${line.trim()}`).join('\n')}`);
}

// A shard that cannot be copied to a worker fails alone, naming the path of what cannot be copied.
try {
  await parallel(summarizer).summarize([{ toString: () => 'not plain data' } as unknown as string]);
} catch (error) {
  console.log(
    `\nA shard that cannot be copied to a worker:\n  ${error instanceof ShardError ? error.message : String(error)}`,
  );
}

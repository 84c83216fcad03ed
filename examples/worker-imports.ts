/**
 * A method that uses its module's imports (node:zlib, node:crypto) and module-level state, run in
 * worker threads by reference. Errors from the worker keep their class name, message, stack and
 * properties. Run it: `npx tsx examples/worker-imports.ts`.
 */
import { parallel, ShardError } from '../src/index.js';
import { Summarizer } from './worker-imports-lib.js';

const texts = Array.from({ length: 8 }, (_, i) =>
  `Text ${i}: the quick brown fox jumps over the lazy dog `.repeat(2000 * (i + 1)),
);
const summarizer = new Summarizer(9, 'doc');

for (const summary of await parallel(summarizer).summarize(texts)) {
  console.log(
    `  #${summary.index}: ${summary.words} words, ${summary.distinct} distinct, ${summary.compressedBytes} bytes deflated, ${summary.sha256}`,
  );
}

// A shard that cannot be copied to a worker fails alone, naming the path of what cannot be copied.
try {
  await parallel(summarizer).summarize([{ toString: () => 'not plain data' } as unknown as string]);
} catch (error) {
  console.log(`\n  ${error instanceof ShardError ? error.message : String(error)}`);
}

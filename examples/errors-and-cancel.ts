/**
 * What happens when things go wrong inside a parallel loop, and how to stop one.
 *
 * 1. The function form: `distribute(fn, options)`, no class needed, typed honestly.
 * 2. Fail fast (the default): the first failure rejects the call with a `ShardError`.
 * 3. `stopOnError: false`: every shard runs; failures come together in an `AggregateError`.
 * 4. `signal`: cancel a whole call from outside, e.g. on a deadline.
 * 5. `timeout`: give up on one slow shard, not the whole call.
 * 6. Bad input: a `TypeError` at once, before any shard runs.
 *
 * Run it: `npx tsx examples/errors-and-cancel.ts`.
 */
import { currentShard, distribute, ShardError, ShardTimeoutError } from '../src/index.js';
import { setTimeout as delay } from 'node:timers/promises';

// Node's own sleep: it ends early, rejecting, when the shard is told to stop (its slot is freed at once).
const sleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, signal ? { signal } : {});

// A pretend price service: 100 ms per lookup, slower for some products, and it knows no "unknown-*".
let started = 0;
async function lookUpPrice(product: string, currency: string): Promise<string> {
  started++;
  const { signal } = currentShard()!; // inside a shard, always set
  await sleep(product.startsWith('slow-') ? 2000 : 100, signal);
  if (product.startsWith('unknown-')) throw new RangeError(`no such product: ${product}`);
  return `${product}: ${(product.length * 1.25).toFixed(2)} ${currency}`;
}

const products = ['apple', 'pear', 'fig', 'plum', 'kiwi', 'lime', 'date', 'quince'];

// -------------------------------------------------------------------------------------------------
// 1. The function form. A named function gives better error messages (`lookUpPrice failed on …`).
//    Arguments after the shards (here the currency) are passed to every call.
// -------------------------------------------------------------------------------------------------
const lookUpPrices = distribute(lookUpPrice, { concurrency: 4 });
const prices: string[] = await lookUpPrices(products, 'EUR');
console.log('1. function form:', prices);

// -------------------------------------------------------------------------------------------------
// 2. Fail fast. The first failing shard rejects the call; no new shard starts after it.
// -------------------------------------------------------------------------------------------------
const withTypos = ['apple', 'unknown-pearr', 'fig', 'plum', 'kiwi', 'lime', 'date', 'quince', 'unknown-lyme'];
started = 0;
try {
  await lookUpPrices(withTypos, 'EUR');
} catch (error) {
  if (!(error instanceof ShardError)) throw error;
  console.log('\n2. fail fast:', error.message);
  console.log(`   method ${error.method}, index ${error.index}, shard ${String(error.shard)}`);
  console.log(`   cause: ${String(error.cause)} (a ${(error.cause as Error).constructor.name})`);
  console.log(`   ${started} of ${withTypos.length} lookups started before the call stopped`);
}

// -------------------------------------------------------------------------------------------------
// 3. Let every shard run, then hear about all the failures at once.
// -------------------------------------------------------------------------------------------------
const lookUpAll = distribute(lookUpPrice, { concurrency: 4, stopOnError: false });
started = 0;
try {
  await lookUpAll(withTypos, 'EUR');
} catch (error) {
  if (!(error instanceof AggregateError)) throw error;
  console.log('\n3. stopOnError: false:', error.message);
  for (const shardError of error.errors as ShardError[]) {
    console.log(`   #${shardError.index} ${String(shardError.shard)}: ${String(shardError.cause)}`);
  }
  console.log(`   ${started} of ${withTypos.length} lookups ran`);
}
// To keep the successful results as well, use `results: 'settled'` (see examples/http-crawl.ts).

// -------------------------------------------------------------------------------------------------
// 4. Cancel a whole call. Aborting the signal stops the fan-out: no new shard starts, running ones see
//    their own signal abort, and the call rejects with the signal's reason (not a ShardError).
//    `AbortSignal.timeout(ms)` is a deadline for the whole call.
// -------------------------------------------------------------------------------------------------
const many = Array.from({ length: 40 }, (_, i) => `item-${i}`);
started = 0;
const start = performance.now();
try {
  // The function form takes its options once, so a signal for one call means wrapping for that call.
  await distribute(lookUpPrice, { concurrency: 4, signal: AbortSignal.timeout(250) })(many, 'EUR');
} catch (error) {
  const { name, message } = error as Error;
  const ms = (performance.now() - start).toFixed(0);
  console.log(`\n4. deadline: rejected after ${ms} ms with ${name}: ${message}`);
  console.log(`   ${started} of ${many.length} lookups started`);
}

// A signal you control, e.g. from a "cancel" button or process.on('SIGINT').
const controller = new AbortController();
setTimeout(() => controller.abort(new Error('cancelled by the user')), 150);
try {
  await distribute(lookUpPrice, { signal: controller.signal })(many, 'EUR');
} catch (error) {
  console.log(`   AbortController: rejected with "${(error as Error).message}"`);
}

// -------------------------------------------------------------------------------------------------
// 5. A timeout per shard, counted from when it starts: the slow one fails, the others are not affected.
// -------------------------------------------------------------------------------------------------
const patient = distribute(lookUpPrice, { timeout: 500, results: 'settled' });
const outcomes = await patient(['apple', 'slow-mango', 'fig'], 'EUR');
console.log('\n5. timeout: 500 ms per shard');
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') {
    console.log(`   #${outcome.index} ${outcome.value}`);
  } else {
    const { cause } = outcome.reason;
    const why = cause instanceof ShardTimeoutError ? `timed out after ${cause.timeout} ms` : String(cause);
    console.log(`   #${outcome.index} ${outcome.shard}: ${why}`);
  }
}

// -------------------------------------------------------------------------------------------------
// 6. Bad input fails at once, with a TypeError that says what was expected and what came.
// -------------------------------------------------------------------------------------------------
console.log('\n6. bad input:');
try {
  distribute(lookUpPrice, { concurrency: 0 });
} catch (error) {
  console.log(`   ${(error as TypeError).message}`);
}
try {
  // One product instead of a list. The types allow it (a string is an Iterable of strings), but
  // fanning out over its letters is never what was meant, so parafor refuses it.
  await lookUpPrices('apple', 'EUR');
} catch (error) {
  console.log(`   ${(error as TypeError).message}`);
}

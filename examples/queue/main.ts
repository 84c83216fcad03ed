/**
 * The queue executor end to end, on one machine. In three terminals, from the repository's root:
 *
 *   redis-server --save '' --appendonly no                                   # Redis on 6379
 *   node dist/cli/main.js worker --queue reports examples/queue/report-lib.ts # a worker (repeat for more)
 *   npx tsx examples/queue/main.ts                                          # this program
 *
 * (`npm run build` first, for dist/; tsx must be installed for the worker to import a .ts module.
 * Installed from npm, the worker command is `npx parafor worker …`.) Workers on other machines run
 * the same command with `--connection redis://<host>:6379`, from a checkout of the same code; set
 * REDIS_URL here to the same address.
 */
import { parallel } from '../../src/index.js';
import { Report } from './report-lib.js';

const ids = Array.from({ length: 64 }, (_, i) => i);
const report = new Report();
const started = performance.now();
// parallel() gives the call its types for many ids (a decorator cannot change a method's type).
const results = await parallel(report).analyze(ids);
const seconds = ((performance.now() - started) / 1000).toFixed(2);
const workers = new Set(results.map(({ pid }) => pid));
console.log(`${results.length} reports in ${seconds} s, on ${workers.size} worker process(es)`);
console.log(results.slice(0, 3));
// No shutdown() needed: the connections close once the call is over, and the program exits.

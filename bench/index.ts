/**
 * `npm run bench`: runs the suites below in order and prints, for each, a table of figures and
 * ratios measured in this run.
 *
 *   npm run bench                               every suite
 *   npm run bench -- --only thread-throughput   one suite (repeat --only, or a comma list, for more)
 *   npm run bench -- --runs 3                   timed runs per suite (default: each suite's own)
 *   npm run bench -- --strict                   exit 1 when a goal is missed
 *   npm run bench -- --list                     the suites' names
 *
 * To add a suite: write `bench/<name>.ts` exporting a {@link Suite} (see bench/harness.ts) and
 * append it to `SUITES`. A suite that measures memory runs its measurement in a fresh process
 * with `runFresh()`.
 * @module
 */
import { parseArgs } from 'node:util';
import { article } from './article.js';
import { describeMachine, renderTable, type Check, type Suite } from './harness.js';
import { streamMemory } from './stream-memory.js';
import { threadThroughput } from './thread-throughput.js';
import { cpu } from './cpu.js';
import { cpuStartup } from './cpu-startup.js';
import { tiny } from './tiny.js';
import { hostTax } from './host-tax.js';
import { mainThread } from './main-thread.js';

/** The suites, in the order they run. Append new ones here. */
export const SUITES: readonly Suite[] = [
  article,
  threadThroughput,
  streamMemory,
  cpu,
  tiny,
  mainThread,
  cpuStartup,
  hostTax,
];

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    runs: { type: 'string' },
    strict: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (values.list) {
  for (const suite of SUITES) console.log(`${suite.name.padEnd(24)} ${suite.title}`);
  process.exit(0);
}

const only = (values.only ?? []).flatMap((value) => value.split(',')).filter(Boolean);
const unknown = only.filter((name) => !SUITES.some((suite) => suite.name === name));
if (unknown.length > 0) {
  console.error(`Unknown suite ${unknown.join(', ')}; the suites are: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const runs = values.runs === undefined ? undefined : Number(values.runs);
if (runs !== undefined && !(Number.isSafeInteger(runs) && runs >= 1)) {
  console.error(`--runs expects an integer from 1, got ${values.runs}`);
  process.exit(2);
}

const selected = only.length === 0 ? SUITES : SUITES.filter((suite) => only.includes(suite.name));
const checks: { suite: string; measure: string; value: string; goal: string; check: Check }[] = [];
let failed = false;

console.log('parafor benchmarks');
for (const line of describeMachine()) console.log(`  ${line}`);

for (const suite of selected) {
  console.log(`\n== ${suite.name}: ${suite.title}`);
  const started = Date.now();
  try {
    const report = await suite.run({
      runs,
      progress: (message) => {
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K  … ${message}`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const table = [['measure', 'value', 'goal', 'verdict', 'detail']];
    for (const row of report.rows) {
      table.push([row.measure, row.value, row.goal ?? '', row.check?.verdict ?? '', row.detail ?? '']);
      if (row.check !== undefined) {
        checks.push({
          suite: suite.name,
          measure: row.measure,
          value: row.value,
          goal: row.goal ?? '',
          check: row.check,
        });
      }
    }
    console.log(renderTable(table));
    for (const note of report.notes ?? []) console.log(`  · ${note}`);
    console.log(`  (${((Date.now() - started) / 1000).toFixed(2)} s)`);
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    failed = true;
    console.log(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

if (checks.length > 0) {
  console.log('\n== summary');
  console.log(
    renderTable([
      ['suite', 'measure', 'value', 'goal', 'verdict'],
      ...checks.map(({ suite, measure, value, goal, check }) => [suite, measure, value, goal, check.verdict]),
    ]),
  );
  const missed = checks.filter(({ check }) => !check.pass).length;
  console.log(`  ${checks.length - missed} of ${checks.length} goals met${missed > 0 ? `, ${missed} missed` : ''}`);
  if (missed > 0 && values.strict) failed = true;
}

// Suites may leave timers or pools behind; the figures are printed, so end here.
process.exit(failed ? 1 : 0);

/**
 * `npm run bench`: runs the suites below in order and prints, for each, a table of figures and
 * ratios measured in this run.
 *
 *   npm run bench                               every suite
 *   npm run bench -- --only thread-throughput   one suite (repeat --only, or a comma list, for more)
 *   npm run bench -- --runs 3                   timed runs per suite (default: each suite's own)
 *   npm run bench -- --strict                   exit 1 when a goal is missed
 *   npm run bench -- --list                     the suites' names
 *   npm run bench -- --report                   also write docs/benchmarks.md and its charts (docs/benchmarks/*.svg)
 *   npm run bench -- --report --out <dir>       the page and charts in <dir> instead of docs/
 *   npm run bench -- --quick                    small sizes and one run: checks that suites and page work
 *
 * To add a suite: write `bench/<name>.ts` exporting a {@link Suite} (see bench/harness.ts) and
 * append it to `SUITES`. A suite that measures memory runs its measurement in a fresh process
 * with `runFresh()`.
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { article } from './article.js';
import { describeMachine, machine, renderTable, ROOT, tableOf, type Check, type Suite } from './harness.js';
import { writePage, type SuiteResult } from './page.js';
import { streamMemory } from './stream-memory.js';
import { threadThroughput } from './thread-throughput.js';
import { cpu } from './cpu.js';
import { cpuStartup } from './cpu-startup.js';
import { tiny } from './tiny.js';
import { hostTax } from './host-tax.js';
import { mainThread } from './main-thread.js';
import { queue } from './queue.js';

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
  queue,
];

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    runs: { type: 'string' },
    strict: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
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
// --quick runs each figure once unless --runs says otherwise.
const runs = values.runs === undefined ? (values.quick ? 1 : undefined) : Number(values.runs);
if (runs !== undefined && !(Number.isSafeInteger(runs) && runs >= 1)) {
  console.error(`--runs expects an integer from 1, got ${values.runs}`);
  process.exit(2);
}
if (values.out !== undefined && !values.report) {
  console.error('--out names where --report writes the page; give --report too');
  process.exit(2);
}

const selected = only.length === 0 ? SUITES : SUITES.filter((suite) => only.includes(suite.name));
const checks: { suite: string; measure: string; value: string; goal: string; check: Check }[] = [];
let failed = false;

const started = new Date();
const measured = machine();
const results: SuiteResult[] = [];

console.log('parafor benchmarks');
for (const line of describeMachine(measured)) console.log(`  ${line}`);

for (const suite of selected) {
  console.log(`\n== ${suite.name}: ${suite.title}`);
  const began = Date.now();
  const seconds = (): number => (Date.now() - began) / 1000;
  try {
    const report = await suite.run({
      runs,
      quick: values.quick,
      progress: (message) => {
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K  … ${message}`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    results.push({ suite, seconds: seconds(), report });
    if (report.title !== undefined) console.log(`  (this run: ${report.title})`);
    for (const row of report.rows) {
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
    console.log(renderTable(tableOf(report)));
    for (const note of report.notes ?? []) console.log(`  · ${note}`);
    console.log(`  (${seconds().toFixed(2)} s)`);
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    failed = true;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    results.push({ suite, seconds: seconds(), error: text });
    console.log(`  FAILED: ${text}`);
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

if (values.report) {
  try {
    const written = await writePage({
      out: values.out === undefined ? resolve(ROOT, 'docs') : resolve(values.out),
      machine: measured,
      started,
      args: process.argv.slice(2),
      quick: values.quick,
      results,
    });
    console.log(`\n== report\n  ${[written.page, ...written.charts].join('\n  ')}`);
  } catch (error) {
    failed = true;
    console.log(`\n== report FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

// Suites may leave timers or pools behind; the figures are printed, so end here.
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// Runs every compiled test file under the given folders with node's test runner. Node 20 takes
// folders, Node 21 and later take glob patterns instead: listing the files here works on both.
//
// A run never hangs: a test that does not end within TEST_TIMEOUT_MS fails with its name, and the
// whole run (a file kept alive by a handle it leaked, say) is stopped after RUN_TIMEOUT_MS, saying
// so. Not --test-force-exit: on Node 22 and 24 it loses the results of some files it ends (4 files
// that report 236 tests reported 194), and a test lost that way looks like no test at all.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';

const TEST_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = Number(process.env.PARAFOR_TEST_RUN_TIMEOUT_MS ?? 25 * 60_000);

const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error('usage: node scripts/run-tests.mjs <folder>...');
  process.exit(2);
}
const files = folders.flatMap((folder) =>
  readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js') && !file.split(/[/\\]/).includes('fixtures'))
    .sort()
    .map((file) => join(folder, file)),
);
if (files.length === 0) {
  console.error(`no test files under ${folders.join(', ')}`);
  process.exit(1);
}

const args = ['--test', '--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files];
// Its own process group, so that a stopped run takes the test files' processes (and theirs) with it.
const runner = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
const stopAll = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // Already gone.
  }
};
const watchdog = setTimeout(() => {
  console.error(`\nrun-tests: the tests did not finish within ${RUN_TIMEOUT_MS / 60_000} minutes; stopping them`);
  stopAll('SIGKILL');
}, RUN_TIMEOUT_MS);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
runner.on('exit', (status, signal) => {
  clearTimeout(watchdog);
  process.exit(status ?? (signal === null ? 1 : 128));
});

#!/usr/bin/env node
// Runs every compiled test file under the given folders with node's test runner. Node 20 takes
// folders, Node 21 and later take glob patterns instead: listing the files here works on both.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

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
const { status, signal } = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(status ?? (signal === null ? 1 : 128));

/**
 * The program around parafor: its own promise-heavy code before any call, while a call runs, and
 * after the call ended, as ratios to "before", in fresh processes, on the machine's Node and on every
 * other Node that CI installed under .ci/node/. On Node 20 and 22 an enabled AsyncLocalStorage (behind
 * `currentShard()`) slows every promise of the process; parafor enables it only while a call runs.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostTaxResult } from './host-tax-child.js';
import { fixed, judge, median, plural, ROOT, times, type Row, type Suite } from './harness.js';

const GOAL_AFTER = 1.05;

function measure(node: string): Promise<HostTaxResult> {
  const script = fileURLToPath(new URL('./host-tax-child.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--import', import.meta.resolve('tsx'), script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`host-tax: ${node} exited with ${code}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as HostTaxResult);
    });
  });
}

/** The machine's node, then those CI installed (.ci/node/<major>/bin/node). */
function nodes(): string[] {
  const dir = join(ROOT, '.ci/node');
  const others = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^\d/.test(name))
        .map((name) => join(dir, name, 'bin/node'))
        .filter((file) => existsSync(file))
    : [];
  return [process.execPath, ...others];
}

export const hostTax: Suite = {
  name: 'host-tax',
  title: "The program's own promise code before, during and after parafor calls (p-map 200,000 + await loop)",
  async run({ runs = 3, progress }) {
    const rows: Row[] = [];
    for (const node of nodes()) {
      const samples: HostTaxResult[] = [];
      for (let run = 0; run < runs; run++) {
        progress(`${node}: ${run + 1}/${runs}`);
        samples.push(await measure(node));
      }
      const version = samples[0]?.node ?? node;
      const before = median(samples.map((s) => s.beforeMs));
      const during = median(samples.map((s) => s.duringMs / s.beforeMs));
      const after = median(samples.map((s) => s.afterMs / s.beforeMs));
      const afterContext = median(samples.map((s) => s.afterContextMs / s.beforeMs));
      rows.push(
        { measure: `Node ${version}: before any call`, value: `${fixed(before)} ms` },
        {
          measure: `Node ${version}: while a 'thread' call runs / before`,
          value: times(during),
          detail: 'no goal; its shards never read currentShard(), so no promise hook turns on',
        },
        {
          measure: `Node ${version}: after the call ended / before`,
          value: times(after),
          goal: `<= ${fixed(GOAL_AFTER)}`,
          check: judge(after, '<=', GOAL_AFTER),
        },
        {
          measure: `Node ${version}: after a call whose shards read currentShard() after an await / before`,
          value: times(afterContext),
          detail: 'no goal: on Node 20 and 22 that needs promise hooks, whose cost V8 keeps once they were on',
        },
      );
    }
    return {
      rows,
      notes: [
        `Each figure: median over ${plural(runs, 'fresh process', 'es')} of the best of 5 runs in that process.`,
        'Other Node versions are those `bash .ci/run` installed under .ci/node/; run it once to get them here.',
      ],
    };
  },
};

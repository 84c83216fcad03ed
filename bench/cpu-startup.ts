/**
 * Start and end: how long the first call takes (the pool starts, workers boot and import the
 * method's module), and how long a finished script takes to exit by itself (no shutdown()), for
 * `'worker'` and `'process'`, against a script that uses no pool. Each figure is a fresh process.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StartupResult } from './cpu-startup-child.js';
import { availableParallelism } from 'node:os';
import { median, ms, plural, ROOT, spread, times, type Row, type Suite } from './harness.js';

type Mode = 'worker' | 'process' | 'none';

interface Sample extends StartupResult {
  /** From the child's last line to its exit. */
  readonly exitMs: number;
}

/** Runs `node <args>` and times the gap between its JSON line and its exit. */
function measure(args: readonly string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let doneAt: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (doneAt === undefined && output.includes('\n')) doneAt = performance.now();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitedAt = performance.now();
      if (code !== 0 || doneAt === undefined) {
        reject(new Error(`cpu-startup: ${args.join(' ')} exited with ${code}: ${output}`));
        return;
      }
      resolve({ ...(JSON.parse(output.trim()) as StartupResult), exitMs: exitedAt - doneAt });
    });
  });
}

/** The same program as plain JavaScript on the compiled dist/, written to a temporary directory. */
function compiledScripts(): { readonly main: string; readonly dispose: () => void } | undefined {
  const dist = join(ROOT, 'dist/index.js');
  if (!existsSync(dist)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'parafor-startup-'));
  writeFileSync(
    join(dir, 'work.mjs'),
    `import { distribute } from ${JSON.stringify(pathToFileURL(dist).href)};\n` +
      'export function burn(rounds) { let x = 2463534242; for (let i = 0; i < rounds; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; } return x >>> 0; }\n' +
      "export const worker = distribute(burn, { executor: 'worker' });\n" +
      "export const processes = distribute(burn, { executor: 'process' });\n",
  );
  writeFileSync(
    join(dir, 'main.mjs'),
    "import { availableParallelism } from 'node:os';\nimport { burn, worker, processes } from './work.mjs';\n" +
      'const call = { worker, process: processes }[process.argv[2]];\n' +
      'let result = { firstMs: 0, afterWarmUpSpeedup: 0, secondMs: 0 };\n' +
      'if (call) { let t = performance.now(); await call([1000]); const firstMs = performance.now() - t;\n' +
      '  const p = 1000000; t = performance.now(); burn(p); const rounds = Math.round((p * 50) / Math.max(performance.now() - t, 0.01));\n' +
      '  const shards = Array.from({ length: 2 * availableParallelism() }, () => rounds);\n' +
      '  t = performance.now(); await call(shards); const parallelMs = performance.now() - t;\n' +
      '  t = performance.now(); for (const s of shards) burn(s); const sequentialMs = performance.now() - t;\n' +
      '  t = performance.now(); await call([1000]);\n' +
      '  result = { firstMs, afterWarmUpSpeedup: sequentialMs / parallelMs, secondMs: performance.now() - t }; }\n' +
      'console.log(JSON.stringify(result));\n',
  );
  return { main: join(dir, 'main.mjs'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export const cpuStartup: Suite = {
  name: 'cpu-startup',
  title: "First call (pool start) and exit time of a finished script, 'worker' and 'process'",
  async run({ runs = 5, progress }) {
    const cores = availableParallelism();
    const tsx = import.meta.resolve('tsx');
    const child = fileURLToPath(new URL('./cpu-startup-child.ts', import.meta.url));
    const compiled = compiledScripts();
    const variants: { readonly label: string; readonly args: (mode: Mode) => string[] }[] = [
      { label: 'tsx sources', args: (mode) => ['--import', tsx, child, mode] },
      ...(compiled === undefined ? [] : [{ label: 'compiled dist/', args: (mode: Mode) => [compiled.main, mode] }]),
    ];
    const rows: Row[] = [];
    try {
      for (const variant of variants) {
        const samples: Record<Mode, Sample[]> = { worker: [], process: [], none: [] };
        for (let run = 0; run < runs; run++) {
          for (const mode of ['none', 'worker', 'process'] as const) {
            progress(`${variant.label}: ${mode} ${run + 1}/${runs}`);
            samples[mode].push(await measure(variant.args(mode)));
          }
        }
        const row = (measure: string, values: readonly number[]): Row => ({
          measure: `${variant.label}: ${measure}`,
          value: ms(median(values)),
          detail: spread(values),
        });
        for (const mode of ['worker', 'process'] as const) {
          rows.push(
            row(
              `'${mode}' first call (pool start)`,
              samples[mode].map((s) => s.firstMs),
            ),
          );
          const speedups = samples[mode].map((s) => s.afterWarmUpSpeedup);
          rows.push({
            measure: `${variant.label}: '${mode}' right after a one-shard warm-up: ${2 * cores} x 50 ms CPU, sequential / parafor`,
            value: times(median(speedups)),
            detail: `${speedups.map((v) => v.toFixed(2)).join(', ')}; ${cores} cores, so at most ${cores}.00x`,
          });
          rows.push(
            row(
              `'${mode}' one-shard call on the warm pool`,
              samples[mode].map((s) => s.secondMs),
            ),
          );
        }
        for (const mode of ['none', 'worker', 'process'] as const) {
          const what = mode === 'none' ? 'a script with no pool' : `a script that used '${mode}'`;
          rows.push(
            row(
              `exit time of ${what}`,
              samples[mode].map((s) => s.exitMs),
            ),
          );
        }
      }
    } finally {
      compiled?.dispose();
    }
    return {
      rows,
      notes: [
        `Medians of ${plural(runs, 'fresh process', 'es')} per figure. A call is one shard of trivial work.`,
        'Exit time: from the script printing its result to its process exiting, with no shutdown() call.',
        'compiled dist/ is the last `npm run build`; tsx sources also pay for tsx inside each worker.',
      ],
    };
  },
};

/**
 * Hand-written pools for comparison: piscina and raw workerpool, with worker scripts generated from
 * a function's own source into a temporary directory (a worker file is what both require). One
 * task per item, the way these libraries are used.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import workerpool from 'workerpool';

/** Both pools over one function, and a way to end them. */
export interface RawPools {
  /** Runs `fn(item)` for every item, one piscina task each. */
  piscina(items: readonly number[]): Promise<number[]>;
  /** Runs `fn(item)` for every item, one workerpool task each. */
  workerpool(items: readonly number[]): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Starts a piscina pool and a workerpool pool of `size` workers each over `fn`, whose source must be
 * self-contained (no imports, no closures).
 */
export async function rawPools(fn: (item: number) => number, size: number): Promise<RawPools> {
  const dir = mkdtempSync(join(tmpdir(), 'parafor-bench-'));
  const source = `const fn = ${fn.toString()};\n`;
  const piscinaFile = join(dir, 'piscina-worker.cjs');
  writeFileSync(piscinaFile, `${source}module.exports = (item) => fn(item);\n`);
  const workerpoolPath = createRequire(import.meta.url).resolve('workerpool');
  const workerpoolFile = join(dir, 'workerpool-worker.cjs');
  writeFileSync(workerpoolFile, `${source}require(${JSON.stringify(workerpoolPath)}).worker({ fn });\n`);

  const piscina = new Piscina<number, number>({
    filename: pathToFileURL(piscinaFile).href,
    minThreads: size,
    maxThreads: size,
  });
  const pool = workerpool.pool(workerpoolFile, { maxWorkers: size, minWorkers: size, workerType: 'thread' });
  // Started and loaded before any timing, like parafor's pool after its warm-up call.
  await Promise.all([
    ...Array.from({ length: size }, () => piscina.run(1)),
    ...Array.from({ length: size }, () => pool.exec('fn', [1])),
  ]);
  return {
    piscina: (items) => Promise.all(items.map((item) => piscina.run(item))),
    workerpool: (items) => Promise.all(items.map((item) => pool.exec('fn', [item]) as Promise<number>)),
    async close() {
      await Promise.all([piscina.destroy(), pool.terminate(true)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Finding tsx, which loads TypeScript inside parafor's workers, for both sides: the pool, when it
 * starts workers for parafor's own TypeScript sources, and a worker, before it imports a user's `.ts`
 * module.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Whether Node flags load tsx (`--import tsx`, `--loader tsx`, a path into tsx's package): a process
 * started with them already transforms TypeScript, and registering tsx again would transform each
 * module twice.
 */
export function flagsLoadTsx(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => /(^|[/\\])tsx([/\\]|$)/.test(arg));
}

/** The entry points of tsx that parafor uses. */
export type TsxEntry = 'tsx/esm' | 'tsx/esm/api' | 'tsx/cjs/api';

/**
 * The URL of a tsx entry point, to `import()` or pass to `--import`: tsx as installed beside parafor,
 * else as installed for `from` (the user's module: a project may have tsx while parafor is linked
 * from elsewhere). `undefined` when neither has it.
 */
export function resolveTsx(entry: TsxEntry, from?: string): string | undefined {
  const parents = from === undefined ? [import.meta.url] : [import.meta.url, from];
  for (const parent of parents) {
    const found = resolveFrom(entry, parent);
    if (found !== undefined) return found;
  }
  return undefined;
}

// Through tsx's own `exports`, with the `import` condition: resolving with `require` would load the
// CommonJS build of its ESM API, a second copy of tsx.
function resolveFrom(entry: TsxEntry, parent: string): string | undefined {
  try {
    const manifestPath = createRequire(parent).resolve('tsx/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { readonly exports?: Record<string, unknown> };
    const file = importTarget(manifest.exports?.[`.${entry.slice('tsx'.length)}`]);
    return file === undefined ? undefined : pathToFileURL(join(dirname(manifestPath), file)).href;
  } catch {
    return undefined;
  }
}

/** An `exports` entry: a path, or conditions whose `import` (or `default`) leads to one. */
function importTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  const conditions = target as Readonly<Record<string, unknown>>;
  return importTarget(conditions['import'] ?? conditions['default']);
}

/**
 * Naming a distributed method so that another thread or process can find it: the module that
 * defines it, its key, and enough to tell it apart. Catches, before any shard runs, the cases that
 * cannot work (no module, a unique symbol key, the entry script).
 * @module
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refused } from '../../messages.js';
import { ownerName } from '../../naming.js';
import type { DistributedMethod } from '../executor.js';
import { fingerprint } from '../../wire/fingerprint.js';
import type { MethodRef } from '../../wire/protocol.js';

/**
 * The reference a worker uses to load `method`.
 *
 * @param method - the distributed method of the call
 * @param module - the `module` option, if given: it overrides the module found from the stack and
 *   says that importing it in a worker is safe, even if it is the entry script
 * @param executor - `'worker'` or `'process'`, for messages
 * @throws TypeError saying what to do when the method cannot be loaded by reference
 */
export function methodRef(method: DistributedMethod, module: string | undefined, executor: string): MethodRef {
  const { record, name } = method;
  const url = module ?? record.module;
  if (url === undefined) {
    throw refused(
      name,
      `the '${executor}' executor loads the method inside the worker from the module that defines it, ` +
        'but that module could not be found from the call stack. Say which it is: `{ module: import.meta.url }` ' +
        'in the options, written in that module.',
    );
  }
  if (module === undefined && isEntryScript(url)) throw entryScriptError(name, url, executor);
  return {
    module: url,
    key: keyOf(record.key, name),
    kind: record.kind,
    form: record.form,
    isStatic: record.isStatic === true,
    owner: record.form === 'function' ? undefined : ownerName(method.thisArg, record.isStatic === true),
    fingerprint: fingerprint(record.original),
    name,
  };
}

function keyOf(key: string | symbol, name: string): MethodRef['key'] {
  if (typeof key === 'string') return key;
  const registered = Symbol.keyFor(key);
  if (registered === undefined) {
    throw refused(
      name,
      'a method named by a unique symbol cannot be found from another thread; name it with a string or `Symbol.for()`',
    );
  }
  return { symbolFor: registered };
}

/** Whether `url` is the script Node was started with (`node main.js`, `tsx main.ts`). */
export function isEntryScript(url: string): boolean {
  const main = process.argv[1];
  if (main === undefined || !url.startsWith('file:')) return false;
  const file = fileURLToPath(url);
  for (const candidate of new Set([resolve(main), real(resolve(main))])) {
    for (const entry of [candidate, ...folderEntries(candidate)]) {
      // `node main` runs main.js: the entry may be named without its extension.
      if (entry === file || (extname(entry) === '' && entry === file.slice(0, -extname(file).length))) return true;
    }
  }
  return false;
}

/**
 * `node .` and `node pkg` run a folder: its package's `main`, else its `index` file. The files that
 * may be, when `path` is a folder.
 */
function folderEntries(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [];
  } catch {
    return [];
  }
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { main?: unknown }).main;
  } catch {
    // No package.json, or not one Node can read: Node falls back to the index file too.
  }
  const entries = typeof main === 'string' ? [resolve(path, main), join(resolve(path, main), 'index')] : [];
  return [...entries, join(path, 'index')];
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function entryScriptError(name: string, url: string, executor: string): TypeError {
  const file = fileURLToPath(url);
  const base = file.slice(file.lastIndexOf('/') + 1);
  const own = `${base.slice(0, -extname(base).length) || 'work'}-lib${extname(base)}`;
  return refused(
    name,
    `the method is defined in the entry script ${base} (the file Node was started with). The '${executor}' executor ` +
      "imports the method's module inside each worker, and importing the entry script would run the whole program " +
      `again in every worker. Move the class or function into a module of its own (e.g. ${own}) and import it from ` +
      `${base}. Or, if ${base} runs its program only when it is the entry ` +
      `(\`if (import.meta.url === pathToFileURL(process.argv[1]).href) { … }\`), pass \`module: import.meta.url\` ` +
      'to say that importing it is safe.',
  );
}

/**
 * A file's name as every machine with the same checkout or build knows it, wherever each program was
 * started from: its package's name and its path inside that package (the nearest folder above it
 * with a `package.json`), such as `reports/dist/cube.js`. The queue executor names a method's module
 * this way, and `parafor worker` finds it among its own modules by the same name. A `package.json`
 * without a `name` (such as `dist/package.json` holding only `"type"`) is not a package here: the
 * name comes from the nearest one above that has one.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** Each folder looked at, with the package it belongs to (`undefined`: none above it). */
const packages = new Map<string, Package | undefined>();

interface Package {
  readonly root: string;
  readonly name: string;
}

/**
 * `file`'s package name and path inside its package, with `/`; for a file in no package, its path
 * relative to the working folder.
 * @param file - an absolute path
 */
export function projectPath(file: string): string {
  const found = packageOf(dirname(file));
  const path = relative(found?.root ?? process.cwd(), file)
    .split(sep)
    .join('/');
  return found === undefined || found.name === '' ? path : `${found.name}/${path}`;
}

function packageOf(folder: string): Package | undefined {
  if (packages.has(folder)) return packages.get(folder);
  let found: Package | undefined;
  const name = packageName(join(folder, 'package.json'));
  if (name !== undefined && name !== '') found = { root: folder, name };
  else if (dirname(folder) !== folder) found = packageOf(dirname(folder));
  packages.set(folder, found);
  return found;
}

/** The `name` in a `package.json` (`''` if it has none), or `undefined` if there is no such file. */
function packageName(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const { name } = JSON.parse(text) as { name?: unknown };
    return typeof name === 'string' ? name : '';
  } catch {
    // Not JSON: no name to take from it.
    return '';
  }
}

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { projectPath } from '../../src/util/project-path.js';

const root = mkdtempSync(join(tmpdir(), 'parafor-project-path-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes `text` at `path` under the test's folder, making its folders; gives the absolute path. */
function put(path: string, text = ''): string {
  const file = join(root, ...path.split('/'));
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('projectPath', () => {
  it("names a file by its package's name and its path in the package", () => {
    put('app/package.json', JSON.stringify({ name: 'app', type: 'module' }));
    assert.equal(projectPath(put('app/dist/report.js')), 'app/dist/report.js');
    assert.equal(projectPath(put('app/lib/deep/cube.js')), 'app/lib/deep/cube.js');
  });

  it('takes a scoped name as it is', () => {
    put('scoped/package.json', JSON.stringify({ name: '@acme/reports' }));
    assert.equal(projectPath(put('scoped/dist/cube.js')), '@acme/reports/dist/cube.js');
  });

  it('looks past a package.json without a name, or one that is not JSON, to the named one above', () => {
    put('dual/package.json', JSON.stringify({ name: 'dual' }));
    put('dual/dist/esm/package.json', JSON.stringify({ type: 'module' }));
    put('dual/dist/cjs/package.json', '{ not json');
    assert.equal(projectPath(put('dual/dist/esm/x.js')), 'dual/dist/esm/x.js');
    assert.equal(projectPath(put('dual/dist/cjs/x.js')), 'dual/dist/cjs/x.js');
  });

  it('tells apart the same path in two packages', () => {
    put('one/package.json', JSON.stringify({ name: 'one' }));
    put('two/package.json', JSON.stringify({ name: 'two' }));
    put('one/dist/package.json', JSON.stringify({ type: 'module' }));
    put('two/dist/package.json', JSON.stringify({ type: 'module' }));
    assert.notEqual(projectPath(put('one/dist/x.js')), projectPath(put('two/dist/x.js')));
  });

  it('names a file in no named package by its path from the working folder', () => {
    // The test's folder is in the system's temporary folder, which no package.json names.
    const file = put('loose/x.js');
    assert.equal(projectPath(file), relative(process.cwd(), file).split(sep).join('/'));
  });
});

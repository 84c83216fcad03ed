/**
 * Naming a method's module for a worker: whether a module is the entry script (which a worker must
 * not import), and the `module` option turned into a file URL.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isEntryScript } from '../../../src/executors/pool/method-ref.js';
// `moduleUrl` lived in method-ref.ts and moved to options.ts, where the `module` option is read.
import { moduleUrl } from '../../../src/options.js';

/** Runs `body` with `process.argv[1]` set to `main` (or removed, for `undefined`), then puts it back. */
function withEntry(main: string | undefined, body: () => void): void {
  const saved = [...process.argv];
  try {
    if (main === undefined) process.argv.length = 1;
    else process.argv[1] = main;
    body();
  } finally {
    process.argv.length = 0;
    process.argv.push(...saved);
  }
}

const url = (path: string): string => pathToFileURL(path).href;

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parafor-entry-'));
  await writeFile(join(dir, 'main.js'), '');
  await writeFile(join(dir, 'other.js'), '');
  await writeFile(join(dir, 'main.ts'), '');
  await mkdir(join(dir, 'real'));
  await writeFile(join(dir, 'real', 'target.js'), '');
  await symlink(join(dir, 'real', 'target.js'), join(dir, 'link.js'));
  await mkdir(join(dir, 'with space'));
  await writeFile(join(dir, 'with space', 'main.js'), '');
  await mkdir(join(dir, 'pkg'));
  await writeFile(join(dir, 'pkg', 'index.js'), '');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('isEntryScript', () => {
  it('the same path as process.argv[1] is the entry script', () => {
    withEntry(join(dir, 'main.js'), () => {
      assert.equal(isEntryScript(url(join(dir, 'main.js'))), true);
    });
  });

  it('another file is not', () => {
    withEntry(join(dir, 'main.js'), () => {
      assert.equal(isEntryScript(url(join(dir, 'other.js'))), false);
      assert.equal(isEntryScript(url(join(dir, 'real', 'target.js'))), false);
    });
  });

  it('process.argv[1] without the extension (`node main`) matches main.js', () => {
    withEntry(join(dir, 'main'), () => {
      assert.equal(isEntryScript(url(join(dir, 'main.js'))), true);
      assert.equal(isEntryScript(url(join(dir, 'main.ts'))), true, 'and main.ts (tsx main)');
      assert.equal(isEntryScript(url(join(dir, 'other.js'))), false);
    });
  });

  it('process.argv[1] with one extension does not match a module with another (main.js vs main.ts)', () => {
    withEntry(join(dir, 'main.js'), () => {
      assert.equal(isEntryScript(url(join(dir, 'main.ts'))), false);
    });
  });

  it('a relative process.argv[1] is resolved from the working directory', () => {
    withEntry(relative(process.cwd(), join(dir, 'main.js')), () => {
      assert.equal(isEntryScript(url(join(dir, 'main.js'))), true);
    });
  });

  it('a symlinked entry (argv names the link, the module URL is the real file) is the entry script', () => {
    // Node resolves the entry's symlinks for import.meta.url, but leaves process.argv[1] as typed.
    withEntry(join(dir, 'link.js'), () => {
      assert.equal(isEntryScript(url(join(dir, 'real', 'target.js'))), true);
      assert.equal(isEntryScript(url(join(dir, 'link.js'))), true, 'with --preserve-symlinks-main');
    });
  });

  it('a path with a space (percent-encoded in the URL) matches', () => {
    withEntry(join(dir, 'with space', 'main.js'), () => {
      const href = url(join(dir, 'with space', 'main.js'));
      assert.match(href, /with%20space/);
      assert.equal(isEntryScript(href), true);
    });
  });

  it('a file URL with a query or a hash still names the file', () => {
    withEntry(join(dir, 'main.js'), () => {
      assert.equal(isEntryScript(`${url(join(dir, 'main.js'))}?v=2`), true);
    });
  });

  it('a URL that is not a file URL is never the entry script', () => {
    withEntry(join(dir, 'main.js'), () => {
      for (const other of [
        'data:text/javascript,export default 1',
        'https://example.com/main.js',
        'node:fs',
        join(dir, 'main.js'), // a bare path is not a URL
      ]) {
        assert.equal(isEntryScript(other), false, other);
      }
    });
  });

  it('without a process.argv[1] (node -e, the REPL) nothing is the entry script', () => {
    withEntry(undefined, () => {
      assert.equal(process.argv[1], undefined);
      assert.equal(isEntryScript(url(join(dir, 'main.js'))), false);
    });
  });

  it('restores process.argv after each test (the helper works)', () => {
    const saved = [...process.argv];
    withEntry('/nowhere/x.js', () => assert.equal(process.argv[1], '/nowhere/x.js'));
    assert.deepEqual(process.argv, saved);
  });

  // `node .` or `node pkg` runs pkg/index.js (or the package's "main"), with process.argv[1] set to
  // the folder: a method defined there would be imported, program and all, by every worker.
  it('a folder run as the entry (`node pkg`, `node .`) makes its index.js the entry script', () => {
    withEntry(join(dir, 'pkg'), () => {
      assert.equal(isEntryScript(url(join(dir, 'pkg', 'index.js'))), true);
    });
  });
});

describe('moduleUrl', () => {
  it('keeps a file URL string (import.meta.url) as it is', () => {
    assert.equal(moduleUrl(import.meta.url), import.meta.url);
    assert.equal(moduleUrl('file:///tmp/lib.js'), 'file:///tmp/lib.js');
  });

  it('normalises a file URL string (percent-encoding, dot segments)', () => {
    assert.equal(moduleUrl('file:///tmp/a b/lib.js'), 'file:///tmp/a%20b/lib.js');
    assert.equal(moduleUrl('file:///tmp/x/../lib.js'), 'file:///tmp/lib.js');
  });

  it('takes the href of a URL object', () => {
    const given = new URL('./lib.js', 'file:///tmp/app/');
    assert.equal(moduleUrl(given), 'file:///tmp/app/lib.js');
  });

  it('turns an absolute path into a file URL, percent-encoding what needs it', () => {
    assert.equal(moduleUrl('/tmp/app/lib.js'), 'file:///tmp/app/lib.js');
    assert.equal(moduleUrl('/tmp/my app/lib #1.js'), 'file:///tmp/my%20app/lib%20%231.js');
    assert.equal(moduleUrl(join(dir, 'main.js')), url(join(dir, 'main.js')));
  });

  it('gives a URL that isEntryScript reads back to the same file', () => {
    withEntry(join(dir, 'with space', 'main.js'), () => {
      assert.equal(isEntryScript(moduleUrl(join(dir, 'with space', 'main.js'))), true);
      assert.equal(isEntryScript(moduleUrl(new URL(url(join(dir, 'with space', 'main.js'))))), true);
    });
  });
});

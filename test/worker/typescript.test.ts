/**
 * TypeScript sources run with tsx (`node --import tsx`), as users run them: the worker registers
 * tsx's loader to import the user's `.ts` module. Against parafor's own sources and against its
 * compiled dist/, in the decorator mode of this build (tsx reads the matching tsconfig).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const mode = import.meta.url.includes('/legacy/') ? 'legacy' : 'standard';
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tsx = import.meta.resolve('tsx');
const DEADLINE_MS = 30_000;

async function runTs(file: string, env: Record<string, string> = {}): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', tsx, `test/fixtures/workers/${file}`], {
    cwd: root,
    timeout: DEADLINE_MS,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: mode === 'legacy' ? 'tsconfig.legacy.json' : 'tsconfig.json',
      ...env,
    },
  });
  return stdout.trim().split('\n');
}

const expected = {
  mode,
  hashes: true,
  indices: [0, 1, 2],
  inWorkers: true,
  triples: [3, 6],
  scaled: [4, 8],
  made: [3],
  squares: [4, 9],
  failure: { name: 'SyntaxError', code: 'E_TS', message: 'bad 1' },
};

describe(`TypeScript sources run with tsx (${mode} mode)`, () => {
  it("runs a .ts module's methods in workers and processes, with parafor's sources, and exits by itself", async () => {
    const lines = await runTs('scenario.ts');
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), expected);
  });

  it("does the same with parafor's compiled dist/ (the worker registers tsx for the .ts module)", async () => {
    const lines = await runTs('scenario.ts', { PARAFOR_ENTRY: new URL('dist/index.js', `file://${root}`).href });
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ''), expected);
  });

  it('`tsx main.ts` with the class in main.ts fails at once and runs the program once', async () => {
    const lines = await runTs('entry-class.ts');
    assert.equal(lines.filter((line) => line === 'program started').length, 1);
    assert.match(lines.at(-1) ?? '', /defined in the entry script entry-class\.ts/);
  });
});

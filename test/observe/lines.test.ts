/**
 * `progress: true` as a user sees it: real programs (fixtures/lines.ts) run under a real
 * pseudo-terminal (util-linux `script`) and on a pipe, and what they wrote is read back. On the
 * terminal, the transcript is played on a small screen model (carriage return, new line, cursor up,
 * erase line, erase below) to see what is left on the screen.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/lines.js', import.meta.url));
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** The environment of a user at a terminal: no `CI`. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env['CI'];
  return env;
}

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  /** stderr, or on a terminal the terminal's transcript. */
  readonly stderr: string;
}

function onPipe(scenario: string, env: NodeJS.ProcessEnv = userEnv()): Ran {
  const { status, stdout, stderr } = spawnSync(process.execPath, [fixture, scenario], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  return { status, stdout, stderr };
}

const quote = (text: string): string => `'${text.replace(/'/g, "'\\''")}'`;

function onTerminal(scenario: string): Ran {
  const dir = mkdtempSync(join(tmpdir(), 'parafor-lines-'));
  const out = join(dir, 'stdout');
  try {
    // stdout goes to a file, so that the terminal shows stderr alone.
    const command = `${quote(process.execPath)} ${quote(fixture)} ${scenario} > ${quote(out)}`;
    const { status, stdout } = spawnSync('script', ['-qfec', command, '/dev/null'], {
      encoding: 'utf8',
      env: userEnv(),
      timeout: 60_000,
    });
    return { status, stdout: readFileSync(out, 'utf8'), stderr: stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What is left on a screen after `transcript` is played on it, row by row. */
function screen(transcript: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (char: string): void => {
    const line = (rows[row] ?? '').padEnd(col, ' ');
    rows[row] = line.slice(0, col) + char + line.slice(col + 1);
    col++;
  };
  // eslint-disable-next-line no-control-regex -- escape sequences are what is parsed
  const tokens = transcript.match(/\u001b\[\d*[A-Za-z]|[\s\S]/g) ?? [];
  for (const token of tokens) {
    if (token === '\r') col = 0;
    else if (token === '\n') {
      row++;
      rows[row] ??= '';
    } else if (token.startsWith('\u001b[')) {
      const n = Number(token.slice(2, -1) || '1');
      const code = token.at(-1);
      if (code === 'A') row = Math.max(0, row - n);
      else if (code === 'K') rows[row] = '';
      else if (code === 'J') {
        rows[row] = (rows[row] ?? '').slice(0, col);
        rows.length = row + 1;
      } else throw new Error(`unexpected escape sequence ${JSON.stringify(token)}`);
    } else put(token);
  }
  return rows.filter((line) => line !== '');
}

const SUMMARY = (method: string, rest: string): RegExp =>
  new RegExp(`^${method}: ${rest}, \\d+\\.\\dx speed-up \\(.+ of shard time, \\d+ at once\\)`);

describe('progress: true on a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, () => {
  it('draws a live line per call while two run at once, each ending as its summary, and nothing on stdout', () => {
    const { status, stdout, stderr } = onTerminal('two');
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
    // A live line: erased, then drawn with its bar.
    const live = new RegExp(`${String.fromCharCode(27)}\\[2K(slow|other): \\[[#-]{20}\\] \\d+/(40|20) \\d+%`);
    assert.match(stderr, live, 'no live line was drawn');
    const left = screen(stderr);
    assert.equal(left.length, 2, left.join('\n'));
    assert.ok(
      left.some((line) => SUMMARY('slow', '40 shards in [\\d.]+ m?s').test(line)),
      left.join('\n'),
    );
    assert.ok(
      left.some((line) => SUMMARY('other', '20 shards in [\\d.]+ m?s').test(line)),
      left.join('\n'),
    );
  });

  it('leaves one summary per call of nested calls, inner ones first', () => {
    const { status, stderr } = onTerminal('nested');
    assert.equal(status, 0, stderr);
    const left = screen(stderr);
    assert.equal(left.length, 5, left.join('\n'));
    assert.ok(
      left.slice(0, 4).every((line) => SUMMARY('inner', '6 shards in .+').test(line)),
      left.join('\n'),
    );
    assert.match(left[4] ?? '', SUMMARY('outer', '4 shards in .+'));
  });

  it("draws the line of a call on 'process' and ends it as its summary", () => {
    const { status, stdout, stderr } = onTerminal('process');
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
    const left = screen(stderr);
    assert.deepEqual(left.length, 1, left.join('\n'));
    assert.match(left[0] ?? '', SUMMARY('Crunch.onProcess', '6 shards in .+'));
  });

  it("counts shard by shard while shards travel in batches on 'worker'", () => {
    const { status, stdout, stderr } = onTerminal('batches');
    assert.equal(status, 0, stderr);
    const { batches } = JSON.parse(stdout) as { batches: { count: number; max: number } };
    assert.deepEqual([batches.count, batches.max], [16, 25]);
    // The live lines count shards: between the first batch and the last, more than the 16 batches.
    const counts = [...stderr.matchAll(/\] (\d+)\/400 /g)].map(([, done]) => Number(done));
    assert.ok(
      counts.some((done) => done > 16 && done < 400),
      `live counts ${counts.join(', ')}`,
    );
    const left = screen(stderr);
    assert.equal(left.length, 1, left.join('\n'));
    assert.match(left[0] ?? '', SUMMARY('Crunch.onWorker', '400 shards in .+'));
  });

  for (const [scenario, expected] of [
    ['process-fail', SUMMARY('Crunch.onProcess', 'failed after \\d+ of 12 shards in .+')],
    ['fail', SUMMARY('fails', 'failed after \\d+ of 40 shards in .+')],
    ['abort', SUMMARY('aborted', 'aborted after \\d+ of 400 shards in .+')],
    ['break', SUMMARY('streamed', 'stopped after \\d+ of 100 shards in .+')],
  ] as const) {
    it(`finishes the line cleanly on ${scenario}`, () => {
      const { status, stderr } = onTerminal(scenario);
      assert.equal(status, 0, stderr);
      const left = screen(stderr);
      assert.equal(left.length, 1, left.join('\n'));
      assert.match(left[0] ?? '', expected);
    });
  }
});

describe('progress: true on a pipe', () => {
  it('writes no escape code and nothing on stdout: only the summaries of short calls', () => {
    const { status, stdout, stderr } = onPipe('two');
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
    assert.ok(!stderr.includes('\u001b'), stderr);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, stderr);
    assert.ok(
      lines.some((line) => SUMMARY('slow', '40 shards in .+').test(line)),
      stderr,
    );
    assert.ok(
      lines.some((line) => SUMMARY('other', '20 shards in .+').test(line)),
      stderr,
    );
  });

  it("draws nothing for calls made inside a 'worker' shard: the outer call's line stands for them", () => {
    const { status, stdout, stderr } = onPipe('in-worker');
    assert.equal(status, 0, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    assert.match(stderr, SUMMARY('Crunch.nested', '3 shards in .+'));
  });

  for (const [scenario, method, count] of [
    ['process', 'Crunch.onProcess', 6],
    ['custom', 'custom', 12],
  ] as const) {
    it(`writes only the summary of a short call on ${scenario === 'custom' ? 'a custom executor' : `'${scenario}'`}`, () => {
      const { status, stdout, stderr } = onPipe(scenario);
      assert.equal(status, 0, stderr);
      assert.equal(stdout, '');
      assert.ok(!stderr.includes('\u001b'), stderr);
      const lines = stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0] ?? '', SUMMARY(method, `${count} shards in .+`));
    });
  }

  it("counts the shards, not the batches they travelled in, on 'worker'", () => {
    const { status, stdout, stderr } = onPipe('batches');
    assert.equal(status, 0, stderr);
    const { batches } = JSON.parse(stdout) as { batches: { count: number } };
    assert.equal(batches.count, 16);
    assert.ok(!stderr.includes('\u001b'), stderr);
    assert.match(stderr.trimEnd(), SUMMARY('Crunch.onWorker', '400 shards in .+'));
  });

  it('writes a plain status line every few seconds of a long call, then its summary', () => {
    const { status, stderr } = onPipe('long');
    assert.equal(status, 0, stderr);
    const lines = stderr.trimEnd().split('\n');
    assert.ok(lines.length >= 2, stderr);
    for (const line of lines.slice(0, -1)) {
      assert.match(line, /^long: \d+\/36 \(\d+%\), [\d.]+\/s, [\d.]+ s elapsed, ETA .+$/);
    }
    assert.match(lines.at(-1) ?? '', SUMMARY('long', '36 shards in .+'));
  });

  it('writes no escape code on a terminal when CI is set', { skip: !hasScript }, () => {
    const env = { ...userEnv(), CI: 'true' };
    const command = `${quote(process.execPath)} ${quote(fixture)} fail`;
    const { status, stdout } = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', env });
    assert.equal(status, 0, stdout);
    assert.ok(!stdout.includes('\u001b['), stdout);
    assert.match(stdout.trim(), SUMMARY('fails', 'failed after \\d+ of 40 shards in .+'));
  });
});

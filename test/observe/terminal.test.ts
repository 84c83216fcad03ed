import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBoard } from '../../src/observe/terminal.js';
import { sleep, until } from '../helpers.js';

/** A stream that keeps what is written. */
function captured(columns?: number): { write(text: string): void; columns?: number; text: string; writes: number } {
  const stream = {
    text: '',
    writes: 0,
    write(text: string) {
      stream.text += text;
      stream.writes++;
    },
    ...(columns === undefined ? {} : { columns }),
  };
  return stream;
}

describe('LineBoard', () => {
  it('off a terminal, writes status lines now and then and the summary, with no escape code', async () => {
    const stream = captured();
    const board = new LineBoard(stream, false, 20);
    let n = 0;
    const line = board.add(() => `a: ${++n}`);
    await until(() => stream.writes >= 2);
    line.finish('a: done');
    line.finish('a: twice');
    const lines = stream.text.split('\n');
    assert.equal(lines.at(-1), '');
    assert.equal(lines.at(-2), 'a: done');
    assert.ok(
      lines.slice(0, -2).every((l) => /^a: \d+$/.test(l)),
      stream.text,
    );
    assert.ok(!stream.text.includes('\u001b'), stream.text);
  });

  it('writes only the summary of a call shorter than one tick', () => {
    const stream = captured();
    new LineBoard(stream, false).add(() => 'never').finish('quick: done');
    assert.equal(stream.text, 'quick: done\n');
  });

  it('on a terminal, redraws the block of live lines in one write, and a finished line stays above it', async () => {
    const stream = captured(40);
    const board = new LineBoard(stream, true, 10);
    const a = board.add(() => 'a: running');
    const b = board.add(() => 'b: running and running and running and running');
    await until(() => stream.writes >= 1);
    const first = stream.text;
    assert.equal(first, '\r\u001b[2Ka: running\n\u001b[2Kb: running and running and running and…\n\u001b[J');
    a.finish('a: done');
    // Two lines up, the summary, the one live line left, then the rest of the old block erased.
    assert.equal(
      stream.text.slice(first.length),
      '\r\u001b[2A\u001b[2Ka: done\n\u001b[2Kb: running and running and running and…\n\u001b[J',
    );
    b.finish('b: done');
    const written = stream.text.length;
    await sleep(40);
    assert.equal(stream.text.length, written, 'a board with no live line draws nothing');
  });

  it('takes a terminal of unknown size (0 columns) for 80 columns wide', async () => {
    const stream = captured(0);
    const board = new LineBoard(stream, true, 5);
    const line = board.add(() => 'x'.repeat(100));
    await until(() => stream.writes >= 1);
    line.finish('x: done');
    assert.ok(stream.text.includes(`\u001b[2K${'x'.repeat(78)}…\n`), stream.text);
  });

  it('draws nothing of a line whose render throws, and goes on', async () => {
    const stream = captured();
    const board = new LineBoard(stream, true, 5);
    const line = board.add(() => {
      throw new Error('no');
    });
    await until(() => stream.writes >= 1);
    line.finish('x: done');
    assert.match(stream.text, /x: done\n/);
  });

  it('never keeps the program alive', async () => {
    const { spawnSync } = await import('node:child_process');
    const url = new URL('../../src/observe/terminal.js', import.meta.url).href;
    const script = `import { LineBoard } from ${JSON.stringify(url)}; new LineBoard(process.stderr, false, 60000).add(() => 'x');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    assert.equal(child.status, 0, String(child.stderr));
  });
});

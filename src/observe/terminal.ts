/**
 * Where `progress` lines are drawn: one board per process, owning the bottom lines of stderr, so
 * that calls running at once (side by side or nested) each keep a line of their own. On a terminal
 * the block of live lines is redrawn together, at most {@link TTY_REDRAW_MS} apart, and a line that
 * ends is written above the block for good. Elsewhere (a pipe, a file, a CI log) no escape code is
 * written: a plain status line per call at most every {@link PLAIN_EVERY_MS}, and its summary.
 *
 * The drawing is a few lines of our own rather than a library's: it needs three ECMA-48 sequences
 * (cursor up, erase line, erase below), and the libraries that do this (log-update, ansi-escapes
 * with string-width) either need Node 22 in their current versions or would be runtime dependencies
 * for three constant strings; none of them shares one block between several independent owners.
 * @module
 */
import { isInsideWorker } from '../worker/inside.js';

/** What a board writes to: `process.stderr`, or a stand-in in tests. */
export interface BoardStream {
  write(text: string): unknown;
  /** Columns of the terminal, when it is one. */
  readonly columns?: number;
}

/** A line on a board. */
export interface BoardLine {
  /** Ends the line: `summary` replaces it for good. Once only; later calls do nothing. */
  finish(summary: string): void;
}

/** Redraws on a terminal at most ten times a second: drawing must never slow the call. */
export const TTY_REDRAW_MS = 100;

/** Off a terminal, a call's status line is written about every three seconds, never more often. */
export const PLAIN_EVERY_MS = 3000;

const ESC = '\u001b[';
const ERASE_LINE = `${ESC}2K`;
const ERASE_BELOW = `${ESC}J`;

interface Live {
  readonly render: () => string;
  /** Off a terminal: when its status line was last written. */
  lastWritten: number;
}

/** The shared block of lines. */
export class LineBoard {
  readonly #stream: BoardStream;
  readonly #tty: boolean;
  readonly #everyMs: number;
  readonly #live: Live[] = [];
  /** Terminal lines the block takes now (the cursor is on the line below them). */
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param stream - where to draw
   * @param tty - whether `stream` is a terminal that understands escape codes
   * @param everyMs - milliseconds between draws: {@link TTY_REDRAW_MS} on a terminal, {@link PLAIN_EVERY_MS} elsewhere
   */
  constructor(stream: BoardStream, tty: boolean, everyMs = tty ? TTY_REDRAW_MS : PLAIN_EVERY_MS) {
    this.#stream = stream;
    this.#tty = tty;
    this.#everyMs = everyMs;
  }

  /** Whether lines are drawn with escape codes. */
  get tty(): boolean {
    return this.#tty;
  }

  /**
   * Adds a live line whose text `render()` gives at each draw (so a call pays nothing per shard for
   * it). Nothing is drawn before the first tick: a call that ends sooner shows only its summary.
   */
  add(render: () => string): BoardLine {
    const live: Live = { render, lastWritten: performance.now() };
    this.#live.push(live);
    this.#tick();
    let finished = false;
    return {
      finish: (summary) => {
        if (finished) return;
        finished = true;
        this.#finish(live, summary);
      },
    };
  }

  #finish(live: Live, summary: string): void {
    const at = this.#live.indexOf(live);
    if (at >= 0) this.#live.splice(at, 1);
    if (this.#tty) this.#draw([summary]);
    else this.#stream.write(`${summary}\n`);
    if (this.#live.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    if (this.#timer !== undefined || this.#live.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#redraw();
      this.#tick();
    }, this.#everyMs);
    // A progress line never keeps a program alive.
    this.#timer.unref();
  }

  #redraw(): void {
    if (this.#tty) {
      this.#draw([]);
      return;
    }
    const now = performance.now();
    let text = '';
    for (const live of this.#live) {
      // The timer's clock and performance.now() differ by a little: a line due now is not put off a whole tick.
      if (now - live.lastWritten < this.#everyMs * 0.9) continue;
      live.lastWritten = now;
      text += `${safely(live.render)}\n`;
    }
    if (text !== '') this.#stream.write(text);
  }

  /** One write per frame: the finished lines, for good, then the live ones, over the old block. */
  #draw(finished: readonly string[]): void {
    // A terminal whose size is unknown (a pseudo-terminal nobody sized) says 0 columns.
    const columns = this.#stream.columns ?? 0;
    const width = Math.max(10, (columns > 0 ? columns : 80) - 1);
    let frame = this.#drawn > 0 ? `\r${ESC}${this.#drawn}A` : '\r';
    for (const line of finished) frame += `${ERASE_LINE}${line}\n`;
    for (const live of this.#live) frame += `${ERASE_LINE}${fit(safely(live.render), width)}\n`;
    this.#stream.write(`${frame}${ERASE_BELOW}`);
    this.#drawn = this.#live.length;
  }
}

let stderrBoard: LineBoard | undefined;

/**
 * The board of this process's stderr, or `undefined` inside a parafor worker: a call made there
 * runs within a shard of an outer call, whose own line stands for it, and a worker's stderr is
 * the parent's terminal or a pipe into it, where a second block would garble the first. Escape
 * codes only where stderr is a terminal, `CI` is unset and `TERM` is not `dumb`: a log then reads
 * as plain lines.
 */
export function stderrLines(): LineBoard | undefined {
  if (isInsideWorker()) return undefined;
  if (stderrBoard === undefined) {
    const { stderr, env } = process;
    const tty = stderr.isTTY && (env['CI'] ?? '') === '' && env['TERM'] !== 'dumb';
    stderrBoard = new LineBoard(stderr, tty);
  }
  return stderrBoard;
}

/**
 * A live line is cut to the terminal's width: a line that wrapped would take two rows, and the
 * block would be redrawn one row short. Counted in code points; a name in wide characters may still
 * wrap, which garbles nothing but that line's redraw.
 */
function fit(line: string, width: number): string {
  const points = Array.from(line);
  return points.length <= width ? line : `${points.slice(0, width - 1).join('')}…`;
}

function safely(render: () => string): string {
  try {
    return render();
  } catch {
    return '';
  }
}

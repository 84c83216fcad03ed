/**
 * The words of the `progress` line: what it says while a call runs, and the summary it ends as.
 * Pure functions of the figures, so what is drawn is tested apart from the drawing.
 * @module
 */
import type { CallStats } from './call-stats.js';

/** What the live line shows: the call's counts so far. */
export interface LineFigures {
  /** Qualified name of the method. */
  readonly method: string;
  /** Shards finished, failed ones included. */
  readonly done: number;
  readonly failed: number;
  /** Number of shards, when the input knows it. */
  readonly total: number | undefined;
  /** Milliseconds since the call began. */
  readonly elapsedMs: number;
}

/** Cells of the bar drawn on a terminal. */
const BAR_WIDTH = 20;

/**
 * The live line. On a terminal (`tty`), with a bar; elsewhere plain words for a log. When the total is
 * known: done / total, percent and an ETA; otherwise a count. Then the rate, the time elapsed and the
 * failures, if any.
 * @example
 * ```ts
 * statusLine({ method: 'Report.getCube', done: 6, failed: 0, total: 10, elapsedMs: 1200 }, false);
 * // 'Report.getCube: 6/10 (60%), 5.0/s, 1.2 s elapsed, ETA 0.8 s'
 * ```
 */
export function statusLine(figures: LineFigures, tty: boolean): string {
  const { done, failed, total, elapsedMs } = figures;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const parts: string[] = [];
  if (total !== undefined) {
    const share = total === 0 ? 1 : Math.min(1, done / total);
    const count = `${done}/${total}`;
    const percent = `${Math.floor(share * 100)}%`;
    parts.push(tty ? `${bar(share)} ${count} ${percent}` : `${count} (${percent})`);
  } else {
    parts.push(`${done} done`);
  }
  parts.push(`${formatRate(rate)}`, tty ? formatDuration(elapsedMs) : `${formatDuration(elapsedMs)} elapsed`);
  if (total !== undefined && done < total) {
    parts.push(`ETA ${rate > 0 ? formatDuration(((total - done) * 1000) / rate) : '?'}`);
  }
  if (failed > 0) parts.push(`${failed} failed`);
  return `${printable(figures.method)}: ${parts.join(tty ? '  ' : ', ')}`;
}

/**
 * The line a call ends as: how many shards in how long, the speed-up over running them one after
 * another, and how it ended when it did not complete.
 * @example
 * ```ts
 * // 'Report.getCube: 10 shards in 2.01 s, 5.0x speed-up (10.0 s of shard time, 5 at once)'
 * ```
 */
export function summaryLine(stats: CallStats, total: number | undefined): string {
  const { shards, failed, wallMs, busyMs, speedup, concurrency, outcome } = stats;
  const of = total !== undefined && total !== shards ? ` of ${total}` : '';
  const counted = `${shards}${of} ${shards === 1 && of === '' ? 'shard' : 'shards'} in ${formatDuration(wallMs)}`;
  const opening =
    outcome === 'completed'
      ? counted
      : `${outcome === 'failed' ? 'failed' : outcome === 'aborted' ? 'aborted' : 'stopped'} after ${counted}`;
  const slots = concurrency === Infinity ? '' : `, ${concurrency} at once`;
  const failures = failed > 0 ? `, ${failed} failed` : '';
  return `${printable(stats.method)}: ${opening}, ${speedup.toFixed(1)}x speed-up (${formatDuration(busyMs)} of shard time${slots})${failures}`;
}

/** A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 9995 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

/** Shards per second, short: `0.50/s`, `12.3/s`, `4.5k/s`, `1.2M/s`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  if (perSecond >= 100) return `${Math.round(perSecond)}/s`;
  return `${perSecond.toFixed(perSecond < 10 ? 2 : 1)}/s`;
}

function bar(share: number): string {
  const full = Math.round(share * BAR_WIDTH);
  return `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}]`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A method's name may be anything: control characters would move the cursor or garble the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * What every benchmark suite shares: the suite contract the runner drives, timing and medians,
 * interleaved runs, fresh child processes for memory, verdicts against goals, and table output.
 * Every figure a suite prints is measured in the same run; nothing is quoted from elsewhere.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** The repository root (bench/..). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A benchmark suite: one file under bench/, one entry in the list in bench/index.ts. */
export interface Suite {
  /** Short key for `--only <name>`. */
  readonly name: string;
  /** One line saying what is measured. */
  readonly title: string;
  run(context: SuiteContext): Promise<SuiteReport>;
}

export interface SuiteContext {
  /** `--runs <n>` from the command line: overrides each suite's own number of timed runs. */
  readonly runs: number | undefined;
  /**
   * `--quick`: small sizes and one run, to see that a suite and the page work (the figures are
   * rough). A suite that shrinks its sizes says so in its report's `title`.
   */
  readonly quick: boolean;
  /** Progress for long suites, on stderr so the tables on stdout stay clean. */
  readonly progress: (message: string) => void;
}

/** One line of a suite's table. */
export interface Row {
  readonly measure: string;
  readonly value: string;
  /** The goal or limit, as printed (e.g. `<= 1.05`). */
  readonly goal?: string;
  /** Set when the row is judged against a goal. */
  readonly check?: Check;
  /** Anything else worth a column: runs, spread, the floor it is compared to. */
  readonly detail?: string;
}

export interface Check {
  readonly pass: boolean;
  /** e.g. `meets goal`, `MISSES GOAL`, `within limit`. */
  readonly verdict: string;
}

export interface SuiteReport {
  readonly rows: readonly Row[];
  /** Printed under the table: how to read it, what the run did. */
  readonly notes?: readonly string[];
  /** The suite's title for this run, when its sizes differ from the suite's own (`--quick`). */
  readonly title?: string;
  /** Figures as numbers, for the charts of the page (`--report`); see bench/charts.ts. */
  readonly charts?: readonly Chart[];
}

/**
 * The numbers behind one chart of the page. Suites that add to one chart give the same `key`: the
 * page joins their points, and takes the title and axes from the first.
 */
export interface Chart {
  /** Its file name under docs/benchmarks/, without `.svg`. */
  readonly key: string;
  readonly title: string;
  /** `line`: y against a numeric x, one line per series; `bar`: one horizontal bar per point. */
  readonly kind: 'line' | 'bar';
  /** For `line`, the x axis; for `bar`, the axis of the bars' labels. */
  readonly x: Axis;
  /** The measured value's axis. */
  readonly y: Axis;
  readonly points: readonly Point[];
  /** A horizontal (line) or vertical (bar) rule at a value of y, labelled: a goal, a parity, a default. */
  readonly reference?: { readonly value: number; readonly label: string };
  /** One sentence under the chart on the page: how to read it. */
  readonly caption: string;
}

export interface Axis {
  /** With its unit, e.g. `peak RSS growth (MB)`. */
  readonly title: string;
  /** A logarithmic scale (for sizes over decades, or ratios far from 1). */
  readonly log?: boolean;
}

export interface Point {
  /** A number on a `line` chart's x axis; a bar's label on a `bar` chart. */
  readonly x: number | string;
  readonly y: number;
  /** The line (or the colour of the bar) it belongs to. */
  readonly series: string;
}

/** The one chart every comparison with another library adds its bars to. */
export const VERSUS_CHART = 'versus';

/**
 * A bar of the comparison chart: parafor's time divided by `contender`'s on one scenario
 * (below 1, parafor is faster). Every suite that measures parafor against a library adds one.
 */
export function versus(contender: string, scenario: string, ratio: number): Chart {
  return {
    key: VERSUS_CHART,
    title: 'parafor against other libraries, same work, same run',
    kind: 'bar',
    x: { title: 'scenario' },
    y: { title: "time parafor / the library's (x, log scale)", log: true },
    points: [{ x: `${contender}: ${scenario}`, y: ratio, series: contender }],
    reference: { value: 1, label: 'as fast' },
    caption: 'Each bar is a ratio of times measured side by side in one run: below 1, parafor took less time.',
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

/** Every figure is printed with 2 decimals. */
export const fixed = (value: number): string => value.toFixed(2);
export const ms = (value: number): string => `${fixed(value)} ms`;
export const mb = (bytes: number): string => `${fixed(bytes / 2 ** 20)} MB`;
export const times = (value: number): string => `${fixed(value)}x`;

/** `3 runs`, `1 run`. */
export const plural = (count: number, noun: string, suffix = 's'): string =>
  `${count} ${noun}${count === 1 ? '' : suffix}`;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `min … max` of the runs, for the detail column. */
export function spread(values: readonly number[], format: (value: number) => string = fixed): string {
  return `${plural(values.length, 'run')}, ${format(Math.min(...values))} … ${format(Math.max(...values))}`;
}

/**
 * Judges `value` against `limit` as printed: both at 2 decimals, so a printed `1.00` meets a limit
 * of `1.00` and a printed `50.00` misses `< 50`.
 */
export function judge(
  value: number,
  op: '<=' | '<',
  limit: number,
  words: { readonly pass: string; readonly fail: string } = { pass: 'meets goal', fail: 'MISSES GOAL' },
): Check {
  const shown = Number(fixed(value));
  const pass = op === '<=' ? shown <= limit : shown < limit;
  return { pass, verdict: pass ? words.pass : words.fail };
}

// ---------------------------------------------------------------------------------------------
// Running

/** Wall time of one call, in milliseconds. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * Runs the contenders in turn, round after round (A B C A B C …), so that the machine's noise falls
 * on all of them alike. Each contender measures one run and returns its figure (e.g. a time, from
 * {@link timed} in this process or from a fresh process); returns each contender's figures.
 */
export async function interleave<K extends string>(
  contenders: Readonly<Record<K, () => Promise<number>>>,
  options: { readonly rounds: number; readonly progress?: (message: string) => void },
): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < options.rounds; round++) {
    for (const name of names) {
      options.progress?.(`round ${round + 1}/${options.rounds}: ${name}`);
      samples[name].push(await contenders[name]());
    }
  }
  return samples;
}

/**
 * Runs `bench/<file>` in a fresh Node process with tsx's loader (`node --import tsx`), so that
 * what it allocates is all its own, and returns the JSON it prints as its last stdout line.
 */
export function runFresh<T>(file: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): Promise<T> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const loader = import.meta.resolve('tsx');
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', loader, script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        reject(new Error(`bench/${file} ${args.join(' ')} exited with ${code ?? signal}:\n${stderr}${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`bench/${file} ${args.join(' ')} printed no JSON result:\n${stdout}${stderr}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Output

/** The machine and the code measured: printed above the tables, and the page's header. */
export interface Machine {
  readonly node: string;
  readonly v8: string;
  /** e.g. `Linux 6.1.0 (x64)`, with the distribution's name where /etc/os-release gives it. */
  readonly os: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  /** The 1, 5 and 15 minute load averages when the run started. */
  readonly load: readonly number[];
  /**
   * The 1 minute load average was above half the cores when the run started: other work shared
   * the machine, and the figures are noisy.
   */
  readonly busy: boolean;
  /** Which parafor is measured: the commit, and whether src/ differs from it. */
  readonly source: string;
  readonly commit: string | undefined;
}

export function machine(): Machine {
  const cores = os.availableParallelism();
  const load = os.loadavg();
  return {
    node: process.version,
    v8: process.versions.v8,
    os: `${osName()}${os.type()} ${os.release()} (${process.arch})`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores,
    memoryGb: os.totalmem() / 2 ** 30,
    load,
    busy: (load[0] ?? 0) > 0.5 * cores,
    ...describeSource(),
  };
}

/** `Debian GNU/Linux 13 (trixie), ` from /etc/os-release, or nothing. */
function osName(): string {
  try {
    const name = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    return name === undefined ? '' : `${name}, `;
  } catch {
    return '';
  }
}

/** The machine and the code measured, as lines printed above the tables. */
export function describeMachine(of: Machine = machine()): string[] {
  return [
    `node ${of.node} (${of.os}, V8 ${of.v8})`,
    `cores: ${of.cores} available (${of.cpu}), memory ${fixed(of.memoryGb)} GB, load average ${of.load.map((value) => fixed(value)).join(' ')}${of.busy ? ' (busy: the figures are noisy)' : ''}`,
    `parafor: ${of.source}`,
  ];
}

function describeSource(): { readonly source: string; readonly commit: string | undefined } {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return {
      source: `src/ at commit ${commit}${dirty > 0 ? ` + uncommitted changes in ${dirty} file${dirty === 1 ? '' : 's'}` : ''}`,
      commit,
    };
  } catch {
    return { source: 'src/ (not a git checkout)', commit: undefined };
  }
}

/** A suite's table, header first: what the console and the page both print. */
export function tableOf(report: SuiteReport): string[][] {
  return [
    ['measure', 'value', 'goal', 'verdict', 'detail'],
    ...report.rows.map((row) => [row.measure, row.value, row.goal ?? '', row.check?.verdict ?? '', row.detail ?? '']),
  ];
}

/** A plain text table; the header is the first row. */
export function renderTable(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    indent +
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (header === undefined) return '';
  const rule = indent + widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...body.map(line)].join('\n');
}

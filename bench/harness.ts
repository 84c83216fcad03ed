/**
 * What every benchmark suite shares: the suite contract the runner drives, timing and medians,
 * interleaved runs, fresh child processes for memory, verdicts against goals, and table output.
 * Every figure a suite prints is measured in the same run; nothing is quoted from elsewhere.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
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

/** The machine and the code measured, printed above the tables. */
export function describeMachine(): string[] {
  const cpus = os.cpus();
  const load = os
    .loadavg()
    .map((value) => fixed(value))
    .join(' ');
  return [
    `node ${process.version} (${process.platform} ${process.arch}, V8 ${process.versions.v8})`,
    `cores: ${os.availableParallelism()} available (${cpus[0]?.model.trim() ?? 'unknown CPU'}), memory ${fixed(os.totalmem() / 2 ** 30)} GB, load average ${load}`,
    `parafor: ${describeSource()}`,
  ];
}

/** Which parafor is measured: the commit, and whether src/ differs from it. */
function describeSource(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `src/ at commit ${commit}${dirty > 0 ? ` + uncommitted changes in ${dirty} file${dirty === 1 ? '' : 's'}` : ''}`;
  } catch {
    return 'src/ (not a git checkout)';
  }
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

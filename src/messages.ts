/**
 * How parafor words what it tells the user: every message starts with who is speaking (a method,
 * a decorator, `parallel()`) and a capitalised sentence, and every value in a message is shown by
 * {@link describe}. Warnings go through `process.emitWarning`, each with its own code.
 * @module
 */
import { inspect } from 'node:util';

/**
 * Describes a value for a message: short, one line, with its type, e.g. `` `0` (number) ``,
 * `` `'abc'` (string) ``, `` `{ a: 1 }` (object) ``. Runs none of the value's own code (no getters, no
 * custom inspection), so it never throws, whatever the value.
 */
export function describe(value: unknown): string {
  const type = typeOf(value);
  let shown: string;
  try {
    shown = inspect(value, {
      depth: 1,
      breakLength: Infinity,
      maxArrayLength: 5,
      maxStringLength: 40,
      customInspect: false,
      getters: false,
    });
  } catch {
    // A revoked proxy or a trap that throws: say what can be said without touching it.
    shown = typeof value === 'function' ? '[Function]' : `[${type}]`;
  }
  const short = shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
  return `\`${short}\` (${type})`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  try {
    return Array.isArray(value) ? 'array' : typeof value;
  } catch {
    // A revoked proxy cannot even say whether it is an array.
    return typeof value;
  }
}

/** The one template of every message: `Who: Sentence`. */
export function say(who: string, sentence: string): string {
  return `${who}: ${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}`;
}

/** The `TypeError` every bad input gets: `Who: Expected what, got value (type)`. */
export function invalid(who: string, expected: string, value: unknown): TypeError {
  return new TypeError(say(who, `expected ${expected}, got ${describe(value)}`));
}

/**
 * The `TypeError` of a bad value met while something else speaks: `Expected what, got value (type)`,
 * with no speaker, for an error that carries it as its `cause` and names the method itself (as
 * `ShardSourceError` does).
 */
export function unexpected(expected: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected}, got ${describe(value)}`);
}

/** A `TypeError` for input that has the right type but cannot work: `Who: Sentence`. */
export function refused(who: string, sentence: string, cause?: unknown): TypeError {
  return new TypeError(say(who, sentence), cause === undefined ? undefined : { cause });
}

/** What a thrown value says about itself in a message: `TypeError: bad` or `` threw `7` (number) ``. */
export function reasonOf(thrown: unknown): string {
  if (thrown instanceof Error) {
    let name: string;
    let message: string;
    try {
      name = String(thrown.name);
      message = String(thrown.message);
    } catch {
      // A getter that throws: the error cannot describe itself.
      return `threw ${describe(thrown)}`;
    }
    return message === '' ? name : `${name}: ${message}`;
  }
  return `threw ${describe(thrown)}`;
}

/** Quotes names for a message: `` `a`, `b`, `c` ``. */
export function quoteAll(names: readonly string[], quote = '`'): string {
  return names.map((name) => `${quote}${name}${quote}`).join(', ');
}

/**
 * The known name closest to a misspelt one, if it is close enough to be what was meant (at most a
 * third of its letters wrong, case aside).
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

// Optimal string alignment distance (Levenshtein plus swapped neighbours, the commonest typo).
// Option names are a dozen short words, so the plain quadratic table is all this needs.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Infinity;
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        distance = Math.min(distance, at(i - 2, j - 2) + 1);
      row[j] = distance;
    }
  }
  return at(a.length, b.length);
}

/** The codes of parafor's warnings, for `process.on('warning')` filters and `--disable-warning`. */
export type WarningCode =
  | 'PARAFOR_ON_PROGRESS_THREW'
  | 'PARAFOR_CLEANUP_FAILED'
  | 'PARAFOR_RETRY_IF_FAILED'
  | 'PARAFOR_ON_STATS_THREW'
  | 'PARAFOR_LEFTOVER_ERROR'
  | 'PARAFOR_CONTEXT_LATE';

/**
 * Reports what went wrong after the caller already has its answer, or in the user's own callback,
 * where throwing would lose results: as a process warning, which a program can listen to or silence.
 */
export function warn(code: WarningCode, message: string, error: unknown): void {
  process.emitWarning(`${message}: ${reasonOf(error)}`, { code, detail: stackOf(error) });
}

function stackOf(error: unknown): string | undefined {
  try {
    const stack = (error as { stack?: unknown } | null)?.stack;
    return typeof stack === 'string' ? stack : undefined;
  } catch {
    return undefined;
  }
}

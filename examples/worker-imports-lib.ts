/**
 * A distributed method that uses what its module imports and builds: `node:zlib` and `node:crypto`,
 * and a table made once when the module loads. Each worker imports this module afresh, so all of it is
 * there, in the worker: no stringified function, no worker file. What the main thread changes in the
 * module after importing it is not: values a method needs from the caller travel as fields or arguments.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { distribute, currentShard } from '../src/index.js';

/** Module-level state, built when the module loads (in each worker too, by its own import). */
const STOP_WORDS = new Set(['the', 'a', 'of', 'and', 'to', 'in']);

export interface Summary {
  readonly index: number | undefined;
  readonly words: number;
  readonly distinct: number;
  readonly compressedBytes: number;
  readonly sha256: string;
}

/**
 * An error class of its own. Its prototype cannot travel from the worker, so it comes back as a plain
 * `Error`; setting `this.name` is what lets the caller recognise it (without it, the name is `Error`),
 * and `code` and `title`, own properties, come back too.
 */
export class NotFoundError extends Error {
  readonly code = 'E_NOT_FOUND';

  constructor(readonly title: string) {
    super(`no text titled "${title}"`);
    this.name = 'NotFoundError';
  }
}

export class Summarizer {
  // Own fields are copied to the worker (structured clone); the class prototype is restored there.
  constructor(
    readonly level: number,
    readonly label: string,
    readonly library: ReadonlyMap<string, string> = new Map(),
  ) {}

  words(text: string): string[] {
    return text
      .toLowerCase()
      .split(/\W+/)
      .filter((word) => word !== '' && !STOP_WORDS.has(word));
  }

  @distribute({ executor: 'worker' })
  summarize(text: string): Summary {
    const words = this.words(text);
    return {
      index: currentShard()?.index,
      words: words.length,
      distinct: new Set(words).size,
      compressedBytes: deflateSync(text, { level: this.level }).length,
      sha256: `${this.label}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
    };
  }

  /** The number of distinct words of a text of the library, by its title. */
  @distribute({ executor: 'worker' })
  distinctWordsOf(title: string): number {
    const text = this.library.get(title);
    if (text === undefined) throw new NotFoundError(title);
    return new Set(this.words(text)).size;
  }
}

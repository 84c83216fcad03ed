/**
 * A distributed method that uses what its module imports and builds: `node:zlib` and `node:crypto`,
 * and a table made once when the module loads. Each worker imports this module, so all of it is
 * there, in the worker, exactly as in the main thread: no stringified function, no worker file.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { distribute, currentShard } from '../src/index.js';

/** Module-level state, built when the module loads (in each worker too). */
const STOP_WORDS = new Set(['the', 'a', 'of', 'and', 'to', 'in']);

export interface Summary {
  readonly index: number | undefined;
  readonly words: number;
  readonly distinct: number;
  readonly compressedBytes: number;
  readonly sha256: string;
}

export class Summarizer {
  // Own fields are copied to the worker (structured clone); the class prototype is restored there.
  constructor(
    readonly level: number,
    readonly label: string,
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
}

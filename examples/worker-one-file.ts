/**
 * The article's one-file style with worker threads. A worker imports the module that defines the
 * method, and this file is the entry script: importing it would run the program again in every
 * worker (Python's `if __name__ == '__main__'` trap). So the program runs only when this file is
 * the entry, and `module: import.meta.url` tells parafor that importing it is safe. Without both,
 * the call fails at once and says what to do. Run it: `npx tsx examples/worker-one-file.ts`.
 */
import { pathToFileURL } from 'node:url';
import { distribute, parallel } from '../src/index.js';

export class Roots {
  @distribute({ executor: 'worker', module: import.meta.url })
  sumOfRoots(n: number): number {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.sqrt(i);
    return Math.round(sum);
  }
}

// Node 20's spelling of `import.meta.main`: true only in the process that was started with this file.
const isEntry = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;

// The workers import this file too; this guard keeps them from running the program again.
if (isEntry) {
  const sizes = [1e7, 2e7, 3e7, 4e7];
  console.log('Sum of the square roots of 0, 1, …, n - 1, rounded, one shard per n, on worker threads:');
  const sums = await parallel(new Roots()).sumOfRoots(sizes);
  sizes.forEach((n, i) => console.log(`  n = ${n.toLocaleString('en')}: ${sums[i]}`));
}

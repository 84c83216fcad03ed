/**
 * A realistic I/O-bound loop, without the network: crawl a small site served by a local HTTP server.
 *
 * - The server (node:http on 127.0.0.1, a random port) answers each page after a different delay;
 *   a few pages fail with HTTP 500, one never answers at all.
 * - `@distribute({ concurrency, timeout })` fetches the pages four at a time, and gives up on any
 *   page that takes longer than 500 ms. `currentShard().signal` goes to `fetch`, so a page that times
 *   out is really cancelled: the request is aborted, not left running.
 * - `results: 'settled'` reports every page, fetched or failed, instead of stopping at the first failure.
 * - `onProgress` prints a line as each page finishes.
 *
 * Run it: `npx tsx examples/http-crawl.ts`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { currentShard, distribute, parallel, ShardTimeoutError, type Progress } from '../src/index.js';

// -------------------------------------------------------------------------------------------------
// The site: `/` lists 20 pages; `/page/<n>` answers after a delay that depends on n.
// -------------------------------------------------------------------------------------------------
const PAGES = 20;
const BROKEN = new Set([6, 17]); // answer HTTP 500
const HANGS = 13; // never answers
const delayOf = (n: number): number => 50 + ((n * 37) % 300);

let inFlight = 0;
let maxInFlight = 0;
let abandoned = 0;

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/') {
    const links = Array.from({ length: PAGES }, (_, n) => `/page/${n}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ links }));
    return;
  }
  const n = Number(/^\/page\/(\d+)$/.exec(url.pathname)?.[1] ?? NaN);
  if (!Number.isInteger(n)) {
    response.writeHead(404).end();
    return;
  }
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  let answered = false;
  response.on('close', () => {
    inFlight--;
    // The client hung up before we answered: that is the shard's signal aborting `fetch`.
    if (!answered) abandoned++;
  });
  if (n === HANGS) return;
  setTimeout(() => {
    answered = true;
    if (BROKEN.has(n)) {
      response.writeHead(500, 'Internal Server Error').end();
    } else {
      const body = { page: n, title: `Page ${n}`, words: 100 + n * 10 };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
  }, delayOf(n));
}

const server = createServer(handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`site up at ${base}`);

// -------------------------------------------------------------------------------------------------
// The crawler. `fetchPage` is written for ONE page, as a plain loop body would be.
// -------------------------------------------------------------------------------------------------
interface Page {
  readonly page: number;
  readonly title: string;
  readonly words: number;
}

class Crawler {
  constructor(readonly base: string) {}

  @distribute({ concurrency: 4, timeout: 500 })
  async fetchPage(path: string): Promise<Page> {
    // Inside a shard, currentShard() is always set. Its signal aborts when this page's 500 ms are up
    // (or the whole crawl stops), and `fetch` then cancels the request.
    const { signal } = currentShard()!;
    const response = await fetch(new URL(path, this.base), { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return (await response.json()) as Page;
  }
}

const crawler = new Crawler(base);
const index = (await (await fetch(base)).json()) as { links: string[] };

// Called as each page finishes, fetched or failed.
function showProgress({ done, total, failed, index, durationMs }: Progress): void {
  const counter = `[${String(done).padStart(2)}/${total}]`;
  console.log(`  ${counter} page ${index} finished in ${durationMs.toFixed(0)} ms (failed so far: ${failed})`);
}

console.log(`crawling ${index.links.length} pages, 4 at a time, 500 ms each at most`);
const start = performance.now();
const outcomes = await parallel(crawler, { results: 'settled', onProgress: showProgress }).fetchPage(index.links);
const wall = performance.now() - start;

// -------------------------------------------------------------------------------------------------
// Every page has an outcome, in input order. Failures carry a ShardError: which shard, and why.
// -------------------------------------------------------------------------------------------------
let words = 0;
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') {
    words += outcome.value.words;
    continue;
  }
  const { index: position, shard, cause } = outcome.reason;
  const why = cause instanceof ShardTimeoutError ? `timed out after ${cause.timeout} ms` : String(cause);
  console.log(`  failed: #${position} ${String(shard)}: ${why}`);
}

const fetched = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
const sequentialEstimate = index.links.reduce((sum, _, n) => sum + (n === HANGS ? 500 : delayOf(n)), 0);
console.log(`fetched ${fetched} of ${outcomes.length} pages (${words} words) in ${wall.toFixed(0)} ms`);
console.log(`a sequential loop would have waited about ${sequentialEstimate} ms`);
console.log(`the server saw at most ${maxInFlight} requests at once; ${abandoned} request(s) abandoned by the client`);

// Close the server (and the idle keep-alive connections `fetch` holds), so the program ends by itself.
server.closeAllConnections();
server.close();

/**
 * Calling a service that has a quota and fails now and then, without a retry loop of your own.
 *
 * - The server (node:http on 127.0.0.1, a random port) allows 10 requests in any 500 ms and answers
 *   HTTP 429 past that; one request in five fails with HTTP 503; unknown ids get HTTP 404.
 * - One `RateLimiter` holds the quota for both methods, since the server counts them together. It
 *   counts requests when they leave and the server when they arrive, a little later and not all
 *   equally late, so the client keeps a margin: 10 in 600 ms against the server's 10 in 500 ms.
 * - `retries` runs a failed request again after a growing, jittered wait, but not a 404: that one
 *   will not go away, and `retryIf` says so.
 *
 * Run it: `npx tsx examples/quota-api.ts`. It prints what came back, and the server's count of
 * requests over its quota: none, or the few that arrived late enough to bunch up, which got a 429
 * and were retried like the 503s.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { currentShard, distribute, parallel, RateLimiter, ShardError } from '../src/index.js';

// -------------------------------------------------------------------------------------------------
// The service: a quota of 10 requests in any 500 ms, flaky, and strict about ids.
// -------------------------------------------------------------------------------------------------
const QUOTA = { limit: 10, interval: 500 };
const arrivals: number[] = [];
let overQuota = 0;
let requests = 0;

function handle(request: IncomingMessage, response: ServerResponse): void {
  const now = performance.now();
  arrivals.push(now);
  requests++;
  // The requests of the last 500 ms, this one included.
  if (arrivals.filter((t) => t > now - QUOTA.interval).length > QUOTA.limit) {
    overQuota++;
    response.writeHead(429).end();
    return;
  }
  const id = Number(new URL(request.url ?? '/', 'http://localhost').pathname.split('/').pop());
  if (!Number.isInteger(id) || id >= 100) response.writeHead(404).end();
  else if (Math.random() < 0.2) response.writeHead(503).end();
  else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: `item ${id}` }));
}

const server = createServer(handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// -------------------------------------------------------------------------------------------------
// The client: methods written for one id; the quota and the retries are options.
// -------------------------------------------------------------------------------------------------
class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The service's quota, with a margin, shared by every call that counts against it. */
const quota = new RateLimiter({ limit: QUOTA.limit, interval: QUOTA.interval + 100 });

const retries = {
  limit: 5,
  minDelay: 50,
  // 404 is final; 429, 503 and network errors are worth another try.
  retryIf: ({ error }: { error: unknown }) => !(error instanceof HttpError && error.status === 404),
};

async function getJson(path: string): Promise<unknown> {
  const response = await fetch(`${base}${path}`, { signal: currentShard()?.signal ?? null });
  if (!response.ok) throw new HttpError(response.status);
  return response.json();
}

class Catalog {
  @distribute({ concurrency: 8, rateLimit: quota, retries })
  async product(id: number) {
    return getJson(`/products/${id}`);
  }

  @distribute({ concurrency: 8, rateLimit: quota, retries })
  async stock(id: number) {
    return getJson(`/stock/${id}`);
  }
}

const catalog = parallel(new Catalog());
const ids = Array.from({ length: 30 }, (_, i) => i);
const started = performance.now();
const [products, stock] = await Promise.all([catalog.product(ids), catalog.stock(ids)]);
console.log(
  `${products.length} products and ${stock.length} stock levels in ${Math.round(performance.now() - started)} ms`,
);
console.log(`${requests} requests (the rest of ${2 * ids.length} were retries), ${overQuota} over the quota`);

const outcomes = await parallel(new Catalog(), { results: 'settled' }).product([1, 2, 404]);
for (const outcome of outcomes) {
  if (outcome.status === 'rejected') {
    const error: ShardError = outcome.reason;
    console.log(
      `product ${String(outcome.shard)}: ${String(error.cause)} after ${error.attempts} attempt(s), not retried`,
    );
  }
}
server.close();

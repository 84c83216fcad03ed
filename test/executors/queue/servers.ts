/**
 * Real servers for the queue executor's tests: a redis-server (Debian's package) on loopback, on a
 * free port, in a temporary folder, with nothing saved to disk; and `parafor worker` processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sleep } from '../../helpers.js';

/** The compiled tree this test runs from (.build/<mode>/): its CLI and fixtures are the same build. */
const build = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(build, 'src/cli/main.js');
export const METHODS = join(build, 'test/fixtures/queue/methods.js');

/** Why the queue tests cannot run here, if they cannot: only off CI, where redis-server is missing. */
export function skipReason(): string | undefined {
  const found = spawnSync('redis-server', ['--version']).status === 0;
  if (found) return undefined;
  if (process.env['CI'] !== undefined) return undefined; // CI must run them: .ci/run installs redis-server
  return 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)';
}

/**
 * A plain client for a test's own look into Redis. It says nothing while Redis is down (a test may
 * have stopped it), and gives up on a command after one reconnection instead of twenty.
 */
export function quietClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of the test's own. */
export class RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #dir = mkdtempSync(join(tmpdir(), 'parafor-redis-'));
  #process: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  /** Starts it (again, on the same port: a Redis that comes back). */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.#process = spawn('redis-server', [...args, '--dir', this.#dir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        await sleep(50);
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stops it (a Redis that goes down): SIGKILL, so nothing is saved and nothing is said. */
  async stop(): Promise<void> {
    const running = this.#process;
    this.#process = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  /** Every key in Redis now. */
  async keys(): Promise<string[]> {
    const client = quietClient(this.url);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      return keys.sort();
    } finally {
      client.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A `parafor worker` process, started and ready. */
export class WorkerProcess {
  readonly child: ChildProcess;
  /** What it wrote on stderr so far. */
  log = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.log += text));
  }

  /** Starts `parafor worker` on `queue` of `redis` with the test methods (or `modules`), and waits until it is ready. */
  static async start(
    redis: RedisServer,
    queue: string,
    { concurrency = 2, modules = [METHODS], cwd = process.cwd(), extra = [] as string[] } = {},
  ): Promise<WorkerProcess> {
    const args = [CLI, 'worker', '--connection', redis.url, '--queue', queue, '--concurrency', String(concurrency)];
    // Short lock and stall settings: a killed worker's jobs run again within seconds.
    args.push('--lock-duration', '1500', '--stalled-interval', '500', ...extra, ...modules);
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, PARAFOR_TEST_REDIS: redis.url, PARAFOR_TEST_QUEUE: queue },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    await worker.waitFor(/ready:/, 20_000);
    return worker;
  }

  /** Resolves once `pattern` appears on its stderr; rejects if it exits first or `ms` pass. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`parafor worker exited (${this.child.exitCode}): ${this.log}`);
      if (Date.now() > deadline) throw new Error(`parafor worker never said ${String(pattern)}: ${this.log}`);
      await sleep(25);
    }
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Keys that calls left: every key but the queue's fixed ones (meta, id, events, stalled-check, marker). */
export function callKeys(keys: readonly string[], queue: string): string[] {
  const fixed = new Set(['meta', 'id', 'events', 'stalled-check', 'marker']);
  return keys.filter((key) => {
    const [, name, rest] = key.split(':');
    return name !== queue || rest === undefined || !fixed.has(rest) || key.split(':').length > 3;
  });
}

/** The entries of a Redis stream (the queue's `events`), each as its fields. */
export async function streamEntries(url: string, key: string): Promise<Record<string, string>[]> {
  const client = quietClient(url);
  try {
    const entries = await client.xrange(key, '-', '+');
    return entries.map(([, fields]) => {
      const entry: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
      return entry;
    });
  } finally {
    client.disconnect();
  }
}

/** Waits until at least `count` jobs of `queue` are running (taken by workers). */
export async function activeJobs(url: string, queue: string, count: number): Promise<void> {
  const client = quietClient(url);
  try {
    for (let i = 0; i < 400; i++) {
      if ((await client.llen(`bull:${queue}:active`)) >= count) return;
      await sleep(25);
    }
    throw new Error(`${count} jobs of ${queue} never ran at once`);
  } finally {
    client.disconnect();
  }
}

/**
 * `parafor worker`: imports the given modules (which makes their decorated methods known), then
 * takes jobs from a queue executor's queue and runs them, `--concurrency` at once, in its own
 * worker threads. SIGINT or SIGTERM stop it gracefully: it takes no new job, finishes those it
 * runs, closes its connections and exits 0 (a second signal lets the running jobs go: other
 * workers take them once their lock expires). Stopping ends within a bounded time whatever state
 * Redis is in. A Redis it cannot reach, or loses, is retried, saying so on stderr, and the worker
 * goes on when Redis is back.
 * @module
 */
import { availableParallelism } from 'node:os';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { reasonOf } from '../messages.js';
import { sharedPool, shutdownPool } from '../executors/pool/pool.js';
import { cancelChannel, type CancelMessage } from '../executors/queue/jobs.js';
import { loadBullMQ } from '../executors/queue/load.js';
import { projectPath } from '../util/project-path.js';
import { isTypeScript, registerTypeScript } from '../worker/typescript.js';
import { JobRunner } from './run-job.js';

const USAGE = `Usage: parafor worker --queue <name> [options] <module…>

Runs the jobs of a queue executor (parafor/queue). Each module is imported first, which makes its
decorated methods known; a job names its method's module by its package and its path there, so
give the worker those modules of the same code, from any folder (compiled .js, or .ts with tsx).

Options:
  --connection <url>        Redis URL (default: redis://127.0.0.1:6379)
  --queue <name>            The queue's name, as given to queueExecutor() (required)
  --concurrency <n>         Jobs run at once, each in a worker thread (default: the number of cores)
  --prefix <prefix>         Prefix of the queue's Redis keys, as given to queueExecutor() (default: bull)
  --lock-duration <ms>      How long a job's lock lasts unrenewed: a killed worker's jobs run again
                            elsewhere after about this long (default: 5000)
  --stalled-interval <ms>   How often to look for jobs whose worker died (default: 2000)
  --max-stalled-count <n>   How often a job may lose its worker before it fails (default: 2)
  -h, --help                Show this help
`;

const OPTIONS = {
  connection: { type: 'string', default: 'redis://127.0.0.1:6379' },
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  prefix: { type: 'string', default: 'bull' },
  'lock-duration': { type: 'string', default: '5000' },
  'stalled-interval': { type: 'string', default: '2000' },
  'max-stalled-count': { type: 'string', default: '2' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** How long a graceful stop waits for running jobs before it lets them go. */
const STOP_WAIT_MS = 60_000;
/**
 * How long closing may take once no job runs: storing the last results, closing the connections and
 * the threads. With Redis unreachable a close can wait forever (bullmq #4656); then it is cut off.
 */
const CLOSE_WAIT_MS = 3_000;

/** Resolves once `ms` pass, without keeping the process alive for it. */
function after(ms: number): Promise<void> {
  return delay(ms, undefined, { ref: false });
}

/**
 * Closes a Redis client now. quit() waits for Redis to answer, and a command waiting in the offline
 * queue (a subscribe sent before Redis was ever reached) keeps it waiting forever: a client that is
 * not ready has nothing to say to Redis, so it is disconnected instead.
 */
async function closeClient(client: {
  readonly status: string;
  quit(): Promise<unknown>;
  disconnect(): void;
}): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => undefined);
  client.disconnect();
}

/** Resolves once `runner` runs no job. */
async function idle(runner: JobRunner): Promise<void> {
  while (runner.running > 0) await after(50);
}

function fail(message: string): number {
  process.stderr.write(`parafor worker: ${message}\n\n${USAGE}`);
  return 2;
}

function count(value: string | undefined, name: string, min: number): number | string {
  const number = Number(value);
  return Number.isInteger(number) && number >= min
    ? number
    : `expected an integer from ${min} and up for --${name}, got '${value ?? ''}'`;
}

/** Runs the command with its arguments (after `worker`); resolves with the exit code once it stops. */
export async function runWorkerCommand(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return fail(reasonOf(error).replace(/^TypeError( \[\w+\])?: /, ''));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.queue === undefined || values.queue === '') return fail('--queue is required');
  if (positionals.length === 0) return fail('give at least one module to import');
  const numbers = {
    concurrency:
      values.concurrency === undefined ? availableParallelism() : count(values.concurrency, 'concurrency', 1),
    lockDuration: count(values['lock-duration'], 'lock-duration', 100),
    stalledInterval: count(values['stalled-interval'], 'stalled-interval', 100),
    maxStalledCount: count(values['max-stalled-count'], 'max-stalled-count', 0),
  };
  for (const value of Object.values(numbers)) if (typeof value === 'string') return fail(value);
  const { concurrency, lockDuration, stalledInterval, maxStalledCount } = numbers as Record<
    keyof typeof numbers,
    number
  >;
  const connection = values.connection;
  const where = connection.replace(/\/\/[^@/]*@/, '//');
  const log = (line: string): boolean => process.stderr.write(`parafor worker: ${line}\n`);

  // Each module by its name in its package, as jobs name it (see projectPath).
  const modules = new Map<string, string>();
  for (const path of positionals) {
    let url: string;
    try {
      // The real path, as the caller's loader names its module: a symbolic link gives the same name.
      const file = realpathSync(resolve(path));
      url = pathToFileURL(file).href;
      if (isTypeScript(url)) await registerTypeScript(url, 'parafor worker');
      await import(url);
    } catch (error) {
      log(`importing ${path} failed: ${reasonOf(error)}`);
      return 1;
    }
    const name = projectPath(fileURLToPath(url));
    const same = [...modules].find(([known]) => known === name);
    if (same !== undefined) {
      log(
        `${fileURLToPath(same[1])} and ${path} have the same name in their packages, ${name}: a job could not tell them apart`,
      );
      return 1;
    }
    modules.set(name, url);
  }

  const { Worker, Redis } = await loadBullMQ('parafor worker').catch((error: unknown) => {
    log(reasonOf(error));
    return { Worker: undefined, Redis: undefined };
  });
  if (Worker === undefined || Redis === undefined) return 1;

  const pool = sharedPool('worker');
  pool.reserve(concurrency);
  const runner = new JobRunner(pool, modules, positionals);
  // Reconnect fast: a worker should resume within a second or two of Redis coming back.
  const retryStrategy = (times: number): number => Math.min(250 * times, 2000);
  const subscriber = new Redis(connection, { maxRetriesPerRequest: null, retryStrategy });
  // 'connecting' until Redis was first reached: a worker that never reached it did not lose it.
  let redis: 'connecting' | 'unreachable' | 'up' | 'down' = 'connecting';
  subscriber.on('error', (error: unknown) => {
    if (redis === 'connecting') {
      redis = 'unreachable';
      log(`cannot reach Redis at ${where} (${reasonOf(error)}); retrying until it answers`);
    } else if (redis === 'up') {
      redis = 'down';
      log(`lost the connection to Redis at ${where} (${reasonOf(error)}); retrying`);
    }
  });
  subscriber.on('ready', () => {
    if (redis === 'down') log(`connected to Redis at ${where} again; resuming`);
    else if (redis === 'unreachable') log(`reached Redis at ${where}`);
    redis = 'up';
  });
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      runner.cancel(JSON.parse(text) as CancelMessage);
    } catch {
      // Not a message of ours: someone else publishes on the channel.
    }
  });
  const worker = new Worker(values.queue, (job) => runner.run(job), {
    connection: { url: connection, maxRetriesPerRequest: null, retryStrategy },
    prefix: values.prefix,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    autorun: false,
  });
  // Connection errors are told once by the subscriber, above; the worker reconnects by itself.
  worker.on('error', () => undefined);

  let stopping: Promise<void> | undefined;
  let asked!: () => void;
  const stopAsked = new Promise<void>((resolve) => (asked = resolve));
  let letGo!: () => void;
  const forced = new Promise<void>((resolve) => (letGo = resolve));
  const stop = (signal: NodeJS.Signals): void => {
    asked();
    if (stopping !== undefined) {
      log(`${signal} again: letting ${runner.running} running job(s) go; other workers will take them`);
      letGo();
      return;
    }
    log(`${signal}: stopping after ${runner.running} running job(s)`);
    stopping = (async () => {
      // Every wait is bounded, or cut short by a second signal: the process always ends.
      const closed = worker.close().catch(() => undefined);
      await Promise.race([closed, forced, after(STOP_WAIT_MS), idle(runner).then(() => after(CLOSE_WAIT_MS))]);
      await Promise.race([
        Promise.allSettled([closeClient(subscriber), shutdownPool('worker')]),
        forced,
        after(CLOSE_WAIT_MS),
      ]);
      // Cut off what did not close in time; a subscribe still waiting for Redis fails and returns.
      subscriber.disconnect();
      void worker.disconnect().catch(() => undefined);
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // Until Redis is reached, or the worker is stopped before that. (Disconnecting a client that is
  // between two attempts to connect leaves its offline queue as it is: the subscribe may never settle.)
  await Promise.race([
    subscriber.subscribe(cancelChannel(values.prefix, values.queue)).catch(() => undefined),
    stopAsked,
  ]);
  if (stopping === undefined) {
    const running = worker.run();
    await worker.waitUntilReady().catch(() => undefined);
    if (stopping === undefined) {
      log(`ready: queue '${values.queue}' on ${where}, ${concurrency} at once, modules ${positionals.join(', ')}`);
    }
    // Its loop ends once the worker closed, which a stop does not wait for beyond its bounds.
    await Promise.race([
      running.catch((error: unknown) => log(`stopped: ${reasonOf(error)}`)),
      stopAsked.then(() => stopping),
    ]);
  }
  await stopping;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  log('stopped');
  return 0;
}

/**
 * The shared workerpool pools behind `'worker'` and `'process'`: one per kind, started at the first
 * call, reused by every call after, and never keeping the program alive when idle.
 * @module
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import { flagsLoadTsx, resolveTsx, type TsxEntry } from '../../util/tsx.js';

/** Which kind of worker a pool runs. */
export type PoolKind = 'worker' | 'process';

/** A task sent to the pool: its result, and a way to stop it (which terminates its worker). */
export interface PoolJob<T> {
  readonly result: Promise<T>;
  /**
   * Resolves once the task holds no worker any more: when it settled by itself, or, cancelled while
   * it ran, once its worker is gone. Its result comes at once; its slot only then.
   */
  readonly free: Promise<void>;
  cancel(): void;
}

/** What `exec` accepts besides the method and its parameters. */
export interface PoolExecOptions {
  /** Receives what the worker emits while the task runs. */
  readonly on?: (payload: unknown) => void;
  /** Buffers moved to the worker with the parameters (worker threads only). */
  readonly transfer?: readonly ArrayBuffer[];
  /**
   * Work nobody waits for (warming a worker up): it does not keep the program alive, so a program
   * whose calls are over exits without waiting for it.
   */
  readonly background?: boolean;
}

/**
 * How long a worker asked to stop may take before it is killed. A worker stuck in a loop never
 * answers, so this bounds how long a timed-out shard's worker lingers (workerpool waits it twice).
 */
const TERMINATE_TIMEOUT_MS = 200;

/**
 * How long `shutdown()` waits for the workers to be gone. workerpool waits for every worker's exit,
 * and one that already died while idle never exits again: past this, it is given up on (it is dead).
 */
const SHUTDOWN_WAIT_MS = 5 * TERMINATE_TIMEOUT_MS;

/**
 * How long a cancelled task's worker may take to be gone before it is killed outright (workerpool
 * asks it to stop, then kills it, within twice its terminate timeout), and, after that kill, before
 * its slot is given back anyway.
 */
const GONE_WAIT_MS = 5 * TERMINATE_TIMEOUT_MS;

type WorkerPool = ReturnType<typeof workerpool.pool>;

/** Anything that can keep the event loop alive: a worker thread, a child process, an IPC channel. */
interface Handle {
  ref?(): void;
  unref?(): void;
  readonly channel?: Handle | null;
}

/** A worker thread or child process, as workerpool holds it. */
interface RawWorker extends Handle {
  once(event: 'exit', listener: () => void): unknown;
  kill?(signal?: string): unknown;
  terminate?(): unknown;
  /** A child process's, once it ended. */
  readonly exitCode?: number | null;
  readonly signalCode?: string | null;
  /** A worker thread's; -1 once it ended. */
  readonly threadId?: number;
}

/** workerpool's handler of one worker: its tasks in progress, by id. */
interface WorkerHandler {
  readonly worker?: RawWorker | null;
  /** Set once its worker is dead (it exited, was killed, or was terminated). */
  readonly terminated?: boolean;
  readonly processing?: Record<string, { readonly resolver?: { readonly promise?: unknown } } | undefined>;
}

/** One workerpool pool, created on first use. */
export class SharedPool {
  readonly kind: PoolKind;
  #pool: WorkerPool | undefined;
  #size = availableParallelism();
  /** Tasks sent and not settled: while there are any, the workers are referenced. */
  #busy = 0;
  #generation = 0;

  constructor(kind: PoolKind) {
    this.kind = kind;
  }

  /** Increases at each `terminate()`, so a call can tell that the pool it started on was shut down. */
  get generation(): number {
    return this.#generation;
  }

  /** How many workers the pool may run at once. */
  get size(): number {
    return this.#size;
  }

  /** Makes room for `slots` tasks at once. Pools grow to the largest concurrency asked for, never shrink. */
  reserve(slots: number): void {
    if (slots <= this.#size) return;
    this.#size = slots;
    // workerpool reads `maxWorkers` each time it looks for a worker, so a larger value takes effect at once.
    if (this.#pool !== undefined) (this.#pool as { maxWorkers: number }).maxWorkers = slots;
  }

  /** Runs `method` of the worker entry with `params` on a free worker (queued until one is free). */
  exec<T>(method: 'run' | 'probe', params: readonly unknown[], options: PoolExecOptions = {}): PoolJob<T> {
    const pool = (this.#pool ??= createPool(this.kind, this.#size, () => this.#workerCreated()));
    const counted = options.background !== true;
    if (counted && this.#busy++ === 0) setReferenced(pool, true);
    const task = pool.exec(method, [...params], {
      ...(options.on === undefined ? {} : { on: options.on }),
      ...(options.transfer === undefined ? {} : { transfer: [...options.transfer] }),
    });
    // workerpool starts a worker for the task at once if it may; with nothing else running, that new
    // worker must not keep the program alive.
    if (!counted && this.#busy === 0) setReferenced(pool, false);
    let released = !counted;
    const release = (): void => {
      if (released) return;
      released = true;
      // A pool shut down meanwhile had its count reset: its tasks no longer count.
      if (this.#pool !== pool) return;
      if (--this.#busy === 0) setReferenced(pool, false);
    };
    // Set when the task is cancelled while a worker runs it: workerpool rejects it at once, but the
    // worker runs on until it is terminated, and until then it is not free for another task.
    let gone: Promise<void> | undefined;
    const settled = Promise.resolve(task).then(noop, () => {
      // Every failure may be a worker that died (it exited, or threw outside any task): see repairPool.
      this.#repairSoon(pool);
    });
    const free = settled.then(() => gone).then(release);
    const result = Promise.resolve(task) as Promise<T>;
    return {
      result,
      free,
      cancel: () => {
        if (gone !== undefined) return;
        const worker = workerRunning(pool, task);
        task.cancel();
        if (worker !== undefined) gone = goneOf(worker, this.kind);
      },
    };
  }

  /**
   * workerpool starts workers of its own accord too: to replace one that died or was stopped, for a
   * task still in its queue (even one already cancelled). A worker it starts while nothing of ours
   * runs must not keep the program alive; it is referenced again when a task of ours starts.
   */
  #workerCreated(): void {
    // Called just before the worker exists: look once it does.
    queueMicrotask(() => {
      const pool = this.#pool;
      if (pool === undefined) return;
      if (this.#busy === 0) setReferenced(pool, false);
      onEveryExit(pool, () => this.#repairSoon(pool));
    });
  }

  /** Repairs `pool` (see repairPool) once workerpool has seen what just happened, if it is still ours. */
  #repairSoon(pool: WorkerPool): void {
    setImmediate(() => {
      if (this.#pool === pool) repairPool(pool);
    });
  }

  /** How many workers the pool has now (0 before its first task). */
  get workers(): number {
    return this.#pool?.stats().totalWorkers ?? 0;
  }

  /**
   * Terminates every worker at once; the next `exec` starts a new pool. Safe to call twice, and never
   * rejects: a worker that is already dead ('worker already killed!', a wait that times out) is what
   * terminating wants anyway.
   */
  async terminate(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#busy = 0;
    this.#generation++;
    if (pool !== undefined) await pool.terminate(true, SHUTDOWN_WAIT_MS).then(noop, noop);
  }
}

const pools = new Map<PoolKind, SharedPool>();

/** The pool of a kind, shared by every call. */
export function sharedPool(kind: PoolKind): SharedPool {
  let pool = pools.get(kind);
  if (pool === undefined) pools.set(kind, (pool = new SharedPool(kind)));
  return pool;
}

/** Terminates the pool of a kind, if it was ever started. */
export async function shutdownPool(kind: PoolKind): Promise<void> {
  await pools.get(kind)?.terminate();
}

function createPool(kind: PoolKind, size: number, onCreateWorker: () => void): WorkerPool {
  const entry = entryScript();
  const common = {
    maxWorkers: size,
    workerTerminateTimeout: TERMINATE_TIMEOUT_MS,
    onCreateWorker: () => {
      onCreateWorker();
      return undefined;
    },
  };
  if (kind === 'worker') {
    // A worker thread does not inherit the main thread's module hooks, so parafor's own TypeScript
    // entry (parafor run from its sources with tsx) needs tsx registered before it is imported.
    if (entry.typescript) {
      return workerpool.pool(bootstrapCode(entry.url), {
        ...common,
        workerType: 'thread',
        workerThreadOpts: { eval: true },
      });
    }
    return workerpool.pool(entry.path, { ...common, workerType: 'thread' });
  }
  return workerpool.pool(entry.path, {
    ...common,
    workerType: 'process',
    forkOpts: {
      // The structured clone format, as with threads: Maps, typed arrays, Dates, bytes survive.
      serialization: 'advanced',
      execArgv: childExecArgv(entry.typescript),
    },
  });
}

/** The worker entry next to this module: `.js` when compiled, `.ts` when run from the sources. */
function entryScript(): { readonly url: string; readonly path: string; readonly typescript: boolean } {
  const typescript = import.meta.url.endsWith('.ts');
  const url = new URL(typescript ? '../../worker/entry.ts' : '../../worker/entry.js', import.meta.url);
  return { url: url.href, path: fileURLToPath(url), typescript };
}

function bootstrapCode(entryUrl: string): string {
  const tsx = tsxFor('tsx/esm/api');
  return `import(${JSON.stringify(tsx)})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(entryUrl)}); })
  .catch((error) => { console.error(error); process.exit(1); });`;
}

/**
 * A child inherits the parent's Node flags (as `fork` does by default, which workerpool overrides),
 * except the inspector's, whose port would clash; run from the sources, it also gets tsx's loader.
 */
function childExecArgv(typescript: boolean): string[] {
  const inherited = process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));
  return typescript && !flagsLoadTsx(inherited) ? [...inherited, '--import', tsxFor('tsx/esm')] : inherited;
}

/** A tsx entry point the workers of parafor's own TypeScript sources need. */
function tsxFor(entry: TsxEntry): string {
  const url = resolveTsx(entry);
  if (url !== undefined) return url;
  throw new Error(
    `parafor is running from its TypeScript sources, and its workers need tsx to load them, but \`${entry}\` could not be resolved; install tsx or use the compiled dist/`,
  );
}

function noop(): void {}

/**
 * Puts the pool right after a worker died or a task failed, so that its queue never stalls. workerpool
 * leaves dead workers on its list in two ways, and a list of `maxWorkers` dead ones is a pool that
 * never starts another task:
 * - a worker that dies while a cancelled task's cleanup is pending stays "busy" for ever (the cleanup
 *   ends by waiting for an exit that already happened), so the pool neither uses nor replaces it;
 * - when a worker dies by itself under a task, the pool waits for that worker's termination before it
 *   looks at its queue again, and the termination of a worker already gone never completes.
 * So dead workers leave the list, cancelled tasks leave the queue (workerpool would start a worker for
 * one, which, with nothing else to do, outlives the program that no longer needs it), and the queue
 * is looked at again, which starts new workers for what waits.
 */
function repairPool(pool: WorkerPool): void {
  const internals = pool as unknown as {
    workers?: WorkerHandler[];
    taskQueue?: { tasks?: { resolver?: { promise?: { pending?: boolean } } }[] };
    _next?: () => void;
  };
  const { workers } = internals;
  if (Array.isArray(workers)) {
    const alive = workers.filter((handler) => handler.terminated !== true);
    if (alive.length < workers.length) workers.splice(0, workers.length, ...alive);
  }
  const tasks = internals.taskQueue?.tasks;
  if (!Array.isArray(tasks)) return;
  const waiting = tasks.filter((task) => task.resolver?.promise?.pending === true);
  tasks.length = 0;
  for (const task of waiting) tasks.push(task);
  if (waiting.length > 0) internals._next?.();
}

/** Workers already watched by {@link onEveryExit}. */
const watched = new WeakSet<RawWorker>();

/** Calls `exited` whenever a worker of `pool` that is not watched yet exits, however it died. */
function onEveryExit(pool: WorkerPool, exited: () => void): void {
  const handlers: unknown = (pool as unknown as { workers?: unknown }).workers;
  if (!Array.isArray(handlers)) return;
  for (const { worker } of handlers as readonly WorkerHandler[]) {
    if (worker === null || worker === undefined || watched.has(worker)) continue;
    watched.add(worker);
    worker.once('exit', exited);
  }
}

/** The worker that runs a task now, if one does (a task still in the pool's queue has none). */
function workerRunning(pool: WorkerPool, task: unknown): RawWorker | undefined {
  // workerpool does not say which worker took a task: its handlers' tasks in progress do.
  const handlers: unknown = (pool as unknown as { workers?: unknown }).workers;
  if (!Array.isArray(handlers)) return undefined;
  for (const handler of handlers as readonly WorkerHandler[]) {
    const running = Object.values(handler.processing ?? {}).some((entry) => entry?.resolver?.promise === task);
    if (running) return handler.worker ?? undefined;
  }
  return undefined;
}

/**
 * Resolves once a worker is gone. One that outlives the wait (a child that ignores SIGTERM) is
 * killed outright; past a second wait it is given up on, so that no call waits for ever.
 */
function goneOf(worker: RawWorker, kind: PoolKind): Promise<void> {
  if (worker.exitCode != null || worker.signalCode != null || worker.threadId === -1) return Promise.resolve();
  return new Promise((resolve) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    const done = (): void => {
      timers.forEach(clearTimeout);
      resolve();
    };
    worker.once('exit', done);
    const kill = setTimeout(() => {
      if (kind === 'process') worker.kill?.('SIGKILL');
      else void worker.terminate?.();
      timers.push(setTimeout(done, GONE_WAIT_MS).unref());
    }, GONE_WAIT_MS).unref();
    timers.push(kill);
  });
}

/** Workers are referenced while tasks run (so an awaited call finishes) and unreferenced when idle. */
function setReferenced(pool: WorkerPool, referenced: boolean): void {
  // workerpool keeps its workers referenced for their whole life and exposes no handle to them
  // (workerpool #330, #450): this is the one place that reaches into its internals.
  const handlers: unknown = (pool as unknown as { workers?: unknown }).workers;
  if (!Array.isArray(handlers)) return;
  for (const { worker } of handlers as readonly { worker?: Handle | null }[]) {
    if (worker === null || worker === undefined) continue;
    for (const handle of [worker, worker.channel]) {
      if (handle === null || handle === undefined) continue;
      if (referenced) handle.ref?.();
      else handle.unref?.();
    }
  }
}

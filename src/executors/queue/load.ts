/**
 * Loading BullMQ, an optional peer dependency: `parafor` works without it, and the queue executor
 * says what to install when it is missing.
 * @module
 */
import { say } from '../../messages.js';

/** The modules the queue executor runs on. */
export interface BullMQ {
  readonly Queue: typeof import('bullmq').Queue;
  readonly QueueEvents: typeof import('bullmq').QueueEvents;
  readonly Worker: typeof import('bullmq').Worker;
  readonly Redis: typeof import('ioredis').Redis;
}

let loading: Promise<BullMQ> | undefined;

/**
 * Imports bullmq and ioredis.
 * @param who - who needs it, for the message
 * @throws Error saying what to install when bullmq or ioredis cannot be loaded
 */
export function loadBullMQ(who: string): Promise<BullMQ> {
  loading ??= Promise.all([import('bullmq'), import('ioredis')]).then(
    ([{ Queue, QueueEvents, Worker }, { Redis }]) => ({ Queue, QueueEvents, Worker, Redis }),
    (error: unknown) => {
      // Not kept: installing them and trying again works without a restart.
      loading = undefined;
      throw missing(who, error);
    },
  );
  return loading;
}

function missing(who: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  const what = notFound ? 'is not installed' : 'could not be loaded';
  return new Error(
    say(
      who,
      `the queue executor runs on BullMQ and Redis, and bullmq (or its Redis client, ioredis) ${what}. ` +
        'Install both beside parafor: `npm install bullmq ioredis`.',
    ),
    { cause: error },
  );
}

/**
 * Opening a call on the queue executor: what can be known to fail is checked before any job is
 * added (the method's reference, what cannot be cloned, an unreachable Redis), then the session
 * takes over.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { refused } from '../../messages.js';
import { projectPath } from '../../util/project-path.js';
import { assertBatchFitsTimeout } from '../../options.js';
import type { ExecutorSession, FanOutCall } from '../executor.js';
import { autoBatches, fixedBatches, type BatchSizer } from '../pool/batching.js';
import { methodRef } from '../pool/method-ref.js';
import { packContext } from '../pool/open-session.js';
import type { QueueClient } from './client.js';
import { newCallId } from './jobs.js';
import type { ResolvedQueueOptions } from './options.js';
import { QueueSession } from './session.js';

/**
 * Starts a call on the queue: a `TypeError` saying what to do when the method cannot be named for
 * another machine, an `Error` when Redis cannot be reached within `connectTimeout`.
 */
export async function openQueueSession(
  client: QueueClient,
  options: ResolvedQueueOptions,
  call: FanOutCall,
): Promise<ExecutorSession> {
  const { method, options: callOptions } = call;
  assertBatchFitsTimeout(callOptions.batchSize, callOptions.timeout, method.name);
  const ref = methodRef(method, callOptions.module, 'queue');
  const module = portableModule(ref.module, method.name);
  const context = Buffer.from(packContext({ ...ref, module }, method.thisArg, call.args)).toString('base64');
  let sizer: BatchSizer;
  if (callOptions.batchSize !== 'auto') sizer = fixedBatches(callOptions.batchSize);
  else sizer = callOptions.timeout === Infinity ? autoBatches() : fixedBatches(1);
  const session = new QueueSession({
    client,
    call: newCallId(),
    name: method.name,
    module,
    context,
    slots: Number.isFinite(call.concurrency) ? call.concurrency : options.concurrency,
    sizer,
    // A timeout or a rate limit counts from each shard's true start: when a worker takes its job.
    watchTasks: callOptions.exactStarts,
    signal: call.signal,
    downTimeout: options.connectTimeout,
    keepFinishedSeconds: options.keepFinishedSeconds,
  });
  call.signal.throwIfAborted();
  await session.start();
  return session;
}

/**
 * The method's module as every machine can find it: its package's name and its path in the package
 * (see projectPath), whatever folder the caller or the workers were started from.
 */
function portableModule(url: string, name: string): string {
  if (!url.startsWith('file:')) {
    throw refused(name, `the queue executor names the method's module by its path, and ${url} is not a file`);
  }
  return projectPath(fileURLToPath(url));
}

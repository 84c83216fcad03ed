export { distribute, type DistributeDecorator } from './decorators/distribute.js';
export { distributeOver, type DistributeOverDecorator } from './decorators/distribute-over.js';
export { parallel, type Parallel, type ParallelMethod, type CallOptions } from './parallel.js';
export { currentShard, runShard, type ShardContext } from './context.js';
export { shutdown } from './lifecycle.js';
export { getDistribution, DISTRIBUTION_KEY, type DistributionRecord } from './metadata.js';
export {
  ShardError,
  ShardTimeoutError,
  ShardSourceError,
  WorkerExitError,
  type ShardErrorDetails,
  type WorkerExitDetails,
} from './errors.js';
export { RateLimiter } from './engine/rate-limit.js';
export type { ExecutorName } from './executors/registry.js';
export type {
  Executor,
  ExecutorSession,
  ExecutorCallOptions,
  FanOutCall,
  ShardTask,
  ShardChunk,
  DistributedMethod,
  ItemFunction,
} from './executors/executor.js';
export type {
  BatchStats,
  CallOutcome,
  CallStats,
  DistributeOptions,
  Distributed,
  DistributedFunction,
  DistributedOverFunction,
  ExecutorOption,
  FailedAttempt,
  Progress,
  Quantiles,
  RateLimit,
  ResultItem,
  ResultOrder,
  ResultShape,
  RetryOptions,
  ShardEntry,
  ShardFulfilled,
  ShardOutcome,
  ShardRejected,
  ShardSource,
  Shards,
  WorkerStats,
} from './types.js';

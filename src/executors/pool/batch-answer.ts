/**
 * What becomes of a batch's shards when its answer comes back, the same whichever session sent it
 * (`'worker'`, `'process'`, or a queue job, which a pool of `parafor worker` ran): its results and
 * failures settle them, or its worker's death runs them again, each alone.
 * @module
 */
import { WorkerExitError, type WorkerExitDetails } from '../../errors.js';
import { unpackList, type PackedList } from '../../wire/clone.js';
import type { BatchResponse } from '../../wire/protocol.js';
import { decodeThrown, type EncodedThrown } from '../../wire/remote-error.js';
import type { BatchSizer } from './batching.js';
import { warnLeftovers } from './leftover-warnings.js';
import { alone, failPieces, type Piece } from './pieces.js';

/** What a session sent as one batch. */
export interface SentBatch {
  readonly pieces: readonly Piece[];
  /** Shards in all its pieces. */
  readonly count: number;
  /** What its shards weighed, packed and moved. */
  readonly bytes: number;
}

/** Settles the shards of `batch` with the `response` its worker gave, and tells `sizer` how it went. */
export function settleBatch(batch: SentBatch, response: BatchResponse, sizer: BatchSizer): void {
  const { pieces, count } = batch;
  let values: unknown[];
  try {
    // About shards whose results came back earlier: said before this batch's shards settle.
    if (response.leftovers !== undefined) warnLeftovers(response.leftovers);
    // Every shard of the batch ran there, whatever becomes of its result.
    const { worker } = response;
    if (worker !== undefined) for (const piece of pieces) piece.unit.ranOn?.(worker, piece.offset, piece.count);
    if (response.batchFailure !== undefined) throw decodeThrown(response.batchFailure);
    values = unpackList(response.values);
  } catch (error) {
    failPieces(pieces, error);
    return;
  }
  for (const [position, value] of response.moved) values[position] = value;
  values.length = count;
  // Before the shards settle: the engine hands over more as they do, as much as the new size allows.
  sizer.completed(count, response.durationMs, Math.max(batch.bytes, weight(response.values, response.moved)));
  let base = 0;
  for (const piece of pieces) {
    const part = pieces.length === 1 ? values : values.slice(base, base + piece.count);
    piece.unit.settle(piece.offset, part, failuresIn(response.failures, base, piece.count));
    base += piece.count;
  }
}

/**
 * The worker that ran `batch` died. Which shard killed it is not known: each runs again alone
 * (`rerun`), so that only the one that kills its worker fails, with a {@link WorkerExitError}.
 */
export function workerDied(
  { pieces, count }: SentBatch,
  death: Omit<WorkerExitDetails, 'shards'>,
  rerun: (pieces: Piece[]) => void,
): void {
  if (count > 1) {
    rerun(alone(pieces));
    return;
  }
  for (const { unit, offset } of pieces) {
    unit.fail(offset, 1, new WorkerExitError({ ...death, shards: [unit.start + offset] }));
  }
}

/** What a list weighs in a message: its packed bytes, and the bytes of the values moved beside it. */
export function weight(packed: PackedList, moved: readonly (readonly [number, unknown])[]): number {
  let bytes = packed.byteLength;
  for (const [, value] of moved) bytes += (value as ArrayBuffer | ArrayBufferView).byteLength;
  return bytes;
}

/** The failures of batch positions `base` to `base + count - 1`, decoded, by position from `base`. */
function failuresIn(
  failures: readonly (readonly [number, EncodedThrown])[],
  base: number,
  count: number,
): [number, unknown][] | undefined {
  let decoded: [number, unknown][] | undefined;
  for (const [position, encoded] of failures) {
    if (position < base || position >= base + count) continue;
    (decoded ??= []).push([position - base, decodeThrown(encoded)]);
  }
  return decoded;
}

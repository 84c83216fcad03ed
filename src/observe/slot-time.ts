/**
 * The slot-time a call's shards used, for `utilization`: their run times laid over the call's time,
 * counting at most `slots` at once. Run times come after the fact (a shard's start is known when its
 * result is), and their sum can exceed `slots` at once where a shard's end is seen late (when it is
 * reported, after the next shard began in its slot): a plain sum over `wallMs × slots` would then
 * pass 1. The call's time is cut into {@link SPANS} stretches, each holding at most `slots` times its
 * length; memory is the same however long the call is, since stretches double in length (pairs
 * joined) when a run time ends past the last.
 * @module
 */

/** Stretches the call's time is cut into. */
export const SPANS = 128;

/** The first stretches' length; they double as the call goes on. */
const FIRST_SPAN_MS = 0.25;

/** Run time laid over a call's time. */
export class SlotTime {
  readonly #origin: number;
  /** The most slots busy at once, when known from the start (`Infinity` if not): each stretch holds at most this. */
  readonly #slots: number;
  readonly #spans = new Float64Array(SPANS);
  #width = FIRST_SPAN_MS;

  /**
   * @param origin - when the call began (`performance.now()`)
   * @param slots - the most slots busy at once, or `Infinity` when that is known only at the end
   */
  constructor(origin: number, slots: number) {
    this.#origin = origin;
    this.#slots = slots;
  }

  /** `weight` slots were busy from `start` to `end` (times as `performance.now()` gives them). */
  add(start: number, end: number, weight: number): void {
    const to = end - this.#origin;
    let from = Math.max(0, start - this.#origin);
    if (!(to > from && weight > 0)) return;
    while (to > SPANS * this.#width) this.#widen();
    const width = this.#width;
    const spans = this.#spans;
    for (let i = Math.floor(from / width); from < to; i++) {
      const edge = Math.min(to, (i + 1) * width);
      spans[i] = (spans[i] as number) + (edge - from) * weight;
      from = edge;
    }
  }

  /** The slot-time used up to `end` (ms), at most `slots` at once within each stretch. */
  used(end: number, slots: number): number {
    const wall = end - this.#origin;
    const width = this.#width;
    let used = 0;
    for (let i = 0; i < SPANS && i * width < wall; i++) {
      const length = Math.min(width, wall - i * width);
      used += Math.min(this.#spans[i] as number, slots * length);
    }
    return used;
  }

  /** Doubles the stretches' length: each pair becomes one, each half holding no more than its slots. */
  #widen(): void {
    const spans = this.#spans;
    const most = this.#slots * this.#width;
    for (let i = 0; i < SPANS / 2; i++) {
      spans[i] = Math.min(spans[2 * i] as number, most) + Math.min(spans[2 * i + 1] as number, most);
    }
    spans.fill(0, SPANS / 2);
    this.#width *= 2;
  }
}

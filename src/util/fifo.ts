/**
 * A first-in, first-out queue with O(1) `shift`: what the engine and the worker sessions keep their
 * waiting items in. (`Array#shift` moves every element; a `Map`'s first entry is found by walking
 * past every deleted one.)
 * @module
 */

/** A FIFO queue: `push` at the back, `shift` from the front, `unshift` a few back in front. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The next item, without taking it. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Takes the next item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Drop the taken slots once they are most of the array, so memory follows the items waiting.
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Puts items back at the front, to leave first, in the order given. */
  unshift(items: readonly T[]): void {
    // Not `splice(head, 0, ...items)`: spread into arguments, a long list overflows the stack.
    this.#items = (items as readonly (T | undefined)[]).concat(this.#items.slice(this.#head));
    this.#head = 0;
  }

  /** Takes every item. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}

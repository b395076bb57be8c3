/**
 * A bounded queue between a push-driven producer (packets arriving in socket
 * callbacks) and a pull-driven consumer (the scanner's `for await` loop).
 *
 * The producer pushes freely (replies are bounded by the probes in flight);
 * it asks {@link EventQueue.hasRoom} before it sends new probes and waits on
 * {@link EventQueue.waitForRoom}, so a slow consumer slows the scan down.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

/** Slots of a queue's ring at first (a power of two). */
const INITIAL_RING = 64;

/**
 * A bounded FIFO with async waits on both ends.
 *
 * @example
 * ```ts
 * const q = new EventQueue<number>(2);
 * q.push(1);
 * q.close();
 * for await (const n of q.drain()) console.log(n); // 1
 * ```
 */
export class EventQueue<T> {
  /**
   * A ring of the queued items, from {@link head}, {@link count} of them; it
   * doubles when full. A ring, not an array shifted along: the array's
   * copies each kept the events they held alive until a full collection.
   */
  private items: (T | undefined)[] = new Array<T | undefined>(INITIAL_RING).fill(undefined);
  /** A tag per item (-1: none), handed to {@link onTake} as the consumer takes the item. */
  private tags = new Float64Array(INITIAL_RING);
  private head = 0;
  private count = 0;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  /**
   * @param capacity the number of queued items above which {@link hasRoom} is false.
   * @param onTake called with an item's tag when the consumer takes it (a scan marks the item's pair delivered).
   */
  constructor(
    readonly capacity: number,
    private readonly onTake?: (tag: number) => void,
  ) {}

  /** Items waiting for the consumer. */
  get size(): number {
    return this.count;
  }

  /** Whether the producer may start more work that will produce items. */
  hasRoom(): boolean {
    return this.size < this.capacity;
  }

  /**
   * Adds an item and wakes the consumer. Items pushed after {@link close} are
   * dropped. `tag` (a whole number) is handed to `onTake` when the consumer takes the item.
   */
  push(item: T, tag = -1): void {
    if (this.closed) return;
    if (this.count === this.items.length) this.grow();
    const at = (this.head + this.count) & (this.items.length - 1);
    this.items[at] = item;
    this.tags[at] = tag;
    this.count++;
    this.wake();
  }

  /** Ends the stream after the queued items; with an error (a failure), the consumer throws it after them. */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (error !== undefined) this.failure = { error };
    this.wake();
    this.wakeProducer?.();
  }

  /**
   * Ends the stream at once for an abort: the queued items are dropped and the
   * consumer throws `reason` at its next read, as Node's `events.on` does.
   */
  abort(reason: unknown): void {
    if (this.closed) return;
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.close(reason ?? new PortscoutError('ERR_INTERNAL', 'An event stream was aborted without a reason.'));
  }

  /** Resolves when the consumer has taken items so that there is room again (or the queue closed). */
  waitForRoom(): Promise<void> {
    if (this.hasRoom() || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeProducer = () => {
        this.wakeProducer = undefined;
        resolve();
      };
    });
  }

  /** The next item, or undefined when none is queued. */
  private take(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head] as T;
    const tag = this.tags[this.head] as number;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    if (tag >= 0) this.onTake?.(tag);
    if (this.wakeProducer && this.hasRoom()) this.wakeProducer();
    return item;
  }

  /**
   * The items in order until the queue is closed and empty (then the failure
   * of a queue closed with an error is thrown). An iterator of its own, not
   * an async generator: a scanner that `yield*`s it adds no generator layer
   * per event. Items are never undefined.
   */
  drain(): AsyncIterableIterator<T> {
    const iterator: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        const item = this.take();
        if (item !== undefined) return Promise.resolve({ done: false, value: item });
        if (this.closed) {
          if (this.failure) return Promise.reject(this.failure.error);
          return Promise.resolve({ done: true, value: undefined });
        }
        return new Promise<void>((resolve) => {
          this.wakeConsumer = resolve;
        }).then(() => iterator.next());
      },
      // As a generator's would: a throw() passes the error on, a return() ends the reading.
      throw: (error?: unknown): Promise<IteratorResult<T>> => Promise.reject(error),
      return: (): Promise<IteratorResult<T>> => Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Doubles the ring, its items in order from index 0. */
  private grow(): void {
    const size = this.items.length;
    const items = new Array<T | undefined>(size * 2).fill(undefined);
    const tags = new Float64Array(size * 2);
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & (size - 1);
      items[i] = this.items[at];
      tags[i] = this.tags[at] as number;
    }
    this.items.fill(undefined);
    this.items = items;
    this.tags = tags;
    this.head = 0;
  }

  private wake(): void {
    const wake = this.wakeConsumer;
    if (wake) {
      this.wakeConsumer = undefined;
      wake();
    }
  }
}

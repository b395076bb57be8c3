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
  private items: T[] = [];
  /** A tag per item (-1: none), handed to {@link onTake} as the consumer takes the item. */
  private tags: number[] = [];
  private head = 0;
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
    return this.items.length - this.head;
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
    this.items.push(item);
    this.tags.push(tag);
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
    this.items = [];
    this.tags = [];
    this.head = 0;
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
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    const tag = this.tags[this.head] as number;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.tags = this.tags.slice(this.head);
      this.head = 0;
    }
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

  private wake(): void {
    const wake = this.wakeConsumer;
    if (wake) {
      this.wakeConsumer = undefined;
      wake();
    }
  }
}

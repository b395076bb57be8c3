/**
 * A generator made on its first read.
 *
 * A scanner written as `async function*` reads its options only when the
 * consumer first calls `next()`, so bad options reject that read rather than
 * the call. A scanner that returns another generator (to spare every event a
 * generator layer of its own) keeps that behaviour by building it here, on
 * the first read; later calls go straight to it.
 *
 * @module
 */

/**
 * An async generator that calls `make` on the first `next()` (a throw
 * rejects that read) and forwards every later call to what it made.
 * `return()` or `throw()` before the first read end it without calling `make`.
 *
 * @example
 * ```ts
 * const scan = lazyGenerator(() => runPortScan(options, ...));
 * ```
 */
export function lazyGenerator<T>(make: () => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  let inner: AsyncGenerator<T, void, undefined> | undefined;
  let ended = false;
  const generator = {
    next(): Promise<IteratorResult<T, void>> {
      if (inner) return inner.next();
      if (ended) return Promise.resolve({ done: true, value: undefined });
      try {
        inner = make();
      } catch (error) {
        ended = true;
        return Promise.reject(error);
      }
      return inner.next();
    },
    return(value?: void | PromiseLike<void>): Promise<IteratorResult<T, void>> {
      if (inner) return inner.return(value as void);
      ended = true;
      return Promise.resolve({ done: true, value: undefined });
    },
    throw(error?: unknown): Promise<IteratorResult<T, void>> {
      if (inner) return inner.throw(error);
      ended = true;
      return Promise.reject(error);
    },
    [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
      return generator as AsyncGenerator<T, void, undefined>;
    },
  };
  return generator as AsyncGenerator<T, void, undefined>;
}

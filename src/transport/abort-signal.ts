/**
 * The one way portscout listens to an `AbortSignal` (in the manner of
 * undici's `addSignal` / `removeSignal`): a listener that runs once, at once
 * when the signal is already aborted, and a function that removes it.
 *
 * @module
 */

/**
 * Calls `onAbort` with the signal's reason when `signal` aborts, or at once
 * when it already has; returns a function that removes the listener (call it
 * when the work ends, so listeners never pile up on a long-lived signal).
 *
 * @example
 * ```ts
 * const release = whenAborted(options.signal, (reason) => stop(reason));
 * try { await work(); } finally { release(); }
 * ```
 */
export function whenAborted(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (!signal) return noop;
  if (signal.aborted) {
    onAbort(signal.reason);
    return noop;
  }
  const listener = (): void => onAbort(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Throws the signal's reason when it is already aborted (as `signal.throwIfAborted()`
 * does; `undefined` is never aborted).
 *
 * @example
 * ```ts
 * throwIfAborted(options.signal);
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * Resolves as `promise` does, or rejects with the signal's reason once the
 * signal aborts (the promise's own result is then ignored).
 *
 * @example
 * ```ts
 * const names = await unlessAborted(resolver.reverse(address), signal);
 * ```
 */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const release = whenAborted(signal, reject);
    promise.then(
      (value) => {
        release();
        resolve(value);
      },
      (error: unknown) => {
        release();
        reject(error);
      },
    );
  });
}

function noop(): void {}

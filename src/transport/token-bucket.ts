/**
 * A token bucket that paces sending to a rate (packets per second).
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { whenAborted } from './abort-signal.js';

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second; `Infinity` for no limit. Must be above 0. */
  readonly rate: number;
  /**
   * Tokens the bucket holds at most, i.e. how many may be taken at once after
   * a pause. Default: 10 ms worth of tokens, at least 1 (`max(1, ceil(rate / 100))`).
   */
  readonly burst?: number;
  /** Clock in milliseconds (injectable for tests). Default `performance.now`. */
  readonly now?: () => number;
}

function defaultBurst(rate: number): number {
  return Number.isFinite(rate) ? Math.max(1, Math.ceil(rate / 100)) : 1;
}

function checkRate(rate: number): void {
  if (typeof rate !== 'number' || Number.isNaN(rate) || rate <= 0) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Invalid rate ${String(rate)}: expected packets per second above 0, or Infinity for no limit.`);
  }
}

function checkBurst(burst: number): void {
  if (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Invalid burst ${String(burst)}: expected a finite number of tokens, at least 1.`);
  }
}

const defaultNow = (): number => performance.now();

/**
 * Tokens short of `n` that still count as `n`: clock readings are floats, so
 * waiting exactly the answered time can refill to 1.9999999999999998 of 2.
 */
const TOKEN_EPSILON = 1e-9;

/**
 * Paces work to `rate` tokens per second with bursts of up to `burst` tokens.
 * The bucket starts full. {@link TokenBucket.tryTake} is the cheap synchronous
 * hot path (no allocation); {@link TokenBucket.take} waits.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ rate: 1000 });
 * for (const probe of probes) {
 *   await bucket.take(1, signal);
 *   send(probe);
 * }
 * ```
 */
export class TokenBucket {
  private ratePerMs: number;
  private rateValue: number;
  private burstValue: number;
  private readonly burstGiven: boolean;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(opts: TokenBucketOptions) {
    checkRate(opts.rate);
    this.burstGiven = opts.burst !== undefined;
    const burst = opts.burst ?? defaultBurst(opts.rate);
    checkBurst(burst);
    this.now = opts.now ?? defaultNow;
    this.rateValue = opts.rate;
    this.ratePerMs = opts.rate / 1000;
    this.burstValue = burst;
    this.tokens = burst;
    this.last = this.now();
  }

  /**
   * Current rate in tokens per second.
   *
   * @example
   * ```ts
   * bucket.rate; // 1000
   * ```
   */
  get rate(): number {
    return this.rateValue;
  }

  /**
   * Capacity of the bucket in tokens.
   *
   * @example
   * ```ts
   * new TokenBucket({ rate: 1000 }).burst; // 10
   * ```
   */
  get burst(): number {
    return this.burstValue;
  }

  /**
   * Tokens available now (fractional); `Infinity` when unlimited.
   *
   * @example
   * ```ts
   * if (bucket.available >= 5) bucket.tryTake(5);
   * ```
   */
  get available(): number {
    if (this.rateValue === Infinity) return Infinity;
    this.refill(this.now());
    return this.tokens;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      const tokens = this.tokens + elapsed * this.ratePerMs;
      this.tokens = tokens < this.burstValue ? tokens : this.burstValue;
    }
    this.last = now;
  }

  /**
   * Takes `n` tokens if they are available.
   *
   * @returns 0 when the tokens were taken; otherwise the milliseconds to wait
   *   until `n` tokens will be available (nothing is taken then), always above 0.
   * @throws PortscoutError `ERR_INVALID_OPTION` when `n` exceeds the burst (it could never be served).
   *
   * @example
   * ```ts
   * const wait = bucket.tryTake();
   * if (wait === 0) send(probe);
   * else setTimeout(retry, wait);
   * ```
   */
  tryTake(n = 1): number {
    if (this.ratePerMs === Infinity) return 0;
    const now = this.now();
    const elapsed = now - this.last;
    if (elapsed > 0) {
      const tokens = this.tokens + elapsed * this.ratePerMs;
      this.tokens = tokens < this.burstValue ? tokens : this.burstValue;
    }
    this.last = now;
    if (this.tokens >= n - TOKEN_EPSILON) {
      this.tokens = this.tokens > n ? this.tokens - n : 0;
      return 0;
    }
    if (n > this.burstValue) {
      throw new PortscoutError('ERR_INVALID_OPTION', `Cannot take ${n} tokens at once from a bucket of ${this.burstValue}.`);
    }
    const wait = (n - this.tokens) / this.ratePerMs;
    // Timers have millisecond granularity: round up so the wait is enough, and never answer 0.
    return wait > 1 ? Math.ceil(wait) : 1;
  }

  /**
   * Waits until `n` tokens are available and takes them.
   *
   * @param signal aborting it clears the timer and rejects with `signal.reason`;
   *   an already-aborted signal rejects at once.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * await bucket.take(1, controller.signal);
   * ```
   */
  take(n = 1, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let wait: number;
    try {
      wait = this.tryTake(n);
    } catch (error) {
      return Promise.reject(error);
    }
    if (wait === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = {
        abort: (reason: unknown): void => {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          reject(reason);
        },
      };
      const done = (): void => {
        if (signal) this.forget(signal, waiter);
      };
      const attempt = (): void => {
        timer = undefined;
        let next: number;
        try {
          next = this.tryTake(n);
        } catch (error) {
          done();
          reject(error);
          return;
        }
        if (next === 0) {
          done();
          resolve();
        } else {
          timer = setTimeout(attempt, next);
        }
      };
      if (signal) this.remember(signal, waiter);
      timer = setTimeout(attempt, wait);
    });
  }

  /** Waiters per signal: one abort listener per signal and bucket however many wait on it. */
  private readonly waiters = new Map<AbortSignal, { readonly set: Set<{ abort(reason: unknown): void }>; readonly release: () => void }>();

  private remember(signal: AbortSignal, waiter: { abort(reason: unknown): void }): void {
    let entry = this.waiters.get(signal);
    if (!entry) {
      const set = new Set<{ abort(reason: unknown): void }>();
      const release = whenAborted(signal, (reason) => {
        this.waiters.delete(signal);
        for (const w of set) w.abort(reason);
      });
      entry = { set, release };
      this.waiters.set(signal, entry);
    }
    entry.set.add(waiter);
  }

  private forget(signal: AbortSignal, waiter: { abort(reason: unknown): void }): void {
    const entry = this.waiters.get(signal);
    if (!entry) return;
    entry.set.delete(waiter);
    if (entry.set.size > 0) return;
    this.waiters.delete(signal);
    entry.release();
  }

  /**
   * Changes the rate (e.g. to slow down when ICMP rate limiting is detected).
   * Tokens accrued so far at the old rate are kept (up to the new burst). When
   * no burst was given, the burst follows the rate (10 ms worth).
   *
   * @example
   * ```ts
   * bucket.setRate(bucket.rate / 2);
   * ```
   */
  setRate(rate: number): void {
    checkRate(rate);
    const now = this.now();
    if (this.rateValue !== Infinity) this.refill(now);
    const wasUnlimited = this.rateValue === Infinity;
    this.rateValue = rate;
    this.ratePerMs = rate / 1000;
    if (!this.burstGiven) this.burstValue = defaultBurst(rate);
    if (wasUnlimited || this.tokens > this.burstValue) this.tokens = this.burstValue;
    this.last = now;
  }
}

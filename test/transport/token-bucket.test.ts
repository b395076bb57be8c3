import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { TokenBucket } from '../../src/transport/token-bucket.js';
import { PortscoutError } from '../../src/errors.js';

/** A clock the test moves by hand. */
function manualClock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  it('starts full, then answers the wait until the next token', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 100, burst: 3, now: clock.now });
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(0);
    // Empty: one token every 10 ms at 100/s.
    expect(bucket.tryTake()).toBe(10);
    clock.advance(4);
    expect(bucket.tryTake()).toBe(6);
    clock.advance(6);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(10);
  });

  it('takes nothing when it answers a wait', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 1000, burst: 5, now: clock.now });
    expect(bucket.tryTake(4)).toBe(0);
    expect(bucket.available).toBeCloseTo(1, 9);
    expect(bucket.tryTake(3)).toBe(2);
    expect(bucket.available).toBeCloseTo(1, 9);
    clock.advance(2);
    expect(bucket.tryTake(3)).toBe(0);
    expect(bucket.available).toBeCloseTo(0, 9);
  });

  it('never holds more than its burst', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 2, now: clock.now });
    clock.advance(60_000);
    expect(bucket.available).toBe(2);
    expect(bucket.tryTake(2)).toBe(0);
    expect(bucket.tryTake(1)).toBe(100);
  });

  it('defaults the burst to 10 ms worth of tokens, at least one', () => {
    expect(new TokenBucket({ rate: 100_000 }).burst).toBe(1000);
    expect(new TokenBucket({ rate: 1000 }).burst).toBe(10);
    expect(new TokenBucket({ rate: 5 }).burst).toBe(1);
    expect(new TokenBucket({ rate: 0.1 }).burst).toBe(1);
  });

  it('answers a positive wait for fractional shortfalls (timers are in ms)', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 100_000, burst: 1, now: clock.now });
    expect(bucket.tryTake()).toBe(0);
    // 0.01 ms until the next token: rounded up to 1 ms, never 0.
    expect(bucket.tryTake()).toBe(1);
  });

  it('is unlimited at rate Infinity', () => {
    const bucket = new TokenBucket({ rate: Infinity });
    for (let i = 0; i < 10_000; i++) expect(bucket.tryTake(1)).toBe(0);
    expect(bucket.available).toBe(Infinity);
  });

  it('rejects a rate of 0, a negative or NaN rate, a burst below 1 and takes above the burst', () => {
    for (const rate of [0, -1, Number.NaN]) {
      expect(() => new TokenBucket({ rate })).toThrow(PortscoutError);
    }
    expect(() => new TokenBucket({ rate: 10, burst: 0.5 })).toThrow(/burst/);
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 2, now: clock.now });
    bucket.tryTake(2);
    expect(() => bucket.tryTake(3)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('setRate keeps accrued tokens and paces at the new rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 1000, burst: 10, now: clock.now });
    expect(bucket.tryTake(10)).toBe(0);
    clock.advance(3); // 3 tokens accrued at 1000/s
    bucket.setRate(100);
    expect(bucket.rate).toBe(100);
    expect(bucket.tryTake(3)).toBe(0);
    expect(bucket.tryTake(1)).toBe(10); // now 10 ms per token
    bucket.setRate(Infinity);
    expect(bucket.tryTake(50)).toBe(0);
    bucket.setRate(50);
    // Coming back from unlimited: a full bucket, then 20 ms per token.
    expect(bucket.tryTake(10)).toBe(0);
    expect(bucket.tryTake(1)).toBe(20);
    expect(() => bucket.setRate(0)).toThrow(PortscoutError);
  });

  it('setRate moves a default burst with the rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ rate: 10_000, now: clock.now });
    expect(bucket.burst).toBe(100);
    bucket.setRate(1000);
    expect(bucket.burst).toBe(10);
    expect(bucket.available).toBe(10);
  });

  it('a take succeeds after waiting the answered time even when float clock readings round down', () => {
    // Found by the property below: at t = 5.7e-14 + 1000 the second wait of 1000 ms
    // refilled 0.9999999999999999 of 1 token, and the take failed after the wait.
    const clock = manualClock(0);
    const bucket = new TokenBucket({ rate: 1, burst: 3, now: clock.now });
    clock.advance(5.684341886080803e-14);
    expect(bucket.tryTake(2)).toBe(0);
    for (const n of [2, 1]) {
      const wait = bucket.tryTake(n);
      expect(wait).toBe(1000);
      clock.advance(wait);
      expect(bucket.tryTake(n)).toBe(0);
    }
  });

  it('never lets more than burst + rate * elapsed through (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 200_000, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 20, noNaN: true }), fc.integer({ min: 1, max: 3 })), { maxLength: 300 }),
        (rate, burstExtra, steps) => {
          const clock = manualClock(0);
          const burst = Math.max(3, burstExtra);
          const bucket = new TokenBucket({ rate, burst, now: clock.now });
          let taken = 0;
          let elapsed = 0;
          for (const [advance, n] of steps) {
            clock.advance(advance);
            elapsed += advance;
            const wait = bucket.tryTake(n);
            if (wait === 0) taken += n;
            else {
              expect(wait).toBeGreaterThan(0);
              // After waiting the answered time, the take succeeds.
              clock.advance(wait);
              elapsed += wait;
              expect(bucket.tryTake(n)).toBe(0);
              taken += n;
            }
            expect(taken).toBeLessThanOrEqual(burst + (rate * elapsed) / 1000 + 1e-6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  describe('take', () => {
    it('resolves at once when tokens are there and waits when they are not', async () => {
      const bucket = new TokenBucket({ rate: 200, burst: 1 });
      await bucket.take();
      expect(bucket.tryTake()).toBeGreaterThan(0);
      await bucket.take(); // waits about 5 ms for the next token
      expect(bucket.available).toBeLessThan(1);
    });

    it('serves every waiter eventually when several wait at once', async () => {
      const bucket = new TokenBucket({ rate: 1000, burst: 1 });
      const order: number[] = [];
      await Promise.all([0, 1, 2, 3, 4].map((i) => bucket.take().then(() => order.push(i))));
      expect(order.sort()).toEqual([0, 1, 2, 3, 4]);
    });

    it('rejects at once with the reason of an already-aborted signal', async () => {
      const bucket = new TokenBucket({ rate: 10 });
      const reason = new Error('stop');
      await expect(bucket.take(1, AbortSignal.abort(reason))).rejects.toBe(reason);
      // Nothing was taken.
      expect(bucket.available).toBeCloseTo(1, 3);
    });

    it('rejects with the reason and clears its timer when aborted while waiting', async () => {
      vi.useFakeTimers();
      try {
        const clock = manualClock();
        const bucket = new TokenBucket({ rate: 0.01, burst: 1, now: clock.now }); // next token in 100 s
        bucket.tryTake();
        const controller = new AbortController();
        const pending = bucket.take(1, controller.signal);
        expect(vi.getTimerCount()).toBe(1);
        const reason = new Error('cancelled');
        controller.abort(reason);
        await expect(pending).rejects.toBe(reason);
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });

    it('re-checks after its timer fires and takes the tokens then', async () => {
      vi.useFakeTimers();
      try {
        const clock = manualClock();
        const bucket = new TokenBucket({ rate: 100, burst: 1, now: clock.now });
        bucket.tryTake();
        let done = false;
        const pending = bucket.take(1).then(() => (done = true));
        clock.advance(4);
        await vi.advanceTimersByTimeAsync(10); // the timer fires, but only 4 ms passed on the bucket's clock
        expect(done).toBe(false);
        expect(vi.getTimerCount()).toBe(1);
        clock.advance(6);
        await vi.advanceTimersByTimeAsync(10);
        await pending;
        expect(done).toBe(true);
        expect(bucket.available).toBeCloseTo(0, 9);
      } finally {
        vi.useRealTimers();
      }
    });

    it('rejects (does not hang) when asked for more than the burst', async () => {
      const bucket = new TokenBucket({ rate: 10, burst: 2 });
      bucket.tryTake(2);
      await expect(bucket.take(5)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    });
  });
});

describe('TokenBucket.take on one signal', () => {
  it('adds one abort listener however many wait (no MaxListenersExceededWarning), and an abort rejects them all', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const bucket = new TokenBucket({ rate: 100, burst: 1 });
      const controller = new AbortController();
      const waits = Array.from({ length: 30 }, () => bucket.take(1, controller.signal));
      const settled = Promise.allSettled(waits);
      await new Promise((resolve) => setTimeout(resolve, 60));
      controller.abort(new Error('stop'));
      const results = await settled;
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

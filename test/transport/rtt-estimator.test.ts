import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RttEstimator } from '../../src/transport/rtt-estimator.js';
import { TIMING_TEMPLATES, resolveTiming } from '../../src/transport/timing.js';

describe('RttEstimator', () => {
  it('uses the initial RTT timeout before any sample', () => {
    expect(new RttEstimator(TIMING_TEMPLATES.T3).timeoutMs).toBe(1000);
    expect(new RttEstimator(TIMING_TEMPLATES.T4).timeoutMs).toBe(500);
    const rtt = new RttEstimator(TIMING_TEMPLATES.T5);
    expect(rtt.timeoutMs).toBe(250);
    expect(rtt.srttMs).toBeUndefined();
    expect(rtt.rttVarMs).toBeUndefined();
    expect(rtt.samples).toBe(0);
  });

  it('first sample: srtt = rtt, rttvar = rtt bounded to 5 ms..2 s, timeout = srtt + 4 rttvar', () => {
    const t = resolveTiming({ overrides: { minRttTimeoutMs: 1, maxRttTimeoutMs: 20_000, initialRttTimeoutMs: 1000 } });
    const a = new RttEstimator(t);
    a.addSample(40);
    expect(a.srttMs).toBe(40);
    expect(a.rttVarMs).toBe(40);
    expect(a.timeoutMs).toBe(200);
    const b = new RttEstimator(t);
    b.addSample(1); // rttvar floor 5 ms
    expect(b.rttVarMs).toBe(5);
    expect(b.timeoutMs).toBe(21);
    const c = new RttEstimator(t);
    c.addSample(3000); // rttvar ceiling 2 s
    expect(c.rttVarMs).toBe(2000);
    expect(c.timeoutMs).toBe(11_000);
  });

  it('later samples: srtt += delta/8, rttvar += (|delta| - rttvar)/4', () => {
    const t = resolveTiming({ overrides: { minRttTimeoutMs: 1, maxRttTimeoutMs: 20_000 } });
    const rtt = new RttEstimator(t);
    rtt.addSample(100); // srtt 100, rttvar 100
    rtt.addSample(180); // delta 80: srtt 110, rttvar 100 + (80 - 100)/4 = 95
    expect(rtt.srttMs).toBe(110);
    expect(rtt.rttVarMs).toBe(95);
    expect(rtt.timeoutMs).toBe(110 + 4 * 95);
    rtt.addSample(30); // delta -80: srtt 100, rttvar 95 + (80 - 95)/4 = 91.25
    expect(rtt.srttMs).toBe(100);
    expect(rtt.rttVarMs).toBe(91.25);
    expect(rtt.timeoutMs).toBe(465);
    expect(rtt.samples).toBe(3);
  });

  it('clamps the timeout to min..max RTT timeout', () => {
    const low = new RttEstimator(TIMING_TEMPLATES.T4); // 100..1250
    low.addSample(2);
    expect(low.timeoutMs).toBe(100);
    const high = new RttEstimator(TIMING_TEMPLATES.T5); // 50..300
    high.addSample(900);
    expect(high.timeoutMs).toBe(300);
  });

  it('converges on a steady RTT: the variation decays and the timeout reaches the floor', () => {
    const rtt = new RttEstimator(TIMING_TEMPLATES.T3);
    for (let i = 0; i < 200; i++) rtt.addSample(20);
    expect(rtt.srttMs).toBeCloseTo(20, 6);
    expect(rtt.rttVarMs).toBeLessThan(0.001);
    expect(rtt.timeoutMs).toBe(100);
  });

  it('never waits less than the scan delay', () => {
    const rtt = new RttEstimator(TIMING_TEMPLATES.T2); // scan delay 400 ms
    rtt.addSample(10);
    expect(rtt.timeoutMs).toBe(400);
  });

  it('treats small negative samples (clock skew) as 10 ms and ignores nonsense', () => {
    const t = resolveTiming({ overrides: { minRttTimeoutMs: 1 } });
    const skew = new RttEstimator(t);
    skew.addSample(-3);
    expect(skew.srttMs).toBe(10);
    const rtt = new RttEstimator(t);
    rtt.addSample(-500);
    rtt.addSample(Number.NaN);
    rtt.addSample(Infinity);
    expect(rtt.samples).toBe(0);
    expect(rtt.timeoutMs).toBe(1000);
    rtt.addSample(50);
    rtt.addSample(8000); // 8 s and more: ignored
    rtt.addSample(-200);
    expect(rtt.samples).toBe(1);
    expect(rtt.srttMs).toBe(50);
  });

  it('ignores a bogus jump (> 1.5 s and > 3 srtt + 2 rttvar) but accepts a large plausible one', () => {
    const t = resolveTiming({ overrides: { minRttTimeoutMs: 1 } });
    const rtt = new RttEstimator(t);
    rtt.addSample(10); // srtt 10, rttvar 10
    rtt.addSample(1600); // delta 1590 > 1500 and > 50: bogus
    expect(rtt.samples).toBe(1);
    const slow = new RttEstimator(t);
    slow.addSample(1000); // srtt 1000, rttvar 1000
    slow.addSample(2600); // delta 1600 > 1500 but < 3*1000 + 2*1000: accepted
    expect(slow.samples).toBe(2);
    expect(slow.srttMs).toBe(1200);
  });

  it('cuts a variation above 2.3 s back to 2 s', () => {
    const t = resolveTiming({ overrides: { minRttTimeoutMs: 1, maxRttTimeoutMs: 60_000 } });
    const rtt = new RttEstimator(t);
    rtt.addSample(2000); // srtt 2000, rttvar 2000
    rtt.addSample(7900); // delta 5900: rttvar 2000 + (5900 - 2000)/4 = 2975 > 2300 -> 2000
    expect(rtt.rttVarMs).toBe(2000);
    expect(rtt.srttMs).toBe(2737.5);
  });

  it('keeps the timeout within the bounds for any samples (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('T0', 'T1', 'T2', 'T3', 'T4', 'T5' as const),
        fc.array(fc.double({ min: -100, max: 20_000, noNaN: true }), { maxLength: 100 }),
        (name, samples) => {
          const t = TIMING_TEMPLATES[name];
          const rtt = new RttEstimator(t);
          for (const s of samples) {
            rtt.addSample(s);
            const timeout = rtt.timeoutMs;
            if (rtt.samples === 0) expect(timeout).toBe(t.initialRttTimeoutMs);
            else {
              expect(timeout).toBeGreaterThanOrEqual(Math.max(t.minRttTimeoutMs, 0));
              expect(timeout).toBeLessThanOrEqual(Math.max(t.maxRttTimeoutMs, t.scanDelayMs));
              expect(timeout).toBeGreaterThanOrEqual(t.scanDelayMs);
              expect(rtt.rttVarMs).toBeLessThanOrEqual(2300);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { TIMING_TEMPLATES, resolveTiming, type TimingValues } from '../../src/transport/timing.js';
import { PortscoutError } from '../../src/errors.js';

function invalidOption(fn: () => unknown, option: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortscoutError);
    expect((error as PortscoutError).code).toBe('ERR_INVALID_OPTION');
    expect((error as PortscoutError).message).toContain(option);
    return;
  }
  throw new Error(`expected ERR_INVALID_OPTION naming ${option}`);
}

describe('TIMING_TEMPLATES', () => {
  it('has the values man nmap documents for -T4 and -T5', () => {
    expect(TIMING_TEMPLATES.T4).toMatchObject({
      maxRttTimeoutMs: 1250,
      minRttTimeoutMs: 100,
      initialRttTimeoutMs: 500,
      maxRetries: 6,
      maxTcpScanDelayMs: 10,
    });
    expect(TIMING_TEMPLATES.T4.hostTimeoutMs).toBeUndefined();
    expect(TIMING_TEMPLATES.T5).toMatchObject({
      maxRttTimeoutMs: 300,
      minRttTimeoutMs: 50,
      initialRttTimeoutMs: 250,
      maxRetries: 2,
      hostTimeoutMs: 15 * 60 * 1000,
      maxTcpScanDelayMs: 5,
    });
    // "Maximum UDP scan delay is not set by T4 or T5": the default stays.
    expect(TIMING_TEMPLATES.T4.maxScanDelayMs).toBe(TIMING_TEMPLATES.T3.maxScanDelayMs);
    expect(TIMING_TEMPLATES.T5.maxScanDelayMs).toBe(TIMING_TEMPLATES.T3.maxScanDelayMs);
  });

  it('has nmap defaults for T3 and the serial, delayed T0 to T2', () => {
    expect(TIMING_TEMPLATES.T3).toMatchObject({
      initialRttTimeoutMs: 1000,
      minRttTimeoutMs: 100,
      maxRttTimeoutMs: 10_000,
      maxRetries: 10,
      scanDelayMs: 0,
    });
    expect(TIMING_TEMPLATES.T0.scanDelayMs).toBe(5 * 60 * 1000);
    expect(TIMING_TEMPLATES.T1.scanDelayMs).toBe(15_000);
    expect(TIMING_TEMPLATES.T2.scanDelayMs).toBe(400);
    for (const name of ['T0', 'T1', 'T2'] as const) expect(TIMING_TEMPLATES[name].maxParallelism).toBe(1);
    for (const name of ['T3', 'T4', 'T5'] as const) expect(TIMING_TEMPLATES[name].maxParallelism).toBeGreaterThan(1);
  });

  it('orders the templates from slowest to fastest', () => {
    const names = ['T0', 'T1', 'T2', 'T3', 'T4', 'T5'] as const;
    for (let i = 1; i < names.length; i++) {
      const slower = TIMING_TEMPLATES[names[i - 1]!];
      const faster = TIMING_TEMPLATES[names[i]!];
      expect(faster.scanDelayMs).toBeLessThanOrEqual(slower.scanDelayMs);
      expect(faster.initialRttTimeoutMs).toBeLessThanOrEqual(slower.initialRttTimeoutMs);
      expect(faster.maxRetries).toBeLessThanOrEqual(slower.maxRetries);
    }
  });

  it('is consistent and frozen: every template resolves to itself', () => {
    for (const name of ['T0', 'T1', 'T2', 'T3', 'T4', 'T5'] as const) {
      expect(Object.isFrozen(TIMING_TEMPLATES[name])).toBe(true);
      expect(resolveTiming({ timing: name })).toEqual(TIMING_TEMPLATES[name]);
    }
    expect(Object.isFrozen(TIMING_TEMPLATES)).toBe(true);
    expect(() => {
      (TIMING_TEMPLATES.T3 as TimingValues).maxRetries = 1;
    }).toThrow(TypeError);
  });
});

describe('resolveTiming', () => {
  it('defaults to T3 and returns a copy the caller may change', () => {
    const timing = resolveTiming({});
    expect(timing).toEqual(TIMING_TEMPLATES.T3);
    timing.maxRetries = 1;
    expect(TIMING_TEMPLATES.T3.maxRetries).toBe(10);
    expect(resolveTiming()).toEqual(TIMING_TEMPLATES.T3);
  });

  it('applies overrides over the template', () => {
    const timing = resolveTiming({ timing: 'T4', overrides: { maxRetries: 0, hostTimeoutMs: 30_000 } });
    expect(timing.maxRetries).toBe(0);
    expect(timing.hostTimeoutMs).toBe(30_000);
    expect(timing.initialRttTimeoutMs).toBe(500);
  });

  it('treats hostTimeoutMs 0 as no host timeout (overrides T5)', () => {
    const timing = resolveTiming({ timing: 'T5', overrides: { hostTimeoutMs: 0 } });
    expect(timing.hostTimeoutMs).toBeUndefined();
    expect('hostTimeoutMs' in timing).toBe(false);
  });

  it('drags unset bounds along with set ones, as nmap does', () => {
    // A max RTT timeout below T3's initial 1000 ms pulls the initial timeout down.
    expect(resolveTiming({ overrides: { maxRttTimeoutMs: 300 } })).toMatchObject({ maxRttTimeoutMs: 300, initialRttTimeoutMs: 300, minRttTimeoutMs: 100 });
    // A max below the template minimum pulls the minimum down.
    expect(resolveTiming({ timing: 'T4', overrides: { maxRttTimeoutMs: 50 } })).toMatchObject({ minRttTimeoutMs: 50, initialRttTimeoutMs: 50 });
    // An initial timeout above the template maximum raises the maximum.
    expect(resolveTiming({ timing: 'T5', overrides: { initialRttTimeoutMs: 2000 } })).toMatchObject({ maxRttTimeoutMs: 2000 });
    // A scan delay above the maximum scan delays raises them.
    expect(resolveTiming({ timing: 'T4', overrides: { scanDelayMs: 50 } })).toMatchObject({ maxTcpScanDelayMs: 50, maxScanDelayMs: 1000 });
    expect(resolveTiming({ overrides: { scanDelayMs: 5000 } })).toMatchObject({ maxScanDelayMs: 5000, maxTcpScanDelayMs: 5000 });
    expect(resolveTiming({ timing: 'T2', overrides: { minParallelism: 8 } })).toMatchObject({ minParallelism: 8, maxParallelism: 8 });
  });

  it('rejects negative, non-finite and non-integer values, naming the option', () => {
    invalidOption(() => resolveTiming({ overrides: { maxRetries: -1 } }), 'maxRetries');
    invalidOption(() => resolveTiming({ overrides: { maxRetries: 1.5 } }), 'maxRetries');
    invalidOption(() => resolveTiming({ overrides: { scanDelayMs: -5 } }), 'scanDelayMs');
    invalidOption(() => resolveTiming({ overrides: { initialRttTimeoutMs: 0 } }), 'initialRttTimeoutMs');
    invalidOption(() => resolveTiming({ overrides: { maxRttTimeoutMs: Infinity } }), 'maxRttTimeoutMs');
    invalidOption(() => resolveTiming({ overrides: { minRttTimeoutMs: Number.NaN } }), 'minRttTimeoutMs');
    invalidOption(() => resolveTiming({ overrides: { hostTimeoutMs: -1 } }), 'hostTimeoutMs');
    invalidOption(() => resolveTiming({ overrides: { minParallelism: 0 } }), 'minParallelism');
    invalidOption(() => resolveTiming({ overrides: { maxParallelism: 2.5 } }), 'maxParallelism');
  });

  it('rejects a minimum above its maximum when both were given', () => {
    invalidOption(() => resolveTiming({ overrides: { minRttTimeoutMs: 5000, maxRttTimeoutMs: 100 } }), 'minRttTimeoutMs');
    invalidOption(
      () => resolveTiming({ overrides: { initialRttTimeoutMs: 50, minRttTimeoutMs: 100, maxRttTimeoutMs: 1000 } }),
      'initialRttTimeoutMs',
    );
    invalidOption(() => resolveTiming({ overrides: { scanDelayMs: 2000, maxScanDelayMs: 1000 } }), 'scanDelayMs');
    invalidOption(() => resolveTiming({ overrides: { minParallelism: 10, maxParallelism: 2 } }), 'minParallelism');
  });

  it('rejects unknown templates and options', () => {
    invalidOption(() => resolveTiming({ timing: 'T9' as 'T3' }), 'timing');
    invalidOption(() => resolveTiming({ overrides: { maxRetry: 3 } as unknown as Partial<TimingValues> }), 'maxRetry');
  });
});

/**
 * nmap's timing templates (`-T0` to `-T5`) and the validation of timing options.
 *
 * Sources:
 * - `man nmap`, section TIMING AND PERFORMANCE, option `-T`: "The main effects
 *   of T0 are serializing the scan so only one port is scanned at a time, and
 *   waiting five minutes between sending each probe. T1 and T2 are similar but
 *   they only wait 15 seconds and 0.4 seconds, respectively, between probes.
 *   T3 is Nmap's default behavior [...]. -T4 does the equivalent of
 *   --max-rtt-timeout 1250ms --min-rtt-timeout 100ms --initial-rtt-timeout 500ms
 *   --max-retries 6 and sets the maximum TCP and SCTP scan delay to 10ms. T5
 *   does the equivalent of --max-rtt-timeout 300ms --min-rtt-timeout 50ms
 *   --initial-rtt-timeout 250ms --max-retries 2 --host-timeout 15m [...] as well
 *   as setting the maximum TCP and SCTP scan delay to 5ms. Maximum UDP scan
 *   delay is not set by T4 or T5". The same page gives the default of
 *   `--max-retries` (ten retransmissions).
 * - The defaults nmap's `nmap.h` documents for T3: minimum RTT timeout 100 ms,
 *   maximum 10 s, initial 1 s, maximum TCP/UDP scan delay 1 s. nmap's option
 *   parser sets the initial RTT timeout of T0 and T1 to their scan delay (5 min
 *   and 15 s), which also raises the maximum RTT timeout to that value, and
 *   limits T0 to T2 to one probe in flight (`max_parallelism = 1`). Without a
 *   `--max-parallelism`, nmap's congestion window grows to at most 300 probes.
 *
 * Values here are in milliseconds; the values are facts from those sources,
 * not code taken from nmap.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

/**
 * Timing values of a scan, nmap's fine-grained timing options.
 *
 * @example
 * ```ts
 * const timing: TimingValues = { ...TIMING_TEMPLATES.T4, maxRetries: 2 };
 * ```
 */
export interface TimingValues {
  /** Probe timeout before any round trip has been measured (`--initial-rtt-timeout`). */
  initialRttTimeoutMs: number;
  /** Lower bound of the adaptive probe timeout (`--min-rtt-timeout`). */
  minRttTimeoutMs: number;
  /** Upper bound of the adaptive probe timeout (`--max-rtt-timeout`). */
  maxRttTimeoutMs: number;
  /** Retransmissions of an unanswered probe (`--max-retries`); 0 sends each probe once. */
  maxRetries: number;
  /** Least time between two probes to the same host (`--scan-delay`); 0 for none. */
  scanDelayMs: number;
  /** Largest per-host delay the scanner may grow to when it detects rate limiting (`--max-scan-delay`; nmap applies it to UDP). */
  maxScanDelayMs: number;
  /** Largest dynamic per-host delay for TCP probes (T4 lowers it to 10 ms, T5 to 5 ms). */
  maxTcpScanDelayMs: number;
  /** Give up on a host after this long (`--host-timeout`); undefined or 0 for no limit. */
  hostTimeoutMs?: number;
  /** Probes in flight the scanner keeps at least (`--min-parallelism`). */
  minParallelism: number;
  /** Probes in flight at most (`--max-parallelism`): 1 for T0-T2 (one probe at a time), `Infinity` (no ceiling beyond the scanner's `maxInFlight`) otherwise. */
  maxParallelism: number;
}

/**
 * Name of a timing template: `T0` paranoid, `T1` sneaky, `T2` polite,
 * `T3` normal (default), `T4` aggressive, `T5` insane.
 *
 * @example
 * ```ts
 * const name: TimingTemplateName = 'T4';
 * ```
 */
export type TimingTemplateName = 'T0' | 'T1' | 'T2' | 'T3' | 'T4' | 'T5';

/**
 * No ceiling from the template: the scanners' own `maxInFlight` bounds the
 * probes in flight. (nmap's congestion window tops out at 300 probes unless
 * `--max-parallelism` is given; portscout has no congestion window, and the
 * templates that set a ceiling, T0-T2, set 1.) `Infinity` reads as `null` in JSON.
 */
const DEFAULT_MAX_PARALLELISM = Number.POSITIVE_INFINITY;

const T3: Readonly<TimingValues> = Object.freeze({
  initialRttTimeoutMs: 1_000,
  minRttTimeoutMs: 100,
  maxRttTimeoutMs: 10_000,
  maxRetries: 10,
  scanDelayMs: 0,
  maxScanDelayMs: 1_000,
  maxTcpScanDelayMs: 1_000,
  minParallelism: 1,
  maxParallelism: DEFAULT_MAX_PARALLELISM,
});

/**
 * nmap's six timing templates, as `man nmap` (TIMING AND PERFORMANCE, `-T`)
 * describes them. Frozen.
 *
 * @example
 * ```ts
 * TIMING_TEMPLATES.T4.maxRttTimeoutMs; // 1250
 * TIMING_TEMPLATES.T5.hostTimeoutMs;   // 900000 (15 minutes)
 * ```
 */
export const TIMING_TEMPLATES: Readonly<Record<TimingTemplateName, Readonly<TimingValues>>> = Object.freeze({
  // Paranoid: one probe at a time, five minutes between probes.
  T0: Object.freeze({
    ...T3,
    initialRttTimeoutMs: 300_000,
    maxRttTimeoutMs: 300_000,
    scanDelayMs: 300_000,
    maxScanDelayMs: 300_000,
    maxTcpScanDelayMs: 300_000,
    maxParallelism: 1,
  }),
  // Sneaky: one probe at a time, 15 seconds between probes.
  T1: Object.freeze({
    ...T3,
    initialRttTimeoutMs: 15_000,
    maxRttTimeoutMs: 15_000,
    scanDelayMs: 15_000,
    maxScanDelayMs: 15_000,
    maxTcpScanDelayMs: 15_000,
    maxParallelism: 1,
  }),
  // Polite: one probe at a time, 0.4 seconds between probes.
  T2: Object.freeze({ ...T3, scanDelayMs: 400, maxParallelism: 1 }),
  // Normal: nmap's defaults.
  T3,
  // Aggressive.
  T4: Object.freeze({
    ...T3,
    initialRttTimeoutMs: 500,
    minRttTimeoutMs: 100,
    maxRttTimeoutMs: 1_250,
    maxRetries: 6,
    maxTcpScanDelayMs: 10,
  }),
  // Insane.
  T5: Object.freeze({
    ...T3,
    initialRttTimeoutMs: 250,
    minRttTimeoutMs: 50,
    maxRttTimeoutMs: 300,
    maxRetries: 2,
    hostTimeoutMs: 900_000,
    maxTcpScanDelayMs: 5,
  }),
});

/** Every key of {@link TimingValues}, for validation of overrides. */
const TIMING_KEYS: ReadonlySet<string> = new Set<keyof TimingValues>([
  'initialRttTimeoutMs',
  'minRttTimeoutMs',
  'maxRttTimeoutMs',
  'maxRetries',
  'scanDelayMs',
  'maxScanDelayMs',
  'maxTcpScanDelayMs',
  'hostTimeoutMs',
  'minParallelism',
  'maxParallelism',
]);

function invalid(option: string, message: string): PortscoutError {
  return new PortscoutError('ERR_INVALID_OPTION', `Invalid timing option ${option}: ${message}`);
}

function checkDuration(name: string, value: number, allowZero: boolean): void {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalid(name, `expected a number of milliseconds, got ${String(value)}.`);
  if (!Number.isFinite(value)) throw invalid(name, `expected a finite number of milliseconds, got ${value}.`);
  if (value < 0) throw invalid(name, `must not be negative, got ${value}.`);
  if (!allowZero && value === 0) throw invalid(name, 'must be greater than 0.');
}

function checkCount(name: string, value: number, min: number, allowInfinity: boolean): void {
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalid(name, `expected a whole number, got ${String(value)}.`);
  if (value === Infinity && allowInfinity) return;
  if (!Number.isInteger(value)) throw invalid(name, `expected a whole number, got ${value}.`);
  if (value < min) throw invalid(name, `must be at least ${min}, got ${value}.`);
}

/**
 * The timing values of a template with the caller's overrides applied, validated.
 *
 * Like nmap, an override that moves one bound past the other one drags the
 * other along when the caller did not set it too: an `initialRttTimeoutMs`
 * above the template's maximum raises `maxRttTimeoutMs`, a `scanDelayMs` above
 * the template's maximum scan delays raises them. Values the caller set
 * explicitly are never changed; inconsistent explicit values are an error.
 *
 * @param opts.timing template name, default `'T3'`
 * @param opts.overrides values replacing the template's; `hostTimeoutMs: 0` means no host timeout
 * @returns a new object (the caller may change it)
 * @throws PortscoutError `ERR_INVALID_OPTION` naming the option: unknown template
 *   or option, a negative, non-finite or non-integer value, or a minimum above
 *   its maximum.
 *
 * @example
 * ```ts
 * const timing = resolveTiming({ timing: 'T4', overrides: { maxRetries: 2 } });
 * timing.initialRttTimeoutMs; // 500
 * resolveTiming({ overrides: { minRttTimeoutMs: 5000, maxRttTimeoutMs: 100 } }); // throws ERR_INVALID_OPTION
 * ```
 */
export function resolveTiming(opts: { timing?: TimingTemplateName; overrides?: Partial<TimingValues> } = {}): TimingValues {
  const name = opts.timing ?? 'T3';
  if (!Object.hasOwn(TIMING_TEMPLATES, name)) {
    throw new PortscoutError(
      'ERR_INVALID_OPTION',
      `Invalid timing option timing: unknown template ${JSON.stringify(name)}; expected one of T0, T1, T2, T3, T4, T5.`,
    );
  }
  const base = TIMING_TEMPLATES[name];
  const overrides: Partial<TimingValues> = opts.overrides ?? {};
  for (const key of Object.keys(overrides)) {
    if (!TIMING_KEYS.has(key)) throw invalid(key, `unknown option; expected one of ${[...TIMING_KEYS].join(', ')}.`);
  }
  const given = (key: keyof TimingValues): boolean => overrides[key] !== undefined;
  const pick = <K extends keyof TimingValues>(key: K): TimingValues[K] => (overrides[key] !== undefined ? overrides[key] : base[key]) as TimingValues[K];

  let initialRttTimeoutMs = pick('initialRttTimeoutMs');
  let minRttTimeoutMs = pick('minRttTimeoutMs');
  let maxRttTimeoutMs = pick('maxRttTimeoutMs');
  const maxRetries = pick('maxRetries');
  const scanDelayMs = pick('scanDelayMs');
  let maxScanDelayMs = pick('maxScanDelayMs');
  let maxTcpScanDelayMs = pick('maxTcpScanDelayMs');
  const hostTimeoutMs = pick('hostTimeoutMs');
  let minParallelism = pick('minParallelism');
  let maxParallelism = pick('maxParallelism');

  checkDuration('initialRttTimeoutMs', initialRttTimeoutMs, false);
  checkDuration('minRttTimeoutMs', minRttTimeoutMs, true);
  checkDuration('maxRttTimeoutMs', maxRttTimeoutMs, false);
  checkCount('maxRetries', maxRetries, 0, false);
  checkDuration('scanDelayMs', scanDelayMs, true);
  checkDuration('maxScanDelayMs', maxScanDelayMs, true);
  checkDuration('maxTcpScanDelayMs', maxTcpScanDelayMs, true);
  if (hostTimeoutMs !== undefined) checkDuration('hostTimeoutMs', hostTimeoutMs, true);
  checkCount('minParallelism', minParallelism, 1, false);
  checkCount('maxParallelism', maxParallelism, 1, true);

  // Drag the bounds the caller did not set along with the ones they did (nmap does the same).
  if (given('minRttTimeoutMs') && !given('maxRttTimeoutMs') && maxRttTimeoutMs < minRttTimeoutMs) maxRttTimeoutMs = minRttTimeoutMs;
  if (given('maxRttTimeoutMs') && !given('minRttTimeoutMs') && minRttTimeoutMs > maxRttTimeoutMs) minRttTimeoutMs = maxRttTimeoutMs;
  if (!given('initialRttTimeoutMs')) {
    initialRttTimeoutMs = Math.min(maxRttTimeoutMs, Math.max(minRttTimeoutMs, initialRttTimeoutMs));
  } else {
    if (!given('maxRttTimeoutMs') && maxRttTimeoutMs < initialRttTimeoutMs) maxRttTimeoutMs = initialRttTimeoutMs;
    if (!given('minRttTimeoutMs') && minRttTimeoutMs > initialRttTimeoutMs) minRttTimeoutMs = initialRttTimeoutMs;
  }
  if (given('scanDelayMs')) {
    if (!given('maxScanDelayMs') && maxScanDelayMs < scanDelayMs) maxScanDelayMs = scanDelayMs;
    if (!given('maxTcpScanDelayMs') && maxTcpScanDelayMs < scanDelayMs) maxTcpScanDelayMs = scanDelayMs;
  }
  if (given('minParallelism') && !given('maxParallelism') && maxParallelism < minParallelism) maxParallelism = minParallelism;
  if (given('maxParallelism') && !given('minParallelism') && minParallelism > maxParallelism) minParallelism = maxParallelism;

  if (minRttTimeoutMs > maxRttTimeoutMs) {
    throw invalid('minRttTimeoutMs', `${minRttTimeoutMs} ms is above maxRttTimeoutMs (${maxRttTimeoutMs} ms).`);
  }
  if (initialRttTimeoutMs < minRttTimeoutMs || initialRttTimeoutMs > maxRttTimeoutMs) {
    throw invalid(
      'initialRttTimeoutMs',
      `${initialRttTimeoutMs} ms is outside minRttTimeoutMs..maxRttTimeoutMs (${minRttTimeoutMs}..${maxRttTimeoutMs} ms).`,
    );
  }
  if (scanDelayMs > maxScanDelayMs) throw invalid('scanDelayMs', `${scanDelayMs} ms is above maxScanDelayMs (${maxScanDelayMs} ms).`);
  if (scanDelayMs > maxTcpScanDelayMs) {
    throw invalid('scanDelayMs', `${scanDelayMs} ms is above maxTcpScanDelayMs (${maxTcpScanDelayMs} ms).`);
  }
  if (minParallelism > maxParallelism) throw invalid('minParallelism', `${minParallelism} is above maxParallelism (${maxParallelism}).`);

  const resolved: TimingValues = {
    initialRttTimeoutMs,
    minRttTimeoutMs,
    maxRttTimeoutMs,
    maxRetries,
    scanDelayMs,
    maxScanDelayMs,
    maxTcpScanDelayMs,
    minParallelism,
    maxParallelism,
    ...(hostTimeoutMs !== undefined && hostTimeoutMs > 0 ? { hostTimeoutMs } : {}),
  };
  return resolved;
}

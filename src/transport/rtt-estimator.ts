/**
 * nmap's adaptive probe timeout: a smoothed round-trip time and its variation,
 * in the style of RFC 6298 (TCP's retransmission timer).
 *
 * What was taken from where (the rules, not code):
 * - `man nmap`, TIMING AND PERFORMANCE, `--min-rtt-timeout`, `--max-rtt-timeout`,
 *   `--initial-rtt-timeout`: nmap keeps a running timeout computed from the
 *   response times of earlier probes, starts at the initial timeout, and never
 *   leaves the min..max range.
 * - nmap's `timing.cc`, `adjust_timeouts2()` (read in the nmap/nmap repository):
 *   - a small negative sample (clock skew, above -50 ms) counts as 10 ms;
 *   - first sample: `srtt = rtt`, `rttvar = rtt` bounded to 5 ms..2 s;
 *   - later samples: ignored when negative or 8 s and more, or when
 *     `rtt - srtt` exceeds both 1.5 s and `3*srtt + 2*rttvar` (a bogus
 *     outlier); otherwise `delta = rtt - srtt`, `srtt += delta/8`,
 *     `rttvar += (|delta| - rttvar)/4` (RFC 6298's alpha 1/8, beta 1/4);
 *   - an `rttvar` above 2.3 s is cut back to 2 s;
 *   - `timeout = srtt + 4*rttvar`, clamped to min..max, and never below the
 *     scan delay when one is set.
 * nmap works in integer microseconds with shifts; this class uses floating
 * point milliseconds, so results differ from nmap's in the last microsecond.
 *
 * @module
 */
import type { TimingValues } from './timing.js';

/** A negative sample above this (ms) is clock skew, not nonsense (nmap: 50 ms). */
const SKEW_TOLERANCE_MS = 50;
/** What a skewed negative sample counts as (nmap: 10 ms). */
const SKEWED_SAMPLE_MS = 10;
/** Later samples this long or longer are ignored (nmap: 8 s). */
const MAX_SAMPLE_MS = 8_000;
/** A jump above the mean larger than this and than 3*srtt+2*rttvar is ignored (nmap: 1.5 s). */
const BOGUS_JUMP_MS = 1_500;
/** Bounds of the first variation estimate (nmap: 5 ms..2 s). */
const MIN_FIRST_RTTVAR_MS = 5;
const MAX_FIRST_RTTVAR_MS = 2_000;
/** A variation above the ceiling is reset to the reset value (nmap: 2.3 s -> 2 s). */
const RTTVAR_CEILING_MS = 2_300;
const RTTVAR_RESET_MS = 2_000;

/**
 * The adaptive probe timeout of a scan (or of a host).
 *
 * @example
 * ```ts
 * const rtt = new RttEstimator(TIMING_TEMPLATES.T4);
 * rtt.timeoutMs;      // 500, the initial RTT timeout
 * rtt.addSample(20);
 * rtt.srttMs;         // 20
 * rtt.timeoutMs;      // 100: 20 + 4 * 20 = 100, within T4's 100..1250 ms
 * ```
 */
export class RttEstimator {
  private srtt = -1;
  private rttvar = -1;
  private timeout: number;
  private sampleCount = 0;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly scanDelayMs: number;

  /** @param t the timing values; only the RTT timeouts and the scan delay are read. */
  constructor(t: Pick<TimingValues, 'initialRttTimeoutMs' | 'minRttTimeoutMs' | 'maxRttTimeoutMs' | 'scanDelayMs'>) {
    this.minMs = t.minRttTimeoutMs;
    this.maxMs = t.maxRttTimeoutMs;
    this.scanDelayMs = t.scanDelayMs;
    this.timeout = t.initialRttTimeoutMs;
  }

  /**
   * Adds a measured round trip (send to reply) in milliseconds. Samples nmap
   * would reject (see the module comment) are ignored.
   *
   * @example
   * ```ts
   * rtt.addSample(performance.now() - sentAt);
   * ```
   */
  addSample(rttMs: number): void {
    if (!Number.isFinite(rttMs)) return;
    let sample = rttMs;
    if (sample < 0 && sample > -SKEW_TOLERANCE_MS) sample = SKEWED_SAMPLE_MS;
    if (this.sampleCount === 0) {
      if (sample < 0) return;
      this.srtt = sample;
      this.rttvar = Math.min(MAX_FIRST_RTTVAR_MS, Math.max(MIN_FIRST_RTTVAR_MS, sample));
    } else {
      if (sample < 0 || sample >= MAX_SAMPLE_MS) return;
      const delta = sample - this.srtt;
      if (delta > BOGUS_JUMP_MS && delta > 3 * this.srtt + 2 * this.rttvar) return;
      this.srtt += delta / 8;
      this.rttvar += (Math.abs(delta) - this.rttvar) / 4;
    }
    this.sampleCount++;
    if (this.rttvar > RTTVAR_CEILING_MS) this.rttvar = RTTVAR_RESET_MS;
    let timeout = this.srtt + 4 * this.rttvar;
    timeout = Math.min(this.maxMs, Math.max(this.minMs, timeout));
    if (this.scanDelayMs > 0) timeout = Math.max(timeout, this.scanDelayMs);
    this.timeout = timeout;
  }

  /**
   * How long to wait for the reply to a probe before retransmitting or giving
   * up, in milliseconds: the initial RTT timeout until a sample was accepted.
   *
   * @example
   * ```ts
   * const deadline = performance.now() + rtt.timeoutMs;
   * ```
   */
  get timeoutMs(): number {
    return this.timeout;
  }

  /**
   * The smoothed round-trip time in milliseconds, undefined before the first accepted sample.
   *
   * @example
   * ```ts
   * if (rtt.srttMs !== undefined) console.log(`srtt ${rtt.srttMs.toFixed(1)} ms`);
   * ```
   */
  get srttMs(): number | undefined {
    return this.sampleCount === 0 ? undefined : this.srtt;
  }

  /**
   * The round-trip time variation in milliseconds, undefined before the first accepted sample.
   *
   * @example
   * ```ts
   * rtt.rttVarMs; // e.g. 3.2
   * ```
   */
  get rttVarMs(): number | undefined {
    return this.sampleCount === 0 ? undefined : this.rttvar;
  }

  /**
   * How many samples were accepted.
   *
   * @example
   * ```ts
   * rtt.samples; // 0 before any reply
   * ```
   */
  get samples(): number {
    return this.sampleCount;
  }
}

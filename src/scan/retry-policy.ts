/**
 * How many retransmissions an unanswered probe gets.
 *
 * @module
 */

/**
 * Retransmissions allowed for a probe, from the highest attempt number that
 * got an answer so far in the scan. While every answer came to a first probe,
 * one retry is enough to tell a lost packet from a filter (nmap's start). Once
 * an answer needed a retransmission, the path loses packets, and every probe
 * gets all `maxRetries`: nmap raises the allowance one attempt at a time, which
 * under 10% loss each way still calls a few closed ports filtered (the last
 * probe of a port can go out before any other answer needed that many tries).
 *
 * @example
 * ```ts
 * allowedRetries(6, 1); // 1: no loss seen
 * allowedRetries(6, 2); // 6: loss seen
 * ```
 */
export function allowedRetries(maxRetries: number, maxAnsweredAttempt: number): number {
  return maxAnsweredAttempt >= 2 ? maxRetries : Math.min(maxRetries, 1);
}

/**
 * How a technique's probes are retried and paced, injected into the engine
 * (a technique names one; see `TECHNIQUES`).
 */
export interface ProbePolicy {
  /** Retransmissions allowed now, from the technique's maximum and the highest attempt that got an answer so far. */
  retries(maxRetries: number, maxAnsweredAttempt: number): number;
  /** How long attempt number `attempt` waits, from the adaptive timeout and the largest allowed. */
  timeout(attempt: number, adaptiveMs: number, maxMs: number): number;
  /**
   * Answers that come only after retransmission mean a host rate-limits
   * them (ICMP errors on Linux): slow down sends to that host.
   */
  readonly adaptsToRateLimit: boolean;
}

/** The policy of most techniques: nmap's, the adaptive timeout for every attempt, retries widened once loss is seen. */
export const STEADY_POLICY: ProbePolicy = Object.freeze({
  retries: allowedRetries,
  timeout: (_attempt: number, adaptiveMs: number) => adaptiveMs,
  adaptsToRateLimit: false,
});

/**
 * The policy of techniques whose answers are rate-limited by design (UDP:
 * closed ports answer with ICMP errors): every retry from the start, waits
 * that double per attempt (capped), and per-host slowdowns.
 */
export const RATE_LIMITED_POLICY: ProbePolicy = Object.freeze({
  retries: (maxRetries: number) => maxRetries,
  timeout: (attempt: number, adaptiveMs: number, maxMs: number) =>
    attempt <= 1 ? adaptiveMs : Math.max(adaptiveMs, Math.min(adaptiveMs * 2 ** (attempt - 1), maxMs)),
  adaptsToRateLimit: true,
});

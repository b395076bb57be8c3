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

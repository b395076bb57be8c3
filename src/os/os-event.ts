/**
 * The `os` event: what OS detection learned about one host.
 *
 * @module
 */
import type { ScanEvent } from '../scan/index.js';
import type { OsTest } from './fingerprint.js';
import type { OsMatch } from './os-match.js';
import type { OsHint } from './os-hint.js';

/**
 * Why detection could not be done, or why its answer is weaker than it could be:
 * - `no-open-port`: no open TCP port was known, so nothing was probed (SEQ,
 *   OPS, WIN, ECN and T1-T4 need one) and no guess is made;
 * - `no-closed-port`: no closed TCP port was known; T5-T7 went to a random
 *   high port, as nmap does, and their silence is not counted;
 * - `too-few-replies`: fewer than three of the six SEQ probes got a SYN/ACK
 *   (loss, a filter, or a port that is not really open): no guess is made;
 * - `no-udp-reply`: U1 got no port unreachable (filtered, or rate limited),
 *   so the distance and the initial TTLs are guesses (`TG`);
 * - `send-error`: a probe never left (the kernel refused every send): its
 *   silence would be read as an answer, so no guess is made;
 * - `ipv6-unsupported`: nmap's IPv6 OS detection is a different,
 *   classifier-based engine that portscout does not implement;
 * - `no-database`: no database was given, so the fingerprint is not matched;
 * - `passive`: passive hints only were asked for (`passive: true`): nothing was sent.
 *
 * @example
 * ```ts
 * const reason: OsReason = 'no-closed-port';
 * ```
 */
export type OsReason = 'no-open-port' | 'no-closed-port' | 'too-few-replies' | 'no-udp-reply' | 'send-error' | 'ipv6-unsupported' | 'no-database' | 'passive';

/**
 * One host's OS detection result.
 *
 * @example
 * ```ts
 * { type: 'os', family: 4, address: '198.18.1.10', ports: { open: 22, closed: 1, closedUdp: 40125 }, reasons: [], distance: 1,
 *   fingerprint: 'SCAN(...)\nSEQ(SP=101%GCD=1%...)\n...', tests: [...], perfect: false,
 *   matches: [{ name: 'Linux 5.3 - 5.4', accuracy: 96, score: 0.964, line: 81234, classes: [...] }] }
 * ```
 */
export interface OsEvent {
  readonly type: 'os';
  readonly family: 4 | 6;
  readonly address: string;
  /** The ports the probes went to (`closed` is a random high port when none was known). */
  readonly ports: { readonly open?: number; readonly closed?: number; readonly closedUdp?: number };
  /** nmap's text form of the fingerprint (a `SCAN(...)` line, then one line per test), to compare with nmap's or to submit. */
  readonly fingerprint?: string;
  /** The tests, as computed. */
  readonly tests?: readonly OsTest[];
  /** Database entries at or above the threshold, best first (nmap's guesses); empty when no guess is made (see `reasons`). */
  readonly matches: readonly OsMatch[];
  /** Whether the best match is exact (100%): nmap's "OS details" rather than "Aggressive OS guesses". */
  readonly perfect: boolean;
  /** Hops to the host, from U1's reply (1: on the same link). */
  readonly distance?: number;
  /** The passive hint from the scan's own replies and service matches (TTL, SYN/ACK window and options, OS types and CPEs), when they point anywhere. */
  readonly hint?: OsHint;
  /** Why detection was not done or is weaker; empty when conditions were ideal. */
  readonly reasons: readonly OsReason[];
  /** Probes sent for this host, retransmissions included. */
  readonly probesSent: number;
  /** Replies dropped as malformed or not answering a probe. */
  readonly dropped: number;
  /** Time spent probing this host, in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * What `detectOs` yields: the events of its input, unchanged (a scanner's,
 * or `detectServices`' with their `service` events), and `os` events.
 */
export type OsDetectionEvent<E extends { readonly type: string } = ScanEvent> = E | OsEvent;

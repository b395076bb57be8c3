/**
 * The seam between the scan engine and the way probes travel. The engine
 * owns the scan's life (pacing, round-trip times and timeouts, retries, host
 * timeouts, statistics, back-pressure, abort, cursors); a prober only sends
 * attempts and reports what came back. Two implement it: the raw prober
 * (packets through the shared listener, answers matched by probe modules)
 * and the connect prober (TCP connections, on this thread or on workers).
 *
 * @module
 */
import type { ProbeKey, ProbeOutcome, ProbeTarget } from './probe-module.js';
import type { WarningEvent } from './events.js';

/**
 * The attempts the engine allows for one transmission: how many (the retry
 * allowance left) and how long each may wait. A prober that times attempts
 * itself may make up to `attempts` of them in a row; the others make one.
 */
export interface AttemptSeries {
  /** The number of this transmission's first attempt (1 for a first probe). */
  readonly attempt: number;
  /** Attempts left in the allowance, this one included (at least 1). */
  readonly attempts: number;
  /** Wait of every attempt but the allowance's last, milliseconds. */
  readonly timeoutMs: number;
  /** Wait of the allowance's last attempt. */
  readonly lastTimeoutMs: number;
}

/** How a self-timed prober's attempt series ended. */
export type SeriesResult =
  /** An answer: its outcome and round-trip time (of the answered attempt). */
  | { readonly kind: 'answer'; readonly outcome: ProbeOutcome; readonly rttMs: number | undefined; readonly attempts: number }
  /** Every attempt of the series timed out. */
  | { readonly kind: 'silent'; readonly attempts: number }
  /** An error that names no state (an unexpected errno): a warning, no verdict. */
  | { readonly kind: 'error'; readonly message: string; readonly attempts: number }
  /** The kernel refused to send (`code`: a firewall rule on this machine, a link down): nothing left, no verdict; the engine tries again later. */
  | { readonly kind: 'unsent'; readonly code: string; readonly attempts: number }
  /** The series never ran or was cut short by the scan's end: no verdict. */
  | { readonly kind: 'dropped'; readonly attempts: number };

/** What the engine gives a prober. */
export interface ProberSink {
  /** A validated reply to probe `key` (engine-timed probers). */
  answer(key: ProbeKey, outcome: ProbeOutcome, receivedAt: number): void;
  /** A series of attempts for probe `key` ended (self-timed probers). */
  seriesEnded(key: ProbeKey, result: SeriesResult): void;
  /** `packets` left for the network (engine-timed probers count each packet). */
  sent(packets: number): void;
  /**
   * Every packet of the last transmission to probe `key` has settled, and
   * not all were refused (engine-timed probers that set
   * {@link Prober.reportsDepartures}). A probe's time runs out only after it left.
   */
  departed(key: ProbeKey): void;
  /** A packet was refused by the kernel (`code`: its errno name): it never left. */
  sendError(code: string): void;
  /**
   * No packet of the last transmission to probe `key` left (engine-timed
   * probers): not an attempt, the engine tries again later, unless `code`
   * (the last refusal's errno name) says trying again cannot help.
   */
  unsent(key: ProbeKey, code?: string): void;
  /** A reply addressed to this scan failed validation. */
  invalid(): void;
  /** A reply addressed to this scan could not be parsed. */
  malformed(): void;
  /** A condition worth a warning event. */
  warn(event: WarningEvent): void;
  /** The prober can take more work again (it was {@link Prober.busy}). */
  wake(): void;
  /** Every send handed to the kernel has settled (see {@link Prober.pendingSends}). */
  sendsSettled(): void;
  /** The prober failed: the scan ends with this error. */
  fail(error: unknown): void;
}

/** How probes of one scan travel. */
export interface Prober {
  /**
   * `'engine'`: the engine keeps each attempt's deadline and retransmits
   * (raw probes). `'self'`: the prober times its attempts and reports each
   * series with {@link ProberSink.seriesEnded} (connections).
   */
  readonly timedBy: 'engine' | 'self';
  /**
   * Whether the prober calls {@link ProberSink.departed} (or
   * {@link ProberSink.unsent}) for every transmission: the engine then does
   * not conclude from the silence of a probe still waiting to leave (sends
   * queued behind a full kernel buffer) but waits for it to leave, unless
   * the host's time (`hostTimeoutMs`) runs out first.
   */
  readonly reportsDepartures?: boolean;
  /** Shortest wait of an allowance's last attempt (connections: the time Linux needs to report a soft ICMP error). */
  readonly lastAttemptMinWaitMs?: number;
  /** Starts the prober; replies and results go to `sink` from now on. */
  open(sink: ProberSink): void;
  /**
   * Whether `target` can be probed: `true`, `false` (skip it: a warning said
   * why, e.g. no route), or a promise of that (a route lookup).
   */
  prepare(target: ProbeTarget): boolean | Promise<boolean>;
  /** Sends an attempt (or, self-timed, a series of up to `series.attempts`) to `target`. */
  transmit(target: ProbeTarget, series: AttemptSeries): void;
  /** Sends handed to the kernel whose outcome is not known yet (the scan ends after them, so every refusal is counted). */
  pendingSends?(): number;
  /** Whether the engine should yield to the event loop before its next send (the process's sends of this turn are many). */
  turnFull?(): boolean;
  /** Replies the kernel dropped on the prober's sockets so far (a count that only grows); undefined when unknown. */
  kernelDrops?(): number | undefined;
  /** Whether sending must pause (sends queued in the kernel); the prober calls {@link ProberSink.wake} when it may go on. */
  busy(): boolean;
  /**
   * Whether the prober's sockets and workers keep the process alive (they do
   * until told otherwise). The engine lets go (false) while the scan waits
   * for its consumer with nothing in flight, so a process with nothing else
   * to do exits, and holds again (true) when it goes on.
   */
  hold?(held: boolean): void;
  /** The outcome when every attempt went unanswered. */
  noResponse(target: ProbeTarget): ProbeOutcome;
  /** Replies the prober could not parse while it ran that no {@link ProberSink.malformed} call counted (the shared listener's). */
  uncountedMalformed(): number;
  /** Releases every socket, worker and timer; safe to call twice. */
  close(): void;
}

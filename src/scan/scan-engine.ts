/**
 * The one scan engine. Every technique runs on it, whatever carries its probes.
 *
 * It pulls work lazily from an iterator of {@link ProbeTarget}s and hands each
 * to a {@link Prober} under the pacing rules (token bucket, probes in flight,
 * per-host delay, the consumer's back-pressure). It keeps the round-trip
 * estimate and each probe's deadline, retries what stays unanswered within the
 * retry allowance, gives up on hosts past their time, counts everything, and
 * turns outcomes into events. It tracks which positions of the plan the
 * consumer has been handed, so its resume cursor is always safe.
 *
 * Why per-probe state (masscan keeps none): a probe that stays unanswered
 * still gets a verdict (`filtered`, `open|filtered`) after its retries, as
 * nmap gives it, and a retry needs to know the probe is still out. The table
 * ({@link ProbeTable}: typed arrays, no object per probe) is bounded by
 * `maxInFlight`, and replies are still validated statelessly, from the reply alone.
 *
 * @module
 */
import type { ScanCursor, ScanPlan } from '../targets/index.js';
import { TokenBucket } from '../transport/token-bucket.js';
import { RttEstimator } from '../transport/rtt-estimator.js';
import type { TimingValues } from '../transport/timing.js';
import { whenAborted } from '../transport/abort-signal.js';
import { isPermanentRefusal } from '../transport/send-error.js';
import { EventQueue } from './event-queue.js';
import { HostTimeouts, hostTimeoutWarning } from './host-timeouts.js';
import type { ProbePolicy } from './retry-policy.js';
import { addStats, emptyStats, type ProgressEvent, type ScanEvent, type ScanStats, type WarningEvent } from './events.js';
import { keyOf, type ProbeKey, type ProbeOutcome, type ProbeTarget } from './probe-module.js';
import type { Prober, ProberSink, SeriesResult } from './prober.js';
import { SettledPositions } from './settled-positions.js';
import { AWAITING_RETRY, Departure, IN_FLIGHT, ProbeTable } from './probe-table.js';
import { SHARED_HOST_PACES, type HostPace } from './host-paces.js';
import { PortscoutError } from '../errors.js';

/** Pacing and lifetime options of the engine. */
export interface EngineOptions {
  readonly timing: TimingValues;
  /** Packets (or connections) per second (Infinity for no limit). */
  readonly rate: number;
  /** Probes awaiting an answer at most. */
  readonly maxInFlight: number;
  /** Events queued for a slow consumer before sending pauses. */
  readonly queueCapacity: number;
  readonly signal?: AbortSignal;
  /** How the technique's probes are retried and paced. */
  readonly policy: ProbePolicy;
  /** Counters of earlier phases of the same scan (discovery), added into the `done` event's statistics. */
  readonly priorStats?: ScanStats;
  /** Which phase this run is (progress events say it). */
  readonly phase: 'discovery' | 'ports';
  /** Units of work this run walks (progress events' `total`). */
  readonly total: number;
  /** The plan walked, in the order of its positions: the port phase gives it, for resume cursors. */
  readonly plan?: ScanPlan;
  /** Milliseconds between `progress` events; none when undefined. */
  readonly progressIntervalMs?: number;
  /** Called with every cursor the engine can give once it moved (after each delivered result); for callers that save cursors. */
  readonly onCursor?: (cursor: ScanCursor) => void;
  /**
   * Raise the retries above `timing.maxRetries` when the answers measure
   * loss (see {@link lossRetries}); the scan layer turns it on unless the
   * user set `maxRetries`.
   */
  readonly adaptRetriesToLoss?: boolean;
}

/** The number of pairs a scan may expect to misread as silent because all their attempts were lost. */
export const LOSS_TARGET_WRONG = 0.01;
/** Retries loss can raise a probe to at most. */
export const MAX_LOSS_RETRIES = 40;
/** Answers needed before the loss estimate counts. */
const MIN_LOSS_SAMPLES = 32;

/**
 * Retries needed so that `pairs` probes, each attempt lost with probability
 * `loss` (a round trip: the probe or its answer), leave fewer than
 * {@link LOSS_TARGET_WRONG} pairs expected silent by chance:
 * `pairs * loss^(retries + 1) < 0.01`. With 19% loss (10% each way) and
 * 65,535 ports that is 9 retries (nmap's T4 makes 6: 0.6 wrong ports a scan).
 *
 * @example
 * ```ts
 * lossRetries(0.19, 65_535); // 9
 * lossRetries(0, 65_535); // 0
 * ```
 */
export function lossRetries(loss: number, pairs: number): number {
  if (!(loss > 0)) return 0;
  if (loss >= 0.9) return MAX_LOSS_RETRIES;
  const attempts = Math.ceil(Math.log(LOSS_TARGET_WRONG / Math.max(1, pairs)) / Math.log(loss));
  return Math.min(MAX_LOSS_RETRIES, Math.max(0, attempts - 1));
}

interface Work {
  target: ProbeTarget;
  /** Attempts already made. */
  attempts: number;
}

const RATE_LIMIT_FIRST_DELAY_MS = 50;
/** After this many first tries answered in a row, a rate-limited host's delay shrinks by {@link SPEEDUP_FACTOR}. */
const FIRST_TRIES_BEFORE_SPEEDUP = 5;
const SPEEDUP_FACTOR = 0.75;
/**
 * A probe none of whose packets left (the kernel refused them: a firewall
 * rule on this machine, a link down, no buffer space) is sent again after a
 * pause that doubles from this one, at most {@link MAX_UNSENT_TRIES} times
 * (about 8 s in all); then it is reported as `unknown` with reason
 * `send-error`, at once when every packet's refusal is one no pause
 * changes (`isPermanentRefusal`: a broadcast address). It never counts as
 * an attempt, so never as silence.
 */
const UNSENT_PAUSE_MS = 250;
/**
 * The share of its timeout a probe may wait to leave (in the raw channel's
 * batches, behind the kernel's send buffer) before its clock starts again at
 * its departure: batches on the thread pool take about a millisecond, which
 * needs no second entry in the send order.
 */
const DEPARTURE_SLACK = 0.1;
const MAX_UNSENT_TRIES = 5;

/**
 * A probe whose time ran out after the kernel dropped replies (its receive
 * queue was full) may have lost its answer there: it is sent again without
 * counting as an attempt, at most this many times.
 */
const MAX_UNPROVEN_TRIES = 3;
/** After kernel drops, the probes in flight are cut to half, at most once per this many milliseconds, and never below {@link MIN_WINDOW}. */
const DROP_CUT_INTERVAL_MS = 100;
const MIN_WINDOW = 16;

/** Builds an event from a finished target. */
export type EventFactory = (target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined) => ScanEvent | undefined;

/**
 * Runs one prober over a lazy stream of targets.
 *
 * @example
 * ```ts
 * const engine = new ScanEngine(prober, options, makeEvent);
 * yield* engine.run(targets); // stops itself when the stream ends or is left
 * ```
 */
export class ScanEngine implements ProberSink {
  readonly stats: ScanStats = emptyStats();
  private readonly queue: EventQueue<ScanEvent>;
  private readonly bucket: TokenBucket;
  private readonly rtt: RttEstimator;
  /**
   * Probes in flight (the number of the attempt out now; self-timed: the
   * series' first), and probes whose answer timed out and whose
   * retransmission waits in {@link ready} (a late answer still counts).
   */
  private readonly probes = new ProbeTable();
  private readonly ready: Work[] = [];
  private readonly hosts = new Map<string, HostPace>();
  /** nmap's --host-timeout, from each host's first probe. */
  private readonly hostTimeouts: HostTimeouts;
  /** Positions the consumer has been handed (or that settled without an event). */
  private readonly settled: SettledPositions;
  /** Highest attempt number that got an answer so far (nmap's max_successful_tryno, scan-wide). */
  private maxAnsweredAttempt = 0;
  /** Answered probes and the attempts they took: each answer after k attempts is k - 1 losses and one success. */
  private answeredProbes = 0;
  private answeredAttempts = 0;
  private lossWarned = false;
  private found = 0;
  private sourceDone = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private wakeSender: (() => void) | undefined;
  private releaseSignal: (() => void) | undefined;
  private readonly startedAt = performance.now();
  private readonly engineTimed: boolean;
  /** Whether probes' departures are tracked (see {@link Prober.reportsDepartures}). */
  private readonly tracksDepartures: boolean;
  /** Errno names already warned about (one warning per name). */
  private readonly sendErrorCodes = new Set<string>();
  /** How many transmissions of each probe left nothing so far. */
  private readonly unsentTries = new Map<ProbeKey, number>();
  /** Pauses before probes that could not leave are sent again. */
  private readonly unsentPauses = new Set<NodeJS.Timeout>();
  /** Kernel drops as last read (the prober's count), and when an increase was last seen. */
  private kernelDropsSeen: number | undefined;
  private lastDropAt = Number.NEGATIVE_INFINITY;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** Probes in flight allowed now: `maxInFlight`, halved after kernel drops, grown back by one per answer. */
  private window: number;
  /** How many times each probe was sent again because its silence followed kernel drops. */
  private readonly unprovenTries = new Map<ProbeKey, number>();
  /** Whether sending waits for the consumer (back-pressure). */
  private waitingForConsumer = false;
  /** Whether the prober's handles and the progress timer were let go (waiting for the consumer, nothing out). */
  private letGo = false;

  constructor(
    private readonly prober: Prober,
    private readonly options: EngineOptions,
    private readonly makeEvent: EventFactory,
  ) {
    this.engineTimed = prober.timedBy === 'engine';
    this.tracksDepartures = this.engineTimed && prober.reportsDepartures === true;
    this.window = options.maxInFlight;
    this.settled = new SettledPositions(options.plan?.startPosition ?? 0);
    this.queue = new EventQueue(options.queueCapacity, (position) => this.settle(position));
    this.bucket = new TokenBucket({ rate: options.rate, burst: Number.isFinite(options.rate) ? Math.max(1, Math.ceil(options.rate / 100)) : undefined });
    this.rtt = new RttEstimator(options.timing);
    this.hostTimeouts = new HostTimeouts(options.timing.hostTimeoutMs, (address, limit) => this.queue.push(hostTimeoutWarning(address, limit)));
  }

  /**
   * A safe resume point of the port phase: every pair before its position,
   * and every pair it skips, has been handed to the consumer (or skipped for
   * a reason a warning gave). Undefined without a plan (discovery).
   */
  cursor(): ScanCursor | undefined {
    const plan = this.options.plan;
    if (!plan) return undefined;
    return plan.cursorAt(this.settled.first, this.settled.skipRanges());
  }

  // ---- ProberSink ----

  /** A validated reply (engine-timed probers). */
  answer(key: ProbeKey, outcome: ProbeOutcome, receivedAt: number): void {
    if (this.stopped) return;
    const probes = this.probes;
    const slot = probes.find(key);
    const state = slot < 0 ? 0 : probes.state(slot);
    if (state !== IN_FLIGHT && state !== AWAITING_RETRY) {
      this.stats.duplicates++;
      return;
    }
    const target = probes.target(slot);
    const attempts = probes.attempts(slot);
    const rttMs = receivedAt - probes.sentAt(slot);
    probes.release(slot);
    if (state === AWAITING_RETRY) {
      // A late answer to an attempt whose timeout ran out, while its retransmission waits to be sent.
      const index = this.ready.findIndex((item) => item.target === target);
      if (index >= 0) this.ready.splice(index, 1);
    }
    this.concluded(target, attempts, outcome, rttMs >= 0 ? rttMs : undefined, receivedAt);
  }

  /** The end of an attempt series (self-timed probers). */
  seriesEnded(key: ProbeKey, result: SeriesResult): void {
    if (this.stopped) return;
    const probes = this.probes;
    const slot = probes.find(key);
    if (slot < 0 || probes.state(slot) !== IN_FLIGHT) return;
    const target = probes.target(slot);
    const first = probes.attempts(slot);
    probes.release(slot);
    const made = result.attempts;
    this.stats.sent += made;
    this.stats.retransmitted += first === 1 ? Math.max(0, made - 1) : made;
    const last = first + made - 1;
    const now = performance.now();
    switch (result.kind) {
      case 'answer':
        this.concluded(target, last, result.outcome, result.rttMs, now);
        return;
      case 'error':
        this.stats.received++;
        this.queue.push({ type: 'warning', code: 'CONNECT_ERROR', message: result.message, target: target.address });
        this.settleQuietly(target);
        this.wake();
        return;
      case 'dropped':
        this.wake();
        return;
      case 'unsent':
        // Counted above as made; none left.
        this.stats.sent -= made - 1;
        this.stats.retransmitted -= first === 1 ? Math.max(0, made - 1) : made;
        this.sendError(result.code);
        this.sendAgainLater(key, target, first, result.code);
        return;
      case 'silent':
        this.wake();
        // Silence after the host's time ran out says nothing about the target.
        if (this.hostTimeouts.isOver(target.address, now)) {
          this.settleQuietly(target);
          this.maybeDone();
          return;
        }
        if (last < 1 + this.allowedRetries()) {
          this.ready.push({ target, attempts: last });
          return;
        }
        this.finish(target, this.prober.noResponse(target), undefined);
    }
  }

  /**
   * A probe's packets have left. If they waited more than a tenth of its
   * timeout (or past it), its clock starts again now: it gets its whole
   * timeout from when it left, and its round trip is timed from then.
   */
  departed(key: ProbeKey): void {
    if (this.stopped || !this.tracksDepartures) return;
    const probes = this.probes;
    const slot = probes.find(key);
    if (slot < 0 || probes.state(slot) !== IN_FLIGHT) return;
    const late = probes.departure(slot) === Departure.LEAVING_LATE;
    probes.setDeparture(slot, Departure.LEFT);
    const now = performance.now();
    const timeout = this.attemptTimeout(probes.attempts(slot));
    if (!late && now - probes.sentAt(slot) <= timeout * DEPARTURE_SLACK) return;
    probes.sendOut(slot, probes.attempts(slot), now, now + timeout);
    this.armTimer(now + timeout);
  }

  /** An attempt's timeout now (the policy's, from the adaptive estimate; at least 1 ms). */
  private attemptTimeout(attempt: number): number {
    return Math.max(1, this.options.policy.timeout(attempt, this.rtt.timeoutMs, this.options.timing.maxRttTimeoutMs));
  }

  /** Counts packets sent. */
  sent(packets: number): void {
    this.stats.sent += packets;
  }

  /** A packet the kernel refused: counted by errno, one warning per errno; it did not leave. */
  sendError(code: string): void {
    if (this.stopped) return;
    this.stats.sendErrors++;
    this.stats.sent--;
    if (this.sendErrorCodes.has(code)) return;
    this.sendErrorCodes.add(code);
    this.queue.push({
      type: 'warning',
      code: 'SEND_FAILED',
      message:
        (isPermanentRefusal(code)
          ? `The kernel refused to send probes (${code}: to a broadcast address, such as a subnet's last one, or denied by a security module). ` +
            `Such a probe is reported at once as unknown (send-error), never as silence. `
          : `The kernel refused to send probes (${code}${code === 'EPERM' ? ': a firewall rule on this machine?' : ''}). ` +
            `They are sent again after a pause; a probe that still cannot leave is reported as unknown (send-error), never as silence. `) +
        `The done event counts them (sendErrors).`,
    });
  }

  /** A transmission none of whose packets left: not an attempt; sent again after a pause, or reported as a send error. */
  unsent(key: ProbeKey, code?: string): void {
    if (this.stopped) return;
    const probes = this.probes;
    const slot = probes.find(key);
    if (slot < 0 || probes.state(slot) !== IN_FLIGHT) return;
    const target = probes.target(slot);
    const attempts = probes.attempts(slot);
    probes.release(slot);
    if (attempts > 1) this.stats.retransmitted--;
    this.sendAgainLater(key, target, attempts, code);
  }

  /**
   * A probe none of whose packets left: sent again after a pause, or after
   * the last try (at once for a refusal that cannot change, see
   * `isPermanentRefusal`) reported as a send error.
   */
  private sendAgainLater(key: ProbeKey, target: ProbeTarget, attempts: number, code?: string): void {
    this.wake();
    const tries = (this.unsentTries.get(key) ?? 0) + 1;
    if (tries > MAX_UNSENT_TRIES || (code !== undefined && isPermanentRefusal(code))) {
      this.unsentTries.delete(key);
      this.finish(target, { state: 'unknown', reason: 'send-error' }, undefined);
      return;
    }
    this.unsentTries.set(key, tries);
    const pause = setTimeout(() => {
      this.unsentPauses.delete(pause);
      if (this.stopped) return;
      this.ready.push({ target, attempts: attempts - 1 });
      this.wake();
    }, UNSENT_PAUSE_MS * 2 ** (tries - 1));
    this.unsentPauses.add(pause);
  }

  /** The prober's sends have all settled: the scan may end now, with every refusal counted. */
  sendsSettled(): void {
    this.maybeDone();
  }

  /** Counts a reply that failed validation. */
  invalid(): void {
    this.stats.invalid++;
  }

  /** Counts a reply that could not be parsed. */
  malformed(): void {
    this.stats.malformed++;
  }

  /** Adds an event that is not a probe result. */
  warn(event: WarningEvent): void {
    this.queue.push(event);
  }

  /** Ends the scan with an error. */
  fail(error: unknown): void {
    if (this.stopped) return;
    this.queue.close(error ?? new PortscoutError('ERR_INTERNAL', 'A scan failed without saying why.'));
    this.stop();
  }

  /** Lets the send loop go on (a slot freed, the prober is no longer busy). */
  wake(): void {
    if (this.waitingForConsumer) this.updateHold();
    const wake = this.wakeSender;
    if (wake) {
      this.wakeSender = undefined;
      wake();
    }
  }

  // ---- life ----

  /** Runs the scan over `targets` and yields its events, `done` last; leaving the loop early stops the engine. */
  run(targets: Iterator<ProbeTarget>): Required<AsyncIterableIterator<ScanEvent>> {
    this.releaseSignal = whenAborted(this.options.signal, (reason) => {
      if (this.stopped) return;
      this.queue.abort(reason);
      this.stop();
    });
    if (!this.stopped) {
      this.prober.open(this);
      this.kernelDropsSeen = this.prober.kernelDrops?.();
      const interval = this.options.progressIntervalMs;
      if (interval !== undefined) this.progressTimer = setInterval(() => this.queue.push(this.progress()), interval);
      this.sendLoop(targets).catch((error: unknown) => this.fail(error));
    }
    const drain = this.queue.drain();
    // Leaving the loop early (break, return, a throw) ends the scan as well.
    const end = (): void => this.stop();
    return {
      next: () => drain.next(),
      return: (value?: unknown) => {
        end();
        return drain.return!(value as undefined);
      },
      throw: (error?: unknown) => {
        end();
        return drain.throw!(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Releases the prober and every timer; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
    for (const pause of this.unsentPauses) clearTimeout(pause);
    this.unsentPauses.clear();
    this.releaseSignal?.();
    if (this.options.policy.adaptsToRateLimit) for (const address of this.hosts.keys()) SHARED_HOST_PACES.release(address);
    this.hosts.clear();
    this.prober.close();
    this.probes.clear();
    this.queue.close();
    this.wake();
  }

  /** A progress event of now. */
  private progress(): ProgressEvent {
    const done = this.settled.count;
    const total = this.options.total;
    const elapsed = performance.now() - this.startedAt;
    const event: { -readonly [K in keyof ProgressEvent]: ProgressEvent[K] } = {
      type: 'progress',
      phase: this.options.phase,
      done,
      total,
      fraction: total === 0 ? 1 : Math.min(1, done / total),
      sent: this.stats.sent,
      rate: elapsed > 0 ? Math.round((this.stats.sent * 1000) / elapsed) : 0,
      found: this.found,
    };
    if (done > 0) event.etaMs = Math.round((elapsed * (total - done)) / done);
    const cursor = this.cursor();
    if (cursor !== undefined) event.cursor = cursor;
    return event;
  }

  /** A position the consumer has been handed. */
  private settle(position: number): void {
    this.settled.settle(position);
    const onCursor = this.options.onCursor;
    if (onCursor) {
      const cursor = this.cursor();
      if (cursor) onCursor(cursor);
    }
  }

  /** A target settled with no event of its own (skipped for a reason a warning gave): it is done at once. */
  private settleQuietly(target: ProbeTarget): void {
    this.settle(target.position);
  }

  private concluded(target: ProbeTarget, attempt: number, outcome: ProbeOutcome, rttMs: number | undefined, now: number): void {
    this.stats.received++;
    // A slot in flight is free: a sender waiting at the cap can go on.
    this.wake();
    if (attempt > this.maxAnsweredAttempt) this.maxAnsweredAttempt = attempt;
    this.answeredProbes++;
    this.answeredAttempts += attempt;
    if (this.window < this.options.maxInFlight) this.window = Math.min(this.options.maxInFlight, this.window + 1);
    if (attempt === 1 && rttMs !== undefined) this.rtt.addSample(rttMs);
    if (this.options.policy.adaptsToRateLimit) this.noteAnsweredAttempt(target, attempt, now);
    this.finish(target, outcome, rttMs);
  }

  private finish(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined): void {
    if (this.unsentTries.size > 0) this.unsentTries.delete(keyOf(target));
    if (this.unprovenTries.size > 0) this.unprovenTries.delete(keyOf(target));
    const event = this.makeEvent(target, outcome, rttMs);
    if (event) {
      if (event.type === 'port') {
        this.stats.portsReported++;
        if (event.state === 'open') this.found++;
      }
      if (event.type === 'host' && event.status === 'up') {
        this.stats.hostsUp++;
        this.found++;
      }
      this.queue.push(event, target.position);
    } else {
      this.settleQuietly(target);
    }
    this.maybeDone();
  }

  /**
   * A scan that waits for its consumer with nothing out (no probe in flight,
   * no send pending, no pause before a resend) needs nothing from the event
   * loop: it lets go of the prober's sockets and workers and of the progress
   * timer, so that a process whose consumer dropped the scan exits, as Node's
   * streams allow. A consumer that comes back gets the rest: the engine holds
   * them again when it may send.
   */
  private updateHold(): void {
    const idle =
      this.waitingForConsumer && !this.stopped && this.probes.inFlight === 0 && this.unsentPauses.size === 0 && (this.prober.pendingSends?.() ?? 0) === 0;
    if (idle === this.letGo) return;
    this.letGo = idle;
    this.prober.hold?.(!idle);
    if (idle) this.progressTimer?.unref();
    else this.progressTimer?.ref();
  }

  private maybeDone(): void {
    if (this.waitingForConsumer) this.updateHold();
    if (this.stopped || !this.sourceDone || this.probes.inFlight > 0 || this.ready.length > 0 || this.unsentPauses.size > 0) return;
    if ((this.prober.pendingSends?.() ?? 0) > 0) return;
    this.stats.durationMs = performance.now() - this.startedAt;
    if (this.stats.sent === 0 && this.stats.sendErrors > 0) {
      this.fail(
        new PortscoutError(
          'ERR_SEND_FAILED',
          `No probe could leave: the kernel refused all ${this.stats.sendErrors} sends (${[...this.sendErrorCodes].join(', ')}). ` +
            ([...this.sendErrorCodes].every(isPermanentRefusal)
              ? 'The targets are broadcast addresses (such as a subnet\'s last one), or a security module denies raw sends: scan host addresses.'
              : "Check this machine's firewall (an OUTPUT rule) and links."),
        ),
      );
      return;
    }
    this.stats.malformed += this.prober.uncountedMalformed();
    const stats = { ...this.stats };
    if (this.options.priorStats) addStats(stats, this.options.priorStats);
    const plan = this.options.plan;
    // Every event before `done` has been handed over once the consumer reads it: the cursor is the plan's end.
    const end = plan?.cursorAt(plan.shardPairs);
    // With progress events, a last one says the phase is whole, even when it ended before the first tick.
    if (this.options.progressIntervalMs !== undefined) {
      const last = this.progress();
      const total = this.options.total;
      this.queue.push({ ...last, done: total, fraction: 1, etaMs: 0, ...(end ? { cursor: end } : {}) });
    }
    this.queue.push(end ? { type: 'done', stats, cursor: end } : { type: 'done', stats });
    this.stop();
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeSender = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(() => this.wake(), Math.max(1, ms));
    });
  }

  /**
   * Per-host pacing: kept when the policy adapts to rate limits or a scan
   * delay is set (nmap's --scan-delay). Adaptive scans share the pace of a
   * host with the process's other adaptive scans of it (`host-paces.ts`):
   * the host's rate limit is one budget for all of them.
   */
  private pace(target: ProbeTarget): HostPace | undefined {
    const scanDelay = this.options.timing.scanDelayMs;
    const adaptive = this.options.policy.adaptsToRateLimit;
    if (!adaptive && scanDelay <= 0) return undefined;
    let pace = this.hosts.get(target.address);
    if (!pace) {
      pace = adaptive ? SHARED_HOST_PACES.acquire(target.address, scanDelay) : { delayMs: scanDelay, nextSendAt: 0, lastLateAnswerAt: undefined, firstTryAnswers: 0 };
      this.hosts.set(target.address, pace);
    }
    return pace;
  }

  /**
   * An answer that needed a retransmission means the host drops answers (an
   * ICMP rate limit, as Linux has). Slow down sends to it: at least double the
   * delay, and at least the interval seen between such late answers, which is
   * the pace the host's limit allows (capped by maxScanDelayMs).
   */
  private noteAnsweredAttempt(target: ProbeTarget, attempt: number, now: number): void {
    const pace = this.pace(target);
    if (!pace) return;
    if (attempt <= 1) {
      // First tries answered again and again: the host allows more than the delay gives (another scan
      // of it ended, or the limit was a burst's). Speed up a little; late answers slow it down again.
      const floor = this.options.timing.scanDelayMs;
      if (pace.delayMs > floor && ++pace.firstTryAnswers >= FIRST_TRIES_BEFORE_SPEEDUP) {
        pace.firstTryAnswers = 0;
        pace.delayMs = Math.max(floor, Math.round(pace.delayMs * SPEEDUP_FACTOR));
      }
      return;
    }
    pace.firstTryAnswers = 0;
    const interval = pace.lastLateAnswerAt === undefined ? 0 : now - pace.lastLateAnswerAt;
    pace.lastLateAnswerAt = now;
    const max = this.options.timing.maxScanDelayMs;
    const next = Math.round(Math.min(max, Math.max(RATE_LIMIT_FIRST_DELAY_MS, pace.delayMs * 2, interval)));
    if (next <= pace.delayMs) return;
    pace.delayMs = next;
    this.queue.push({
      type: 'warning',
      code: 'RATE_LIMITED',
      message: `Increasing send delay for ${target.address} to ${next} ms: answers came only after retransmission (ICMP rate limiting).`,
      target: target.address,
    });
  }

  /** Picks the next thing to send: a due retransmission first, then fresh work. */
  private nextWork(targets: Iterator<ProbeTarget>, now: number): Work | number | undefined {
    let soonest: number | undefined;
    for (let i = 0; i < this.ready.length; i++) {
      const item = this.ready[i] as Work;
      const pace = this.pace(item.target);
      if (!pace || pace.nextSendAt <= now) {
        this.ready.splice(i, 1);
        return item;
      }
      soonest = soonest === undefined ? pace.nextSendAt : Math.min(soonest, pace.nextSendAt);
    }
    while (!this.sourceDone && this.ready.length < this.options.maxInFlight) {
      const next = targets.next();
      if (next.done) {
        this.sourceDone = true;
        break;
      }
      const item = { target: next.value, attempts: 0 };
      const pace = this.pace(item.target);
      if (!pace || pace.nextSendAt <= now) return item;
      this.ready.push(item);
      soonest = soonest === undefined ? pace.nextSendAt : Math.min(soonest, pace.nextSendAt);
    }
    return soonest;
  }

  private async sendLoop(targets: Iterator<ProbeTarget>): Promise<void> {
    let steps = 0;
    while (!this.stopped) {
      // Yield to the event loop now and then so replies and timers are served while sending,
      // and while skipping targets (no route, past their host's time), which awaits nothing.
      // Every scan of the process yields as well once their sends of this turn are many, so replies are read first.
      if ((++steps & 63) === 0 || this.prober.turnFull?.()) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      if (this.prober.busy() || this.probes.inFlight >= this.window) {
        await this.sleep(undefined);
        continue;
      }
      if (!this.queue.hasRoom()) {
        this.waitingForConsumer = true;
        this.updateHold();
        await this.queue.waitForRoom();
        this.waitingForConsumer = false;
        this.updateHold();
        continue;
      }
      const now = performance.now();
      const work = this.nextWork(targets, now);
      if (work === undefined) {
        this.maybeDone();
        if (this.stopped) return;
        await this.sleep(undefined);
        continue;
      }
      if (typeof work === 'number') {
        await this.sleep(work - now);
        continue;
      }
      if (this.hostTimeouts.isOver(work.target.address, now)) {
        this.forgetAwaiting(work.target);
        this.settleQuietly(work.target);
        continue;
      }
      const wait = this.bucket.tryTake(1);
      if (wait > 0) {
        this.ready.unshift(work);
        await this.sleep(wait);
        continue;
      }
      const prepared = this.prober.prepare(work.target);
      if (prepared !== true) {
        const ok = prepared === false ? false : await prepared;
        if (this.stopped) return;
        if (!ok) {
          this.forgetAwaiting(work.target);
          this.settleQuietly(work.target);
          continue;
        }
        // A retransmission settled by a late answer during the wait is not sent again.
        if (work.attempts > 0 && this.engineTimed && !this.isAwaiting(work.target)) continue;
      }
      this.transmit(work, now);
    }
  }

  private transmit(work: Work, now: number): void {
    const { target } = work;
    const attempt = work.attempts + 1;
    const key = keyOf(target);
    const pace = this.pace(target);
    if (pace) pace.nextSendAt = now + pace.delayMs;
    const timing = this.options.timing;
    const timeout = this.attemptTimeout(attempt);
    const deadline = this.engineTimed ? now + timeout : Number.POSITIVE_INFINITY;
    const probes = this.probes;
    let slot = probes.find(key);
    if (slot < 0) slot = probes.add(key, target);
    probes.sendOut(slot, attempt, now, deadline);
    if (this.tracksDepartures) probes.setDeparture(slot, Departure.LEAVING);
    if (this.engineTimed && attempt > 1) this.stats.retransmitted++;
    const attempts = Math.max(1, 1 + this.allowedRetries() - work.attempts);
    const lastTimeoutMs = Math.min(timing.maxRttTimeoutMs, Math.max(timeout, this.prober.lastAttemptMinWaitMs ?? 0));
    try {
      this.prober.transmit(target, { attempt, attempts, timeoutMs: timeout, lastTimeoutMs });
    } catch (error) {
      const failed = probes.find(key);
      if (failed >= 0) probes.release(failed);
      throw error;
    }
    if (this.engineTimed) this.armTimer(deadline);
  }

  /** Whether a probe's retransmission waits (it timed out and no late answer came since). */
  private isAwaiting(target: ProbeTarget): boolean {
    const slot = this.probes.find(keyOf(target));
    return slot >= 0 && this.probes.state(slot) === AWAITING_RETRY;
  }

  /** Forgets a probe whose retransmission waited (it is skipped: its host's time ran out, no route). */
  private forgetAwaiting(target: ProbeTarget): void {
    const slot = this.probes.find(keyOf(target));
    if (slot >= 0 && this.probes.state(slot) === AWAITING_RETRY) this.probes.release(slot);
  }

  /**
   * Reads the kernel's drop count: an increase is counted, warned about once,
   * marks the probes sent before it as unproven, and halves the window.
   */
  private readKernelDrops(now: number): void {
    const seen = this.kernelDropsSeen;
    if (seen === undefined) {
      this.kernelDropsSeen = this.prober.kernelDrops?.();
      return;
    }
    const drops = this.prober.kernelDrops?.();
    if (drops === undefined || drops <= seen) return;
    this.kernelDropsSeen = drops;
    if (this.stats.kernelDrops === 0) {
      this.queue.push({
        type: 'warning',
        code: 'KERNEL_DROPS',
        message:
          `The kernel dropped replies: the raw receive queue was full (this process's scans receive faster than they read). ` +
          `Probes that may have lost their answer are sent again, and the scan slows down. The done event counts the drops (kernelDrops).`,
      });
    }
    this.stats.kernelDrops += drops - seen;
    this.lastDropAt = now;
    if (now - this.lastCutAt >= DROP_CUT_INTERVAL_MS) {
      this.lastCutAt = now;
      this.window = Math.max(Math.min(MIN_WINDOW, this.options.maxInFlight), Math.floor(this.window / 2));
    }
  }

  /** Retransmissions allowed now: the technique's policy, raised when the answers measure loss. */
  private allowedRetries(): number {
    const base = this.options.policy.retries(this.options.timing.maxRetries, this.maxAnsweredAttempt);
    if (!this.options.adaptRetriesToLoss || this.answeredProbes < MIN_LOSS_SAMPLES || this.maxAnsweredAttempt < 2) return base;
    // The maximum-likelihood loss per attempt of a geometric number of tries...
    const loss = (this.answeredAttempts - this.answeredProbes) / this.answeredAttempts;
    // ...and the retries for an upper bound of it (three standard errors): the retries set now are
    // the last some probes get, and a few dozen answers can put the estimate low by half.
    const bound = Math.min(1, loss + 3 * Math.sqrt((loss * (1 - loss)) / this.answeredAttempts));
    const raised = lossRetries(bound, this.options.total);
    if (raised <= base) return base;
    if (!this.lossWarned) {
      this.lossWarned = true;
      this.queue.push({
        type: 'warning',
        code: 'PACKET_LOSS',
        message: `About ${(loss * 100).toFixed(1)}% of probes or their answers are lost (at most ${(bound * 100).toFixed(1)}%, allowing for chance): unanswered probes are retried up to ${raised} times (instead of ${base}), so that fewer than ${LOSS_TARGET_WRONG} of the ${this.options.total} pairs are expected to be misread as silent.`,
      });
    }
    return raised;
  }

  private armTimer(at?: number): void {
    if (this.stopped) return;
    let deadline = at;
    if (deadline === undefined) {
      const first = this.probes.first();
      if (first < 0) return;
      deadline = this.probes.deadline(first);
    }
    if (this.timer) {
      // An earlier deadline than the armed one (backoff tables are not in deadline order) re-arms.
      if (this.timerAt <= deadline) return;
      clearTimeout(this.timer);
    }
    this.timerAt = deadline;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Timers run before the event loop polls its sockets: after a stall (a
      // busy process, a starved CPU) replies that came in time still wait in
      // the kernel. Expiring after the poll phase reads them first, so a late
      // timer never turns an answer into silence.
      setImmediate(() => this.expire());
    }, Math.max(1, deadline - performance.now()));
  }

  /**
   * Handles probes whose time is up: retransmit, or conclude from silence.
   * Entries are in send order; with one timeout for all, the first unexpired
   * entry ends the walk. With per-attempt backoff the whole table is walked.
   */
  private expire(): void {
    if (this.stopped) return;
    const now = performance.now();
    this.readKernelDrops(now);
    const maxRetries = this.allowedRetries();
    const ordered = !this.options.policy.adaptsToRateLimit;
    const probes = this.probes;
    let next: number | undefined;
    const visit = (slot: number): void => {
      if (probes.deadline(slot) <= now) {
        if (!this.stillLeaving(slot, now, false)) {
          this.timedOut(slot, now, maxRetries);
          return;
        }
      }
      const deadline = probes.deadline(slot);
      next = next === undefined ? deadline : Math.min(next, deadline);
    };
    if (ordered) {
      // One timeout for all: deadlines are in send order, and the first unexpired probe ends the walk.
      for (let slot = probes.first(); slot >= 0 && !this.stopped; slot = probes.first()) {
        if (probes.deadline(slot) > now) break;
        probes.shift();
        if (this.stillLeaving(slot, now, true)) continue;
        this.timedOut(slot, now, maxRetries);
      }
    } else {
      probes.sweep(visit);
    }
    this.wake();
    this.armTimer(next);
    this.maybeDone();
  }

  /**
   * Whether a probe whose time is up has not left yet (its packets wait
   * behind a full send buffer, for ARP say): its silence proves nothing, and
   * it waits another timeout, or the whole of one from when it leaves (see
   * {@link departed}). `reorder`: the walk took it out of the send order, it
   * goes back in at the end (one timeout for all keeps deadlines in order).
   */
  private stillLeaving(slot: number, now: number, reorder: boolean): boolean {
    const probes = this.probes;
    if (probes.departure(slot) === Departure.LEFT || this.hostTimeouts.isOver(probes.target(slot).address, now)) return false;
    const deadline = now + this.attemptTimeout(probes.attempts(slot));
    if (reorder) probes.sendOut(slot, probes.attempts(slot), probes.sentAt(slot), deadline);
    else probes.postpone(slot, deadline);
    probes.setDeparture(slot, Departure.LEAVING_LATE);
    return true;
  }

  /** An in-flight probe whose time is up: sent again, or concluded from silence. */
  private timedOut(slot: number, now: number, maxRetries: number): void {
    const probes = this.probes;
    const target = probes.target(slot);
    const attempts = probes.attempts(slot);
    if (this.hostTimeouts.isOver(target.address, now)) {
      probes.release(slot);
      this.settleQuietly(target);
      return;
    }
    if (probes.sentAt(slot) <= this.lastDropAt) {
      // The kernel dropped replies since this probe left: its silence proves nothing. Not an attempt.
      const key = keyOf(target);
      const tries = (this.unprovenTries.get(key) ?? 0) + 1;
      if (tries <= MAX_UNPROVEN_TRIES) {
        this.unprovenTries.set(key, tries);
        probes.awaitRetry(slot);
        this.ready.push({ target, attempts: attempts - 1 });
        return;
      }
    }
    if (attempts <= maxRetries) {
      probes.awaitRetry(slot);
      this.ready.push({ target, attempts });
    } else {
      probes.release(slot);
      this.finish(target, this.prober.noResponse(target), undefined);
    }
  }
}

/**
 * The probe engine shared by every raw scanner.
 *
 * It pulls work lazily from an iterator of {@link ProbeTarget}s, sends each
 * through a {@link ProbeModule} under the pacing rules (token bucket, probes in
 * flight, per-host delay, consumer back-pressure), retransmits what stays
 * unanswered until the adaptive timeout, and turns validated replies into
 * events. Everything it owns (listener lease, timers) is released by
 * {@link ProbeEngine.stop}, which the scanners call from `finally`.
 *
 * @module
 */
import { acquireListener, type ListenProtocol, type ListenerLease, type RawReply } from '../transport/packet-listener.js';
import { TokenBucket } from '../transport/token-bucket.js';
import { RttEstimator } from '../transport/rtt-estimator.js';
import type { TimingValues } from '../transport/timing.js';
import type { CookieKey } from './probe-cookie.js';
import { EventQueue } from './event-queue.js';
import { HostTimeouts, hostTimeoutWarning } from './host-timeouts.js';
import { allowedRetries } from './retry-policy.js';
import { addStats, emptyStats, type ScanEvent, type ScanStats, type WarningEvent } from './events.js';
import { parseIpv4Address } from '../wire/index.js';

/** One unit of work: a host (discovery) or a host and port. */
export interface ProbeTarget {
  readonly family: 4 | 6;
  readonly address: string;
  /** 4 or 16 bytes of {@link address}. */
  readonly addressBytes: Uint8Array;
  readonly hostname?: string;
  readonly protocol: 'tcp' | 'udp' | 'host';
  /** Destination port; 0 for host-level probes. */
  readonly port: number;
}

/** What a module learns from one reply. */
export interface ProbeOutcome {
  /** `open`, `closed`, ... for ports; `up` or `down` for hosts. */
  readonly state: string;
  readonly reason: string;
  readonly ttl?: number;
  readonly window?: number;
  readonly data?: Uint8Array;
  /** The sender of an ICMP error when it is not the target. */
  readonly replyFrom?: string;
  /** The method that produced this outcome when a module mixes several (discovery). */
  readonly method?: string;
}

/** A module's verdict on one reply. */
export type ReplyVerdict =
  | { readonly kind: 'answer'; readonly key: ProbeKey; readonly outcome: ProbeOutcome }
  /** Addressed to this scan but failed validation. */
  | { readonly kind: 'invalid' }
  /** Addressed to this scan but could not be parsed (counted as malformed). */
  | { readonly kind: 'malformed' }
  /** Ours, but says nothing about the probe (ignored, not counted as invalid). */
  | { readonly kind: 'ignore' };

/** What the engine gives a module. */
export interface ProbeContext {
  readonly key: CookieKey;
  readonly lease: ListenerLease;
  /** The local address the kernel would use towards this target. */
  sourceFor(target: ProbeTarget): string;
  /** Sends one packet (counted in the statistics); `packet` may be a template's buffer, reused once this returns. */
  send(family: 4 | 6, protocol: ListenProtocol, packet: Uint8Array, address: string): void;
}

/**
 * A scan type as a small record of functions, zmap style: transmit a probe,
 * validate and classify a reply (from the reply alone), and say what silence means.
 */
export interface ProbeModule {
  /** Sockets the module needs to listen on. */
  readonly listen: readonly ListenProtocol[];
  /** Sends the packet(s) of one attempt for `target`. */
  transmit(ctx: ProbeContext, target: ProbeTarget, attempt: number): void;
  /** Validates and classifies a reply routed to this scan. */
  classify(ctx: ProbeContext, reply: RawReply): ReplyVerdict;
  /** The outcome when every attempt went unanswered. */
  noResponse(target: ProbeTarget): ProbeOutcome;
  /** Slow down per host when answers come only after retransmissions (ICMP rate limits). */
  readonly adaptToRateLimit?: boolean;
}

/**
 * Key of a probe in the engine's tables: for IPv4 the address and port packed
 * into one number (no string made per probe), for IPv6 `address/port` text.
 */
export type ProbeKey = number | string;

/**
 * The {@link ProbeKey} of a probe to `port` (0 for host probes) of `address`;
 * pass `addressBytes` (4 or 16 bytes of it) when at hand, to save parsing the text.
 *
 * @example
 * ```ts
 * probeKey(4, '198.18.1.10', 80) === probeKey(4, '198.18.1.10', 80, new Uint8Array([198, 18, 1, 10])); // true
 * ```
 */
export function probeKey(family: 4 | 6, address: string, port: number, addressBytes?: Uint8Array): ProbeKey {
  if (family === 6) return `${address}/${port}`;
  const b = addressBytes ?? parseIpv4Address(address);
  return ((((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0) * 65536 + port;
}

/** The {@link ProbeKey} of a target. */
function keyOf(target: ProbeTarget): ProbeKey {
  return probeKey(target.family, target.address, target.port, target.addressBytes);
}

/** Pacing and lifetime options of the engine. */
export interface EngineOptions {
  readonly timing: TimingValues;
  /** Packets per second (Infinity for no limit). */
  readonly rate: number;
  /** Probes awaiting an answer at most. */
  readonly maxInFlight: number;
  /** Events queued for a slow consumer before sending pauses. */
  readonly queueCapacity: number;
  readonly signal?: AbortSignal;
  /** Counters of earlier phases of the same scan (discovery), added into the `done` event's statistics. */
  readonly priorStats?: ScanStats;
  /** Where replies come from; the process-wide raw listener by default (tests pass a fake). */
  readonly acquire?: (protocols: readonly ListenProtocol[], sink: { onReply(reply: RawReply): void }) => ListenerLease;
}

interface InFlight {
  target: ProbeTarget;
  attempts: number;
  sentAt: number;
  deadline: number;
}

interface HostPace {
  delayMs: number;
  nextSendAt: number;
  /** When the host last answered a retransmitted probe. */
  lastLateAnswerAt: number | undefined;
}

const MAX_PENDING_SENDS = 1000;
const RATE_LIMIT_FIRST_DELAY_MS = 50;

/** Local address selection, cached (see the transport layer's source-address cache). */
export interface SourceResolver {
  /** The cached source for the target's network, if known. */
  cached(target: ProbeTarget): string | undefined;
  /** Looks the source up; resolves undefined (and the engine skips the target) when there is no route. */
  resolve(target: ProbeTarget): Promise<string | undefined>;
}

/** Builds an event from a finished target. */
export type EventFactory = (target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined) => ScanEvent | undefined;

/**
 * Runs one module over a lazy stream of targets.
 *
 * @example
 * ```ts
 * const engine = new ProbeEngine(module, key, sources, options, makeEvent);
 * try { yield* engine.run(targets); } finally { engine.stop(); }
 * ```
 */
export class ProbeEngine {
  readonly stats: ScanStats = emptyStats();
  private readonly queue: EventQueue<ScanEvent>;
  private readonly bucket: TokenBucket;
  private readonly rtt: RttEstimator;
  private readonly inFlight = new Map<ProbeKey, InFlight>();
  /** Probes whose answer timed out and whose retransmission waits in {@link ready}; a late answer still counts. */
  private readonly awaitingRetry = new Map<ProbeKey, InFlight>();
  private readonly ready: { target: ProbeTarget; attempts: number }[] = [];
  private readonly hosts = new Map<string, HostPace>();
  /** nmap's --host-timeout, from each host's first probe. */
  private readonly hostTimeouts: HostTimeouts;
  private readonly ctx: ProbeContext;
  private pendingSends = 0;
  /** Highest attempt number that got an answer so far (nmap's max_successful_tryno, scan-wide). */
  private maxAnsweredAttempt = 0;
  private sourceDone = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private wakeSender: (() => void) | undefined;
  private readonly startedAt = performance.now();
  private readonly malformedAtStart: number;
  private readonly onAbort = (): void => {
    if (this.stopped) return;
    this.queue.abort(this.options.signal?.reason);
    this.stop();
  };

  private readonly lease: ListenerLease;
  /** A send was taken by the kernel (or failed): one fewer pending. */
  private readonly onSent = (): void => {
    this.pendingSends--;
    if (this.pendingSends < MAX_PENDING_SENDS) this.wake();
  };

  /**
   * @param sources resolves the local address for a target: synchronously from
   *   its cache, or with a promise the send loop awaits; `undefined` skips the target (no route).
   */
  constructor(
    private readonly module: ProbeModule,
    key: CookieKey,
    private readonly sources: SourceResolver,
    private readonly options: EngineOptions,
    private readonly makeEvent: EventFactory,
  ) {
    this.lease = (options.acquire ?? acquireListener)(module.listen, this);
    const lease = this.lease;
    this.queue = new EventQueue(options.queueCapacity);
    this.bucket = new TokenBucket({ rate: options.rate, burst: Number.isFinite(options.rate) ? Math.max(1, Math.ceil(options.rate / 100)) : undefined });
    this.rtt = new RttEstimator(options.timing);
    this.hostTimeouts = new HostTimeouts(options.timing.hostTimeoutMs, (address, limit) => this.queue.push(hostTimeoutWarning(address, limit)));
    this.malformedAtStart = lease.counters.malformed;
    this.ctx = {
      key,
      lease,
      sourceFor: (target) => {
        const source = sources.cached(target);
        if (source === undefined) throw new Error(`no source address resolved for ${target.address}`);
        return source;
      },
      send: (family, protocol, packet, address) => {
        this.pendingSends++;
        this.stats.sent++;
        lease.send(family, protocol, packet, address, this.onSent);
      },
    };
  }

  /** Replies routed to this scan by the shared listener. */
  onReply(reply: RawReply): void {
    if (this.stopped) return;
    const verdict = this.module.classify(this.ctx, reply);
    if (verdict.kind === 'ignore') return;
    if (verdict.kind === 'invalid') {
      this.stats.invalid++;
      return;
    }
    if (verdict.kind === 'malformed') {
      this.stats.malformed++;
      return;
    }
    let entry = this.inFlight.get(verdict.key);
    if (entry) this.inFlight.delete(verdict.key);
    else {
      // A late answer to an attempt whose timeout ran out, while its retransmission waits to be sent.
      entry = this.awaitingRetry.get(verdict.key);
      if (!entry) {
        this.stats.duplicates++;
        return;
      }
      this.awaitingRetry.delete(verdict.key);
      const index = this.ready.findIndex((item) => item.target === entry!.target);
      if (index >= 0) this.ready.splice(index, 1);
    }
    this.stats.received++;
    // A slot in flight is free: a sender waiting at the cap can go on.
    this.wake();
    if (entry.attempts > this.maxAnsweredAttempt) this.maxAnsweredAttempt = entry.attempts;
    const rttMs = reply.receivedAt - entry.sentAt;
    if (entry.attempts === 1 && rttMs >= 0) this.rtt.addSample(rttMs);
    if (this.module.adaptToRateLimit) this.noteAnsweredAttempt(entry, reply.receivedAt);
    this.finish(entry.target, verdict.outcome, rttMs >= 0 ? rttMs : undefined);
  }

  /** Adds an event that is not a probe result (warnings). */
  warn(event: WarningEvent): void {
    this.queue.push(event);
  }

  /** Runs the scan over `targets` and yields its events, `done` last; leaving the loop early stops the engine. */
  async *run(targets: Iterator<ProbeTarget>): AsyncGenerator<ScanEvent, void, undefined> {
    const signal = this.options.signal;
    if (signal?.aborted) {
      this.stop();
      throw signal.reason;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.sendLoop(targets).catch((error: unknown) => this.fail(error));
    try {
      yield* this.queue.drain();
    } finally {
      // Leaving the loop early (break, return, a throw) ends the scan as well.
      this.stop();
    }
  }

  /** Releases the listener lease and every timer; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.lease.release();
    this.inFlight.clear();
    this.awaitingRetry.clear();
    this.queue.close();
    this.wake();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.queue.close(error ?? new Error('scan failed'));
    this.stop();
  }

  private finish(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined): void {
    const event = this.makeEvent(target, outcome, rttMs);
    if (event) {
      if (event.type === 'port') this.stats.portsReported++;
      if (event.type === 'host' && event.status === 'up') this.stats.hostsUp++;
      this.queue.push(event);
    }
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.stopped || !this.sourceDone || this.inFlight.size > 0 || this.ready.length > 0) return;
    this.stats.durationMs = performance.now() - this.startedAt;
    this.stats.malformed += this.lease.counters.malformed - this.malformedAtStart;
    const stats = { ...this.stats };
    if (this.options.priorStats) addStats(stats, this.options.priorStats);
    this.queue.push({ type: 'done', stats });
    this.stop();
  }

  private wake(): void {
    const wake = this.wakeSender;
    if (wake) {
      this.wakeSender = undefined;
      wake();
    }
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

  /** Per-host pacing: kept when the module adapts to rate limits or a scan delay is set (nmap's --scan-delay). */
  private pace(target: ProbeTarget): HostPace | undefined {
    const scanDelay = this.options.timing.scanDelayMs;
    if (!this.module.adaptToRateLimit && scanDelay <= 0) return undefined;
    let pace = this.hosts.get(target.address);
    if (!pace) {
      pace = { delayMs: scanDelay, nextSendAt: 0, lastLateAnswerAt: undefined };
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
  private noteAnsweredAttempt(entry: InFlight, now: number): void {
    if (entry.attempts <= 1) return;
    const pace = this.pace(entry.target);
    if (!pace) return;
    const interval = pace.lastLateAnswerAt === undefined ? 0 : now - pace.lastLateAnswerAt;
    pace.lastLateAnswerAt = now;
    const max = this.options.timing.maxScanDelayMs;
    const next = Math.round(Math.min(max, Math.max(RATE_LIMIT_FIRST_DELAY_MS, pace.delayMs * 2, interval)));
    if (next <= pace.delayMs) return;
    pace.delayMs = next;
    this.queue.push({
      type: 'warning',
      code: 'RATE_LIMITED',
      message: `Increasing send delay for ${entry.target.address} to ${next} ms: answers came only after retransmission (ICMP rate limiting).`,
      target: entry.target.address,
    });
  }

  /** Picks the next thing to send: a due retransmission first, then fresh work. */
  private nextWork(targets: Iterator<ProbeTarget>, now: number): { target: ProbeTarget; attempts: number } | number | undefined {
    let soonest: number | undefined;
    for (let i = 0; i < this.ready.length; i++) {
      const item = this.ready[i] as { target: ProbeTarget; attempts: number };
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
    while (!this.stopped) {
      if (this.pendingSends >= MAX_PENDING_SENDS || this.inFlight.size >= this.options.maxInFlight) {
        await this.sleep(undefined);
        continue;
      }
      if (!this.queue.hasRoom()) {
        await this.queue.waitForRoom();
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
        this.awaitingRetry.delete(keyOf(work.target));
        continue;
      }
      const wait = this.bucket.tryTake(1);
      if (wait > 0) {
        this.ready.unshift(work);
        await this.sleep(wait);
        continue;
      }
      if (this.sources.cached(work.target) === undefined) {
        const source = await this.sources.resolve(work.target);
        if (this.stopped) return;
        if (source === undefined) continue;
        // A retransmission settled by a late answer during the wait is not sent again.
        if (work.attempts > 0 && !this.awaitingRetry.has(keyOf(work.target))) continue;
      }
      this.transmit(work.target, work.attempts + 1, now);
      // Yield to the event loop now and then so replies and timers are served while sending.
      if ((this.stats.sent & 63) === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private transmit(target: ProbeTarget, attempt: number, now: number): void {
    const key = keyOf(target);
    const pace = this.pace(target);
    if (pace) pace.nextSendAt = now + pace.delayMs;
    const timeout = this.retransmitTimeout(attempt);
    const entry: InFlight = { target, attempts: attempt, sentAt: now, deadline: now + timeout };
    this.awaitingRetry.delete(key);
    this.inFlight.delete(key);
    this.inFlight.set(key, entry);
    if (attempt > 1) this.stats.retransmitted++;
    try {
      this.module.transmit(this.ctx, target, attempt);
    } catch (error) {
      this.inFlight.delete(key);
      throw error;
    }
    this.armTimer(entry.deadline);
  }

  /**
   * Retransmissions allowed now (see {@link allowedRetries}). Modules that
   * adapt to rate limits always get maxRetries: their answers come late by design.
   */
  private allowedRetries(): number {
    const max = this.options.timing.maxRetries;
    if (this.module.adaptToRateLimit) return max;
    return allowedRetries(max, this.maxAnsweredAttempt);
  }

  /**
   * How long to wait for an answer to this attempt. Modules that adapt to rate
   * limits back off exponentially (capped by maxRttTimeoutMs), so the retries
   * of a probe span the second or so a rate-limited host needs to answer again;
   * the others wait the adaptive timeout each time, as nmap does.
   */
  private retransmitTimeout(attempt: number): number {
    const timeout = this.rtt.timeoutMs;
    if (!this.module.adaptToRateLimit || attempt <= 1) return timeout;
    return Math.max(timeout, Math.min(timeout * 2 ** (attempt - 1), this.options.timing.maxRttTimeoutMs));
  }

  private armTimer(at?: number): void {
    if (this.stopped) return;
    let deadline = at;
    if (deadline === undefined) {
      const first = this.inFlight.values().next();
      if (first.done) return;
      deadline = first.value.deadline;
    }
    if (this.timer) {
      // An earlier deadline than the armed one (backoff tables are not in deadline order) re-arms.
      if (this.timerAt <= deadline) return;
      clearTimeout(this.timer);
    }
    this.timerAt = deadline;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
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
    const maxRetries = this.allowedRetries();
    const ordered = !this.module.adaptToRateLimit;
    let next: number | undefined;
    for (const [key, entry] of this.inFlight) {
      if (entry.deadline > now) {
        if (ordered) break;
        next = next === undefined ? entry.deadline : Math.min(next, entry.deadline);
        continue;
      }
      this.inFlight.delete(key);
      if (this.hostTimeouts.isOver(entry.target.address, now)) continue;
      if (entry.attempts <= maxRetries) {
        this.awaitingRetry.set(key, entry);
        this.ready.push({ target: entry.target, attempts: entry.attempts });
      } else {
        this.finish(entry.target, this.module.noResponse(entry.target), undefined);
      }
    }
    this.wake();
    this.armTimer(next);
    this.maybeDone();
  }
}

/**
 * TCP connect scan (nmap's `-sT`): no privileges needed.
 *
 * Each pair is probed with a full TCP connection, `p-limit` bounding the
 * connections in flight and fed lazily from the plan's iterator (a /16 never
 * sits in memory). Large unpaced scans hand each pair's whole series of
 * attempts to worker threads instead (see `ConnectWorkerPool`), with the same
 * bound on pairs out at once, so the main thread only hands out pairs and
 * reads outcomes. A connection means open (`syn-ack`), a refusal closed
 * (`conn-refused`), a timeout after every retry filtered (`no-response`), and
 * the errors the kernel derives from ICMP filtered with the matching reason.
 * Unless `skipDiscovery`, hosts are first pinged the way nmap does without
 * privileges: a connection to ports 80 and 443, where any answer (even a
 * refusal) means the host is up.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { PortscoutError } from '../errors.js';
import type { ScanPair, ScanPlan } from '../targets/index.js';
import { connectAttempt, ConnectWorkerPool, type ConnectAttempt } from '../transport/connect-attempts.js';
import { RttEstimator } from '../transport/rtt-estimator.js';
import type { TimingValues } from '../transport/timing.js';
import { TokenBucket } from '../transport/token-bucket.js';
import { EventQueue } from './event-queue.js';
import { HostTimeouts, hostTimeoutWarning } from './host-timeouts.js';
import { allowedRetries } from './retry-policy.js';
import { withReverseNames } from './reverse-names.js';
import { lazyGenerator } from './lazy-generator.js';
import { addStats, emptyStats, type HostEvent, type PortEvent, type ScanEvent, type ScanStats } from './events.js';
import { defaultPortsFor, discoveryPhase, planWithWarnings, roundRtt, throwIfAborted, timingOf, validateScanOptions, type Building } from './probe-scan.js';
import type { PortScanOptions } from './scan-options.js';

/** How a failed connect reads, by errno code (Linux maps ICMP errors onto these), as nmap reads them. */
const CONNECT_ERRORS: Readonly<Record<string, { state: PortEvent['state']; reason: string }>> = {
  ECONNREFUSED: { state: 'closed', reason: 'conn-refused' },
  ECONNRESET: { state: 'closed', reason: 'reset' },
  EHOSTUNREACH: { state: 'filtered', reason: 'host-unreach' },
  EHOSTDOWN: { state: 'filtered', reason: 'host-unreach' },
  ENETUNREACH: { state: 'filtered', reason: 'net-unreach' },
  ENETDOWN: { state: 'filtered', reason: 'net-unreach' },
  ENONET: { state: 'filtered', reason: 'net-unreach' },
  EACCES: { state: 'filtered', reason: 'admin-prohibited' },
  EPERM: { state: 'filtered', reason: 'admin-prohibited' },
  ENOPROTOOPT: { state: 'filtered', reason: 'proto-unreach' },
  ETIMEDOUT: { state: 'filtered', reason: 'no-response' },
};

/** Ports of the unprivileged host ping (nmap's default without raw sockets). */
const PING_PORTS = [80, 443] as const;

/**
 * Shortest wait for the last connect attempt of a pair. Linux keeps an ICMP
 * error that arrives while connect() still holds the socket as a soft error
 * (seen for ICMPv6 admin-prohibited and address-unreachable in the lab) and
 * reports it only after the first SYN retransmission, one second later;
 * waiting a little longer than that gives the error's reason instead of
 * no-response. Earlier attempts wait the adaptive timeout, as nmap's do, so a
 * silent port costs one short wait and one long one.
 */
const MIN_CONNECT_WAIT_MS = 1100;

/** What the connect loop concluded for one pair. */
type Outcome = { state: PortEvent['state']; reason: string; rttMs?: number } | { unknownError: string };

/** One address and port to connect to. */
type ConnectTarget = Pick<ScanPair, 'family' | 'address' | 'port' | 'hostname'>;

/** Pairs from which a connect scan spreads its attempts over worker threads by default. */
const WORKERS_FROM_PAIRS = 4096;

/** The state one scan's connections share: pacing, timeouts, retries, statistics, cancellation. */
class Connector {
  readonly stats: ScanStats = emptyStats();
  readonly active = new Set<() => void>();
  readonly stopped = new AbortController();
  private readonly rtt: RttEstimator;
  private readonly bucket: TokenBucket | undefined;
  private nextStartAt = 0;
  /** Whether attempts wait for a rate or a scan delay (most scans do not: no await per attempt then). */
  private readonly paced: boolean;
  /** Highest attempt that got an answer: one retry while it is 1, all of them once loss was seen. */
  private maxAnsweredAttempt = 0;
  /** nmap's --host-timeout: the remaining pairs of a host whose time ran out are skipped. */
  private readonly hostTimeouts: HostTimeouts;

  constructor(
    private readonly timing: TimingValues,
    rate: number | undefined,
    /** Worker threads that make the attempts; none: on this thread. */
    private readonly pool: ConnectWorkerPool | undefined,
    /** Where warnings (host timeouts) go. */
    warn: (event: ScanEvent) => void,
    /** Ends the scan with an error (a probe or the consumer's callback threw). */
    private readonly fail: (error: unknown) => void,
  ) {
    this.hostTimeouts = new HostTimeouts(timing.hostTimeoutMs, (address, limit) => warn(hostTimeoutWarning(address, limit)));
    this.rtt = new RttEstimator(timing);
    this.bucket = rate === undefined || rate === Number.POSITIVE_INFINITY ? undefined : new TokenBucket({ rate });
    this.paced = this.bucket !== undefined || timing.scanDelayMs > 0;
  }

  /** Ends every connection in flight; later attempts do not start. */
  stop(): void {
    this.stopped.abort();
    for (const cancel of [...this.active]) cancel();
    void this.pool?.close();
  }

  /** The wait for an attempt that is not a pair's last: the adaptive timeout. */
  private attemptTimeout(): number {
    return this.rtt.timeoutMs;
  }

  /** The wait for a pair's last attempt: the adaptive timeout, at least MIN_CONNECT_WAIT_MS, at most the maximum. */
  private lastAttemptTimeout(): number {
    return Math.min(this.timing.maxRttTimeoutMs, Math.max(this.rtt.timeoutMs, MIN_CONNECT_WAIT_MS));
  }

  /** Counts the attempts of one pair: the first sent, the others retransmissions. */
  private countAttempts(attempts: number): void {
    this.stats.sent += attempts;
    this.stats.retransmitted += Math.max(0, attempts - 1);
  }

  /** Counts an attempt series and reads how it ended (the same for one attempt on this thread and a series on a worker). */
  private conclude(result: ConnectAttempt, attempts: number): Outcome {
    this.countAttempts(attempts);
    if (result.kind === 'timeout') return { state: 'filtered', reason: 'no-response' };
    if (attempts === 1) this.rtt.addSample(result.rttMs);
    if (attempts > this.maxAnsweredAttempt) this.maxAnsweredAttempt = attempts;
    this.stats.received++;
    if (result.kind === 'open') return { state: 'open', reason: 'syn-ack', rttMs: result.rttMs };
    const reading = CONNECT_ERRORS[result.code];
    return reading ? { ...reading, rttMs: result.rttMs } : { unknownError: result.code };
  }

  /** Waits for the rate and the scan delay (nmap's --scan-delay; T0-T2 also send one probe at a time). */
  private async pace(): Promise<void> {
    if (this.bucket) await this.bucket.take(1, this.stopped.signal).catch(() => undefined);
    const delay = this.timing.scanDelayMs;
    if (delay <= 0) return;
    const now = performance.now();
    const wait = this.nextStartAt - now;
    this.nextStartAt = Math.max(now, this.nextStartAt) + delay;
    if (wait > 0) await this.sleep(wait);
  }

  /** Waits `ms`, or less when the scan stops. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopped.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Attempts allowed for a pair now (the retry policy widens as soon as an answer needed a retry). */
  private allowedAttempts(): number {
    return 1 + allowedRetries(this.timing.maxRetries, this.maxAnsweredAttempt);
  }

  /** One attempt: on a worker when the scan has them, else on this thread. */
  private attempt(target: ConnectTarget, timeoutMs: number): Promise<ConnectAttempt> {
    return this.pool ? this.pool.attempt(target, timeoutMs) : connectAttempt(target, timeoutMs, this.active);
  }

  /**
   * Connects to `target` with retries, one attempt at a time (the paced path,
   * and every scan without workers); undefined when the scan stopped first or
   * the host's time ran out. The allowance is read again after every timeout,
   * as the raw engine does.
   */
  async probe(target: ConnectTarget): Promise<Outcome | undefined> {
    let made = 0;
    const stop = (): undefined => {
      this.countAttempts(made);
      return undefined;
    };
    for (;;) {
      if (this.stopped.signal.aborted || this.hostTimeouts.isOver(target.address, performance.now())) return stop();
      if (this.paced) {
        await this.pace();
        if (this.stopped.signal.aborted) return stop();
      }
      const last = made + 1 >= this.allowedAttempts();
      const result = await this.attempt(target, last ? this.lastAttemptTimeout() : this.attemptTimeout());
      made++;
      if (this.stopped.signal.aborted) return stop();
      if (result.kind !== 'timeout' || made >= this.allowedAttempts()) return this.conclude(result, made);
    }
  }

  /**
   * Connects to `target` on a worker, which runs the pair's attempts as one
   * series; `done` gets the outcome (undefined when the scan stopped first,
   * or when the host's time ran out and the series stayed silent). When the
   * retry allowance widened while a silent series ran, a follow-on series
   * makes the extra attempts.
   */
  probeOnWorker(pool: ConnectWorkerPool, target: ConnectTarget, done: (outcome: Outcome | undefined) => void): void {
    let made = 0;
    const drop = (): void => {
      this.countAttempts(made);
      done(undefined);
    };
    const submit = (): void => {
      if (this.stopped.signal.aborted || this.hostTimeouts.isOver(target.address, performance.now())) {
        drop();
        return;
      }
      const attempts = Math.max(1, this.allowedAttempts() - made);
      pool.submit(target, { timeoutMs: this.attemptTimeout(), lastTimeoutMs: this.lastAttemptTimeout(), attempts }, (result) => {
        made += result.attempts;
        // attempts 0: the pool closed (scan stopped, or a worker failed) before the series ran.
        if (result.attempts === 0 || this.stopped.signal.aborted) {
          drop();
          return;
        }
        if (result.kind === 'timeout') {
          if (made < this.allowedAttempts()) {
            submit();
            return;
          }
          // Silence after the host's time ran out says nothing about the port.
          if (this.hostTimeouts.isOver(target.address, performance.now())) {
            drop();
            return;
          }
        }
        done(this.conclude(result, made));
      });
    };
    submit();
  }

  /**
   * Probes every target of a lazy iterable with at most `concurrency`
   * connections at once (p-limit, fed as slots free up), calling `settle` with
   * each outcome. Pauses while `hasRoom` says the consumer is behind. On
   * worker threads (unpaced scans), whole attempt series run there instead.
   */
  async run<T extends ConnectTarget>(
    targets: Iterable<T>,
    concurrency: number,
    queue: EventQueue<ScanEvent>,
    settle: (target: T, outcome: Outcome) => void,
  ): Promise<void> {
    if (this.pool && !this.paced) return this.runOnWorkers(this.pool, targets, concurrency, queue, settle);
    const limit = pLimit(concurrency);
    const abandon = (): void => limit.clearQueue();
    this.stopped.signal.addEventListener('abort', abandon, { once: true });
    // Tasks handed to p-limit and not finished: at most `concurrency` run, as many more wait.
    let outstanding = 0;
    let slotFreed: (() => void) | undefined;
    const waitForSlot = (): Promise<void> => new Promise((resolve) => (slotFreed = resolve));
    const finished = (): void => {
      outstanding--;
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
    };
    try {
      for (const target of targets) {
        while (outstanding >= concurrency * 2 && !this.stopped.signal.aborted) await waitForSlot();
        if (!queue.hasRoom()) await queue.waitForRoom();
        if (this.stopped.signal.aborted) break;
        outstanding++;
        limit(() => this.probe(target))
          .then((outcome) => {
            if (outcome !== undefined) settle(target, outcome);
          })
          .catch(this.fail)
          .finally(finished);
      }
      while (outstanding > 0 && !this.stopped.signal.aborted) await waitForSlot();
    } finally {
      this.stopped.signal.removeEventListener('abort', abandon);
    }
  }

  /**
   * {@link run} on worker threads: at most `concurrency` pairs out at once,
   * each a whole series of attempts on a worker. The main thread only hands
   * pairs out and reads outcomes, with no promise per pair: the feeder sleeps
   * until half the window is free, then refills it.
   */
  private async runOnWorkers<T extends ConnectTarget>(
    pool: ConnectWorkerPool,
    targets: Iterable<T>,
    concurrency: number,
    queue: EventQueue<ScanEvent>,
    settle: (target: T, outcome: Outcome) => void,
  ): Promise<void> {
    const signal = this.stopped.signal;
    const lowWater = Math.floor(concurrency / 2);
    let outstanding = 0;
    let wakeFeeder: (() => void) | undefined;
    const waitUntil = (ready: () => boolean): Promise<void> | undefined => {
      if (ready() || signal.aborted) return undefined;
      return new Promise((resolve) => {
        wakeFeeder = () => {
          if (!ready() && !signal.aborted) return;
          wakeFeeder = undefined;
          resolve();
        };
      });
    };
    const onAbort = (): void => wakeFeeder?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const target of targets) {
        if (outstanding >= concurrency) await waitUntil(() => outstanding <= lowWater);
        if (!queue.hasRoom()) await queue.waitForRoom();
        if (signal.aborted) break;
        outstanding++;
        this.probeOnWorker(pool, target, (outcome) => {
          outstanding--;
          try {
            if (outcome !== undefined) settle(target, outcome);
          } catch (error) {
            this.fail(error);
          }
          wakeFeeder?.();
        });
      }
      await waitUntil(() => outstanding === 0);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function connectWarning(target: ConnectTarget, code: string): ScanEvent {
  return { type: 'warning', code: 'CONNECT_ERROR', message: `connect to ${target.address}:${target.port} failed with ${code}`, target: target.address };
}

/** The (host, ping port) targets of a plan's hosts, lazily. */
function* pingTargets(plan: ScanPlan): Generator<ConnectTarget> {
  for (const host of plan.hosts()) {
    for (const port of PING_PORTS) yield { family: host.family, address: host.address, port, hostname: host.hostname };
  }
}

/**
 * Pings the plan's hosts with connections to ports 80 and 443: the first
 * answer of a host (connected or refused) reports it up, silence on both down.
 * Resolves with the hosts found up.
 */
async function pingHosts(connector: Connector, plan: ScanPlan, concurrency: number, queue: EventQueue<ScanEvent>): Promise<Map<string, string | undefined>> {
  const up = new Map<string, string | undefined>();
  /** Hosts with ping ports still out: how many, whether one answered, the reason a down host gets. */
  const pinging = new Map<string, { left: number; answered: boolean; reason: string }>();
  const hostEvent = (target: ConnectTarget, status: 'up' | 'down', reason: string, rttMs: number | undefined): void => {
    const event: Building<HostEvent> = { type: 'host', family: target.family, address: target.address, status, reason, method: 'tcp-connect-ping' };
    if (target.hostname !== undefined) event.hostname = target.hostname;
    if (rttMs !== undefined) event.rttMs = roundRtt(rttMs);
    queue.push(event);
  };
  await connector.run(pingTargets(plan), concurrency, queue, (target, outcome) => {
    let host = pinging.get(target.address);
    if (!host) {
      host = { left: PING_PORTS.length, answered: false, reason: 'no-response' };
      pinging.set(target.address, host);
    }
    host.left--;
    if ('unknownError' in outcome) queue.push(connectWarning(target, outcome.unknownError));
    else if (outcome.state !== 'filtered') {
      // Connected or refused: the host is there (the first answer reports it).
      if (!host.answered) {
        host.answered = true;
        up.set(target.address, target.hostname);
        connector.stats.hostsUp++;
        hostEvent(target, 'up', outcome.reason, outcome.rttMs);
      }
    } else if (outcome.reason !== 'no-response') {
      // An ICMP error says more than silence about a host that stays down.
      host.reason = outcome.reason;
    }
    if (host.left > 0) return;
    pinging.delete(target.address);
    if (!host.answered) hostEvent(target, 'down', host.reason, undefined);
  });
  return up;
}

/**
 * Options of {@link tcpConnectScan}.
 *
 * @example
 * ```ts
 * const options: ConnectScanOptions = { targets: '198.18.1.10', ports: '-', timing: 'T4', workers: 2 };
 * ```
 */
export interface ConnectScanOptions extends PortScanOptions {
  /**
   * Worker threads that make the connection attempts (the kernel's work for
   * each handshake runs on the thread that connects). 0 connects on this
   * thread. Default: the cores available (at most 4) for unpaced scans of
   * 4096 pairs or more; 0 for smaller scans and for scans paced by `rate` or
   * a scan delay, which gain nothing from them. Unpaced scans hand each pair's
   * whole series of attempts to a worker; paced ones one attempt at a time.
   */
  readonly workers?: number;
}

/**
 * Scans TCP ports with full connections.
 *
 * @example
 * ```ts
 * for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: '22,80,443', skipDiscovery: true })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export function tcpConnectScan(options: ConnectScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  return lazyGenerator(() => withReverseNames(connectScan(options), options));
}

/** {@link tcpConnectScan} without reverse names (the SYN scan's fallback adds them itself). @internal */
export async function* connectScan(options: ConnectScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  throwIfAborted(options.signal);
  validateScanOptions(options);
  if (options.workers !== undefined && !(Number.isSafeInteger(options.workers) && options.workers >= 0)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Option workers must be a whole number >= 0 (0 connects on this thread); got ${String(options.workers)}.`);
  }
  const timing = timingOf(options);
  const ports = { spec: options.ports ?? defaultPortsFor('tcp'), exclude: options.excludePorts, protocol: 'tcp' as const };
  // With discovery, every target is pinged; shard and resume apply to the port phase.
  const first = await planWithWarnings(options.skipDiscovery ? options : discoveryPhase(options), options.targets, ports, true);
  throwIfAborted(options.signal);
  yield* first.warnings;

  const started = performance.now();
  const concurrency = Math.min(options.maxInFlight ?? 512, timing.maxParallelism);
  const queue = new EventQueue<ScanEvent>(options.queueCapacity ?? 1024);
  const paced = (options.rate !== undefined && Number.isFinite(options.rate)) || timing.scanDelayMs > 0;
  const workers = options.workers ?? (first.plan.size >= WORKERS_FROM_PAIRS && concurrency > 1 && !paced ? Math.min(availableParallelism(), 4) : 0);
  const onFailure = (error: unknown): void => {
    connector.stop();
    queue.close(error);
  };
  const pool = workers > 0 ? new ConnectWorkerPool(workers, onFailure) : undefined;
  const connector = new Connector(timing, options.rate, pool, (event) => queue.push(event), onFailure);
  const onAbort = (): void => {
    connector.stop();
    queue.abort(options.signal?.reason);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The consumer may have aborted while it read the planning warnings: a listener added now would never fire.
  if (options.signal?.aborted) onAbort();

  const scanPorts = async (): Promise<void> => {
    if (!options.skipDiscovery) {
      const up = await pingHosts(connector, first.plan, concurrency, queue);
      if (connector.stopped.signal.aborted || up.size === 0) return;
      // As the raw scans: order, shard and resume apply to the port phase over the hosts found up.
      const second = await planWithWarnings(options, [...up.keys()], ports, false);
      for (const warning of second.warnings) queue.push(warning);
      await connector.run(second.plan.pairs(), concurrency, queue, (pair, outcome) => emitPort(pair, outcome, up.get(pair.address)));
      return;
    }
    await connector.run(first.plan.pairs(), concurrency, queue, (pair, outcome) => emitPort(pair, outcome, pair.hostname));
  };

  const emitPort = (pair: ConnectTarget, outcome: Outcome, hostname: string | undefined): void => {
    if ('unknownError' in outcome) {
      queue.push(connectWarning(pair, outcome.unknownError));
      return;
    }
    connector.stats.portsReported++;
    const event: Building<PortEvent> = {
      type: 'port',
      family: pair.family,
      address: pair.address,
      protocol: 'tcp',
      port: pair.port,
      state: outcome.state,
      reason: outcome.reason,
      method: 'connect',
    };
    if (hostname !== undefined) event.hostname = hostname;
    if (outcome.rttMs !== undefined) event.rttMs = roundRtt(outcome.rttMs);
    queue.push(event);
  };

  scanPorts().then(
    () => {
      const stats = emptyStats();
      addStats(stats, connector.stats);
      stats.durationMs = performance.now() - started;
      queue.push({ type: 'done', stats });
      queue.close();
    },
    onFailure,
  );

  try {
    yield* queue.drain();
  } finally {
    connector.stop();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * TCP connect scan (nmap's `-sT`): no privileges needed.
 *
 * Each pair is probed with a full `node:net` connection, `p-limit` bounding
 * the connections in flight and fed lazily from the plan's iterator (a /16
 * never sits in memory). A connection means open (`syn-ack`), a refusal closed
 * (`conn-refused`), a timeout after every retry filtered (`no-response`), and
 * the errors the kernel derives from ICMP filtered with the matching reason.
 *
 * @module
 */
import { Socket } from 'node:net';
import pLimit from 'p-limit';
import type { ScanPair } from '../targets/index.js';
import { RttEstimator } from '../transport/rtt-estimator.js';
import { EventQueue } from './event-queue.js';
import { emptyStats, type PortEvent, type ScanEvent } from './events.js';
import { defaultPortsFor, planWithWarnings, throwIfAborted, timingOf, validateScanOptions } from './probe-scan.js';
import type { PortScanOptions } from './scan-options.js';

/** How a failed connect reads, by errno code (Linux maps ICMP errors onto these). */
const CONNECT_ERRORS: Readonly<Record<string, { state: PortEvent['state']; reason: string }>> = {
  ECONNREFUSED: { state: 'closed', reason: 'conn-refused' },
  ECONNRESET: { state: 'closed', reason: 'reset' },
  EHOSTUNREACH: { state: 'filtered', reason: 'host-unreach' },
  ENETUNREACH: { state: 'filtered', reason: 'net-unreach' },
  EACCES: { state: 'filtered', reason: 'admin-prohibited' },
  EPERM: { state: 'filtered', reason: 'admin-prohibited' },
  ENOPROTOOPT: { state: 'filtered', reason: 'proto-unreach' },
};

/**
 * Shortest wait for one connect attempt. Linux keeps an ICMP error that
 * arrives while connect() still holds the socket as a soft error (seen for
 * ICMPv6 admin-prohibited and address-unreachable in the lab) and reports it
 * only after the first SYN retransmission, one second later; waiting a little
 * longer than that gives the error's reason instead of no-response.
 */
const MIN_CONNECT_WAIT_MS = 1100;

type Attempt = { kind: 'open'; rttMs: number } | { kind: 'error'; code: string; rttMs: number } | { kind: 'timeout' };

/**
 * One connection attempt. `active` holds a cancel function per open attempt,
 * so stopping the scan ends them all without an abort listener per socket.
 */
function connectOnce(pair: ScanPair, timeoutMs: number, active: Set<() => void>): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const started = performance.now();
    const settle = (attempt: Attempt): void => {
      if (!active.delete(cancel)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(attempt);
    };
    const cancel = (): void => settle({ kind: 'timeout' });
    active.add(cancel);
    const timer = setTimeout(cancel, timeoutMs);
    socket.once('connect', () => settle({ kind: 'open', rttMs: performance.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      settle({ kind: 'error', code: error.code ?? 'UNKNOWN', rttMs: performance.now() - started }),
    );
    socket.connect({ host: pair.address, port: pair.port, family: pair.family });
  });
}

/**
 * Scans TCP ports with full connections.
 *
 * @example
 * ```ts
 * for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: '22,80,443' })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export async function* tcpConnectScan(options: PortScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  throwIfAborted(options.signal);
  validateScanOptions(options);
  const timing = timingOf(options);
  const { plan, warnings } = await planWithWarnings(options, options.targets, { spec: options.ports ?? defaultPortsFor('tcp'), exclude: options.excludePorts, protocol: 'tcp' }, true);
  throwIfAborted(options.signal);
  yield* warnings;

  const stats = emptyStats();
  const started = performance.now();
  const rtt = new RttEstimator(timing);
  const concurrency = Math.min(options.maxInFlight ?? 512, timing.maxParallelism);
  const limit = pLimit(concurrency);
  const queue = new EventQueue<ScanEvent>(options.queueCapacity ?? 1024);
  const stop = new AbortController();
  const active = new Set<() => void>();
  const stopAll = (): void => {
    stop.abort();
    limit.clearQueue();
    for (const cancel of [...active]) cancel();
  };
  const onAbort = (): void => {
    stopAll();
    queue.close(options.signal?.reason);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // As nmap: one retry while every answer came to a first attempt; more once answers needed more.
  let maxAnsweredAttempt = 0;
  const allowedAttempts = (): number => 1 + Math.min(timing.maxRetries, Math.max(1, maxAnsweredAttempt));
  const probe = async (pair: ScanPair): Promise<void> => {
    for (let attempt = 1; attempt <= allowedAttempts(); attempt++) {
      if (stop.signal.aborted) return;
      stats.sent++;
      if (attempt > 1) stats.retransmitted++;
      const result = await connectOnce(pair, Math.min(timing.maxRttTimeoutMs, Math.max(rtt.timeoutMs, MIN_CONNECT_WAIT_MS)), active);
      if (stop.signal.aborted) return;
      if (result.kind === 'timeout') continue;
      if (attempt === 1) rtt.addSample(result.rttMs);
      if (attempt > maxAnsweredAttempt) maxAnsweredAttempt = attempt;
      stats.received++;
      const reading = result.kind === 'open' ? { state: 'open' as const, reason: 'syn-ack' } : CONNECT_ERRORS[result.code];
      if (!reading) {
        const code = result.kind === 'error' ? result.code : 'UNKNOWN';
        queue.push({ type: 'warning', code: 'CONNECT_ERROR', message: `connect to ${pair.address}:${pair.port} failed with ${code}`, target: pair.address });
        return;
      }
      emit(pair, reading.state, reading.reason, result.rttMs);
      return;
    }
    emit(pair, 'filtered', 'no-response', undefined);
  };

  const emit = (pair: ScanPair, state: PortEvent['state'], reason: string, rttMs: number | undefined): void => {
    stats.portsReported++;
    const event: PortEvent = {
      type: 'port',
      family: pair.family,
      address: pair.address,
      ...(pair.hostname !== undefined ? { hostname: pair.hostname } : {}),
      protocol: 'tcp',
      port: pair.port,
      state,
      reason,
      ...(rttMs !== undefined ? { rttMs: Math.round(rttMs * 1000) / 1000 } : {}),
      method: 'connect',
    };
    queue.push(event);
  };

  const feed = async (): Promise<void> => {
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
    for (const pair of plan.pairs()) {
      while (outstanding >= concurrency * 2 && !stop.signal.aborted) await waitForSlot();
      if (!queue.hasRoom()) await queue.waitForRoom();
      if (stop.signal.aborted) break;
      outstanding++;
      limit(() => probe(pair)).then(finished, finished);
    }
    while (outstanding > 0 && !stop.signal.aborted) await waitForSlot();
  };

  feed().then(
    () => {
      stats.durationMs = performance.now() - started;
      queue.push({ type: 'done', stats: { ...stats } });
      queue.close();
    },
    (error: unknown) => queue.close(error),
  );

  try {
    yield* queue.drain();
  } finally {
    stopAll();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

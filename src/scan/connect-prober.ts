/**
 * The connect prober: probes are TCP connections made by the kernel for us,
 * on this thread or, for large unpaced scans, on worker threads (each pair's
 * series of attempts runs there, the engine keeps every decision). A
 * connection means open (`syn-ack`), a refusal closed (`conn-refused`), and
 * the errors the kernel derives from ICMP filtered with the matching reason.
 * Host targets are pinged the way nmap does without privileges: connections
 * to ports 80 and 443, where any answer (even a refusal) means the host is up.
 *
 * @module
 */
import { connectAttempt, ConnectWorkerPool, type ConnectAttempt } from '../transport/connect-attempts.js';
import { keyOf, type ProbeOutcome, type ProbeTarget } from './probe-module.js';
import type { AttemptSeries, Prober, ProberSink, SeriesResult } from './prober.js';
import type { PortState, Reason } from './events.js';

/** How a failed connect reads, by errno code (Linux maps ICMP errors onto these), as nmap reads them. */
const CONNECT_ERRORS: Readonly<Record<string, { state: PortState; reason: Reason }>> = {
  ECONNREFUSED: { state: 'closed', reason: 'conn-refused' },
  ECONNRESET: { state: 'closed', reason: 'reset' },
  EHOSTUNREACH: { state: 'filtered', reason: 'host-unreach' },
  EHOSTDOWN: { state: 'filtered', reason: 'host-unreach' },
  ENETUNREACH: { state: 'filtered', reason: 'net-unreach' },
  ENONET: { state: 'filtered', reason: 'net-unreach' },
  // Linux reports an ICMPv6 administratively-prohibited as EACCES (icmpv6_err_convert).
  EACCES: { state: 'filtered', reason: 'admin-prohibited' },
  ENOPROTOOPT: { state: 'filtered', reason: 'proto-unreach' },
  ETIMEDOUT: { state: 'filtered', reason: 'no-response' },
};

/**
 * Errnos of a connect whose SYN never left this machine: a firewall rule
 * here (EPERM) or a link down (ENETDOWN). They say nothing about the
 * target; the engine sends such probes again after a pause. (EACCES is not
 * one: Linux gives it for an ICMPv6 administratively-prohibited answer.)
 */
const LOCAL_REFUSALS: ReadonlySet<string> = new Set(['EPERM', 'ENETDOWN']);

/** Ports of the unprivileged host ping (nmap's default without raw sockets). */
export const PING_PORTS = [80, 443] as const;

/**
 * Shortest wait for the last connect attempt of a pair. Linux keeps an ICMP
 * error that arrives while connect() still holds the socket as a soft error
 * (seen for ICMPv6 admin-prohibited and address-unreachable in the lab) and
 * reports it only after the first SYN retransmission, one second later;
 * waiting a little longer than that gives the error's reason instead of
 * no-response. Earlier attempts wait the adaptive timeout, as nmap's do.
 */
const MIN_CONNECT_WAIT_MS = 1100;

/** What an answered connect attempt says about its port: a state, or an errno that names none. */
function readAttempt(attempt: Exclude<ConnectAttempt, { kind: 'timeout' }>): { state: PortState; reason: Reason } | undefined {
  return attempt.kind === 'open' ? { state: 'open', reason: 'syn-ack' } : CONNECT_ERRORS[attempt.code];
}

/** Options of {@link createConnectProber}. */
export interface ConnectProberOptions {
  /** Worker threads that make port attempts (whole series each); none: this thread, one attempt at a time. */
  readonly workers?: number;
  /** Worker attempts with net.Socket even where Node's TCP handle is there (tests of the fallback). */
  readonly netSockets?: boolean;
}

/**
 * A prober that connects.
 *
 * @example
 * ```ts
 * const prober = createConnectProber({ workers: 2 });
 * ```
 */
export function createConnectProber(options: ConnectProberOptions = {}): Prober {
  let sink: ProberSink | undefined;
  let pool: ConnectWorkerPool | undefined;
  /** Cancels every attempt on this thread that is in flight. */
  const active = new Set<() => void>();
  let closed = false;

  const report = (target: ProbeTarget, result: SeriesResult): void => {
    if (!closed) sink?.seriesEnded(keyOf(target), result);
  };

  /** A port's series ended with `attempt`, after `attempts` attempts. */
  const portResult = (target: ProbeTarget, attempt: ConnectAttempt, attempts: number): SeriesResult => {
    if (attempts === 0) return { kind: 'dropped', attempts };
    if (attempt.kind === 'timeout') return { kind: 'silent', attempts };
    if (attempt.kind === 'error' && LOCAL_REFUSALS.has(attempt.code)) return { kind: 'unsent', code: attempt.code, attempts };
    const reading = readAttempt(attempt);
    if (!reading) return { kind: 'error', message: `connect to ${target.address}:${target.port} failed with ${attempt.kind === 'error' ? attempt.code : 'an unknown error'}`, attempts };
    return { kind: 'answer', outcome: reading, rttMs: attempt.rttMs, attempts };
  };

  /** One attempt at each ping port: the first that connects or is refused proves the host up. */
  const ping = (target: ProbeTarget, timeoutMs: number): void => {
    let left = PING_PORTS.length;
    let refused = 0;
    let best: SeriesResult = { kind: 'silent', attempts: 1 };
    for (const port of PING_PORTS) {
      void connectAttempt({ family: target.family, address: target.address, port }, timeoutMs, active).then((attempt) => {
        left--;
        if (closed || best.kind === 'answer' && best.outcome.state === 'up') return;
        if (attempt.kind === 'error' && LOCAL_REFUSALS.has(attempt.code)) {
          // Never left: if no port's attempt did, the host was not probed at all.
          if (++refused === PING_PORTS.length) best = { kind: 'unsent', code: attempt.code, attempts: 1 };
        } else if (attempt.kind !== 'timeout') {
          const reading = readAttempt(attempt);
          if (reading && reading.state !== 'filtered') {
            // Connected or refused: the host is there (the first answer reports it).
            best = { kind: 'answer', outcome: { state: 'up', reason: reading.reason, method: 'tcp-connect-ping' }, rttMs: attempt.rttMs, attempts: 1 };
            report(target, best);
            return;
          }
          // An ICMP error says more than silence about a host that stays down.
          if (reading && reading.reason !== 'no-response') best = { kind: 'answer', outcome: { state: 'down', reason: reading.reason, method: 'tcp-connect-ping' }, rttMs: undefined, attempts: 1 };
        }
        if (left === 0) report(target, best);
      });
    }
  };

  return {
    timedBy: 'self',
    lastAttemptMinWaitMs: MIN_CONNECT_WAIT_MS,
    open(engine: ProberSink): void {
      sink = engine;
      if ((options.workers ?? 0) > 0) {
        pool = new ConnectWorkerPool(options.workers as number, (error) => engine.fail(error), { netSockets: options.netSockets });
      }
    },
    prepare: () => true,
    transmit(target: ProbeTarget, series: AttemptSeries): void {
      const last = series.attempts <= 1;
      if (target.protocol === 'host') {
        ping(target, last ? series.lastTimeoutMs : series.timeoutMs);
        return;
      }
      if (pool) {
        pool.submit(target, { attempts: series.attempts, timeoutMs: series.timeoutMs, lastTimeoutMs: series.lastTimeoutMs }, (result) =>
          report(target, portResult(target, result, result.attempts)),
        );
        return;
      }
      void connectAttempt(target, last ? series.lastTimeoutMs : series.timeoutMs, active).then((attempt) => report(target, portResult(target, attempt, 1)));
    },
    busy: () => false,
    hold: (held: boolean) => pool?.hold(held),
    noResponse(target: ProbeTarget): ProbeOutcome {
      return target.protocol === 'host' ? { state: 'down', reason: 'no-response', method: 'tcp-connect-ping' } : { state: 'filtered', reason: 'no-response' };
    },
    uncountedMalformed: () => 0,
    close(): void {
      if (closed) return;
      closed = true;
      for (const cancel of [...active]) cancel();
      void pool?.close();
    },
  };
}

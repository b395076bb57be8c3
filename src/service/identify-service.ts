/**
 * Identifying the service behind one port, in nmap's order and with nmap's
 * answer, but without nmap's waits in a row: the exchanges of the plan's
 * probes start at once (at most `connections` to the host at a time, in
 * plan order), and their results are read in plan order, so the answer is
 * the one nmap's sequential walk gives. A hard match ends it (the
 * exchanges still out are aborted); a softmatch narrows the probes left to
 * those that can find its service; a TLS answer starts over through TLS
 * (`tunnel: 'ssl'`). A TCP connection the service closes, silent, within
 * the NULL probe's `tcpwrappedms` is `tcpwrapped`.
 *
 * @module
 */
import type { LimitFunction } from 'p-limit';
import { matchServiceResponse, type ServiceMatch } from './match-response.js';
import { exchange, type ExchangeResult, type ExchangeTarget } from './probe-exchange.js';
import type { ServiceProbe, ServiceProbeDatabase } from './probe-database.js';
import { probeCanFind, probesForPort } from './probe-plan.js';

/** nmap's wait for a probe without `totalwaitms`. */
export const DEFAULT_PROBE_WAIT_MS = 5000;

/** A port to identify. */
export interface ServiceTarget extends ExchangeTarget {
  readonly protocol: 'tcp' | 'udp';
}

/** What identification found. */
export interface ServiceIdentification {
  /** The match (hard or soft), or undefined when nothing matched. */
  readonly match?: ServiceMatch;
  /** `tcpwrapped`: the service closed every connection at once, silent. */
  readonly tcpwrapped?: boolean;
  /** Whether it was found through TLS. */
  readonly tls: boolean;
  /** The answers of the probes that got one and matched nothing (for a fingerprint), in plan order. */
  readonly unmatched: readonly { readonly probe: string; readonly bytes: Uint8Array }[];
  /** Probes whose exchange ran (sent), of those planned. */
  readonly probesSent: number;
}

/** Options of one identification. */
export interface IdentifyOptions {
  readonly database: ServiceProbeDatabase;
  readonly intensity: number;
  /** The host's connection limiter (shared by its ports). */
  readonly connections: LimitFunction;
  readonly signal?: AbortSignal;
}

/**
 * Identifies the service on one open port.
 *
 * @example
 * ```ts
 * const found = await identifyService({ address: '127.0.0.1', family: 4, port: 22, protocol: 'tcp' }, { database: defaultServiceProbes(), intensity: 7, connections: pLimit(4) });
 * found.match?.product; // 'OpenSSH'
 * ```
 */
export async function identifyService(target: ServiceTarget, options: IdentifyOptions): Promise<ServiceIdentification> {
  // The walk through TLS starts as soon as any answer says TLS, not when the in-order walk gets there;
  // it is used only if the in-order walk ends on that answer, so the result stays nmap's.
  const cancelTls = new AbortController();
  let tlsWalk: Promise<ServiceIdentification> | undefined;
  const startTls = (): void => {
    if (tlsWalk || target.protocol !== 'tcp') return;
    const signal = options.signal ? AbortSignal.any([options.signal, cancelTls.signal]) : cancelTls.signal;
    tlsWalk = walk(target, { ...options, signal }, true);
  };
  try {
    const plain = await walk(target, options, false, startTls);
    if (plain.match?.name === 'ssl' && !plain.match.soft && target.protocol === 'tcp') {
      startTls();
      const tls = await (tlsWalk as Promise<ServiceIdentification>);
      if (tls.match || tls.tcpwrapped) return { ...tls, probesSent: plain.probesSent + tls.probesSent };
      return { ...plain, tls: true, probesSent: plain.probesSent + tls.probesSent };
    }
    return plain;
  } finally {
    cancelTls.abort();
    if (tlsWalk) await tlsWalk.catch(() => undefined);
  }
}

async function walk(target: ServiceTarget, options: IdentifyOptions, tls: boolean, onTls?: () => void): Promise<ServiceIdentification> {
  const { database } = options;
  const plan = probesForPort(database, target.protocol, target.port, { intensity: options.intensity, tls });
  const cut = new AbortController();
  const signals = options.signal ? AbortSignal.any([options.signal, cut.signal]) : cut.signal;
  const matchOf = (probe: ServiceProbe, bytes: Uint8Array): ServiceMatch | undefined => matchServiceResponse(database, probe.name, bytes, { protocol: target.protocol });
  let sent = 0;
  const running: Promise<ExchangeResult>[] = plan.map((probe) =>
    options.connections(() => {
      if (signals.aborted) return Promise.resolve<ExchangeResult>({ bytes: new Uint8Array(), end: 'aborted', elapsedMs: 0 });
      sent++;
      return exchange(target, {
        protocol: target.protocol,
        payload: probe.payload,
        waitMs: probe.totalWaitMs ?? DEFAULT_PROBE_WAIT_MS,
        tls,
        signal: signals,
        complete: (bytes) => {
          const match = matchOf(probe, bytes);
          if (match?.name === 'ssl' && !match.soft) onTls?.();
          return match !== undefined && !match.soft;
        },
      });
    }),
  );
  const unmatched: { probe: string; bytes: Uint8Array }[] = [];
  let soft: ServiceMatch | undefined;
  try {
    for (let i = 0; i < plan.length; i++) {
      const probe = plan[i] as ServiceProbe;
      if (soft && !probeCanFind(probe, soft.name)) continue;
      const result = await (running[i] as Promise<ExchangeResult>);
      if (options.signal?.aborted) break;
      if (result.end === 'failed' && i === 0) break; // the port does not take connections (any more): nothing to learn
      if (result.bytes.length === 0) {
        if (probe.name === 'NULL' && result.end === 'closed' && result.elapsedMs <= (probe.tcpWrappedMs ?? 0)) {
          return { tcpwrapped: true, tls, unmatched, probesSent: sent };
        }
        continue;
      }
      const match = matchOf(probe, result.bytes);
      if (match && !match.soft) return { match, tls, unmatched, probesSent: sent };
      if (match && !soft) soft = match;
      else if (!match) unmatched.push({ probe: probe.name, bytes: result.bytes });
    }
  } finally {
    cut.abort();
    // Exchanges still queued or out settle as aborted; wait so nothing is left open.
    await Promise.allSettled(running);
  }
  return soft ? { match: soft, tls, unmatched, probesSent: sent } : { tls, unmatched, probesSent: sent };
}

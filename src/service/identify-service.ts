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
import { setMaxListeners } from 'node:events';
import type { ConnectionSlots } from './connection-slots.js';
import { matchResponse, type MatchOutcome, type ServiceMatch } from './match-response.js';
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
  /** Every answer read, in plan order, with its probe (through TLS when `tls`): what nmap's submission fingerprint records. */
  readonly responses: readonly { readonly probe: string; readonly bytes: Uint8Array }[];
  /** Probes whose exchange ran (sent), of those planned. */
  readonly probesSent: number;
  /**
   * Rules that ran past the matching budget (counted as no match) on the
   * answers the in-order walk read before it decided, with where they are
   * written: not those of answers checked early and then not needed.
   */
  readonly overBudget: readonly { readonly source: string; readonly line: number }[];
}

/** Options of one identification. */
export interface IdentifyOptions {
  readonly database: ServiceProbeDatabase;
  readonly intensity: number;
  /** The host's connections (shared by its ports, handed out by plan position). */
  readonly connections: ConnectionSlots;
  /** Each pattern's time budget in ms (default: `DEFAULT_MATCH_BUDGET_MS`). */
  readonly budgetMs?: number;
  /** Called as each probe's exchange starts (progress counting). */
  readonly onProbe?: () => void;
  readonly signal?: AbortSignal;
}

/**
 * Identifies the service on one open port.
 *
 * @example
 * ```ts
 * const found = await identifyService({ address: '127.0.0.1', family: 4, port: 22, protocol: 'tcp' }, { database: defaultServiceProbes(), intensity: 7, connections: new ConnectionSlots(4) });
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
      const spent = { probesSent: plain.probesSent + tls.probesSent, overBudget: [...plain.overBudget, ...tls.overBudget] };
      if (tls.match || tls.tcpwrapped) return { ...tls, ...spent };
      // ssl, and nothing known through it: the answers that came through TLS are the fingerprint's (nmap's T=SSL).
      return { ...plain, tls: true, responses: tls.responses, ...spent };
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
  // The answer checked while it arrives is the answer read in order, mostly: match it once.
  const checked = new Map<ServiceProbe, { length: number; outcome: Promise<MatchOutcome> }>();
  const overBudget = new Set<{ readonly source: string; readonly line: number }>();
  // `walked`: the in-order walk reads this answer, so the rules that ran out of budget on it count.
  // Matching is given up with the identification (options.signal): its queued requests are dropped.
  const matchOf = async (probe: ServiceProbe, bytes: Uint8Array, priority: number, walked: boolean): Promise<ServiceMatch | undefined> => {
    let entry = checked.get(probe);
    if (!entry || entry.length !== bytes.length) {
      const matchOptions = withBudget({ protocol: target.protocol, priority, ...(options.signal ? { signal: options.signal } : {}) }, options.budgetMs);
      entry = { length: bytes.length, outcome: matchResponse(database, probe.name, bytes, matchOptions) };
      checked.set(probe, entry);
    }
    let outcome: MatchOutcome;
    try {
      outcome = await entry.outcome;
    } catch (error) {
      if (options.signal?.aborted) return undefined;
      throw error;
    }
    if (walked) for (const rule of outcome.overBudget) overBudget.add(rule);
    return outcome.match;
  };
  const rulesOver = (): { source: string; line: number }[] => [...overBudget].map(({ source, line }) => ({ source, line }));
  let sent = 0;
  setMaxListeners(2 * plan.length + 16, signals);
  const notSent: ExchangeResult = { bytes: new Uint8Array(), end: 'aborted', elapsedMs: 0 };
  // A hard match at position k makes the answers after k moot for the in-order walk, unless an
  // earlier softmatch skips k: the exchanges after k are cut (freeing the host's connections), and
  // one the walk turns out to need after all is run again.
  const cuts: (AbortController | undefined)[] = [];
  const launch = (position: number): Promise<ExchangeResult> => {
    const probe = plan[position] as ServiceProbe;
    const own = new AbortController();
    cuts[position] = own;
    const signal = AbortSignal.any([signals, own.signal]);
    return options.connections
      .run(
        position,
        () => {
          if (signal.aborted) return Promise.resolve(notSent);
          sent++;
          options.onProbe?.();
          return exchange(target, {
            protocol: target.protocol,
            payload: probe.payload,
            waitMs: probe.totalWaitMs ?? DEFAULT_PROBE_WAIT_MS,
            tls,
            signal,
            complete: async (bytes) => {
              const match = await matchOf(probe, bytes, position, false);
              // A check that resolves after the walk passed this position cuts nothing.
              if (match && !match.soft && position >= read) cutAfter(position);
              if (match?.name === 'ssl' && !match.soft) onTls?.();
              return match !== undefined && !match.soft;
            },
          });
        },
        signal,
      )
      .catch(() => notSent);
  };
  let read = 0;
  const cutAfter = (position: number): void => {
    for (let i = Math.max(position, read) + 1; i < plan.length; i++) cuts[i]?.abort();
  };
  const running: Promise<ExchangeResult>[] = plan.map((_, position) => launch(position));
  const responses: { probe: string; bytes: Uint8Array }[] = [];
  let soft: ServiceMatch | undefined;
  try {
    for (let i = 0; i < plan.length; i++) {
      const probe = plan[i] as ServiceProbe;
      read = i;
      if (soft && !probeCanFind(probe, soft.name)) {
        cuts[i]?.abort(); // skipped: its exchange need not hold a connection
        continue;
      }
      let result = await (running[i] as Promise<ExchangeResult>);
      if (options.signal?.aborted) break;
      if (result.end === 'aborted' && cuts[i]?.signal.aborted) result = await (running[i] = launch(i));
      if (options.signal?.aborted) break;
      if (result.end === 'failed' && i === 0) break; // the port does not take connections (any more): nothing to learn
      if (result.bytes.length === 0) {
        if (probe.name === 'NULL' && result.end === 'closed' && result.elapsedMs <= (probe.tcpWrappedMs ?? 0)) {
          return { tcpwrapped: true, tls, responses, probesSent: sent, overBudget: rulesOver() };
        }
        continue;
      }
      responses.push({ probe: probe.name, bytes: result.bytes });
      const match = await matchOf(probe, result.bytes, i, true);
      if (options.signal?.aborted) break;
      if (match && !match.soft) return { match, tls, responses, probesSent: sent, overBudget: rulesOver() };
      if (match && !soft) soft = match;
    }
  } finally {
    cut.abort();
    // Exchanges still queued or out settle as aborted; wait so nothing is left open.
    await Promise.allSettled(running);
  }
  const spent = { tls, responses, probesSent: sent, overBudget: rulesOver() };
  return soft ? { match: soft, ...spent } : spent;
}

/** Match options with the budget, when one is given. */
function withBudget<T extends object>(options: T, budgetMs: number | undefined): T & { readonly budgetMs?: number } {
  return budgetMs === undefined ? options : { ...options, budgetMs };
}

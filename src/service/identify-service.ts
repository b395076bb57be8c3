/**
 * Identifying the service behind one port, in nmap's order and with nmap's
 * answer, but without nmap's waits in a row: the exchanges of the plan's
 * probes start at once (at most `connections` at a time, in plan order),
 * and their results are read in plan order, so the answer is the one
 * nmap's sequential walk gives. A hard match ends it (the
 * exchanges still out are aborted); a softmatch narrows the probes left to
 * those that can find its service; a TLS answer starts over through TLS
 * (`tunnel: 'ssl'`), whose NULL probe is sent ahead (at once on a port in
 * a probe's `sslports`). A TCP connection the service closes, silent, within
 * the NULL probe's `tcpwrappedms` is `tcpwrapped`.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import type { ConnectionSlots } from './connection-slots.js';
import { matchResponse, type MatchOutcome, type ServiceMatch } from './match-response.js';
import { exchange, type ExchangeResult, type ExchangeTarget } from './probe-exchange.js';
import { inPortRanges, type ServiceProbe, type ServiceProbeDatabase } from './probe-database.js';
import { translationProgress } from './probe-file.js';
import { isExcluded, probeCanFind, probesForPort } from './probe-plan.js';

/** nmap's wait for a probe without `totalwaitms`. */
export const DEFAULT_PROBE_WAIT_MS = 5000;

/**
 * How long after a port's first probe its later probes join the host's
 * queue for connections: time for the other ports a scan reports at the
 * same moment to queue their first probes ahead of them.
 */
export const LATER_PROBES_AFTER_MS = 20;

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
  /** The probes (their `matches` may still be being filled while `translated` is pending). */
  readonly database: ServiceProbeDatabase;
  /**
   * Settles when every pattern of `database` is translated (and matching is
   * prepared): answers are matched only then. Absent: the database is
   * complete, or it is a database that `loadServiceProbes` is still loading,
   * whose answers are matched as soon as the rules they need are translated
   * (the same answers).
   */
  readonly translated?: PromiseLike<void>;
  readonly intensity: number;
  /** The port's connections (its own limit inside its host's, which its host's ports share; handed out by plan position). */
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
  // The walk through TLS starts before the in-order walk gets there: its NULL probe (the longest
  // wait) at once on a port some probe's sslports lists, or else as soon as an answer looks like a
  // TLS record; the rest once an answer matches ssl. It is
  // used only if the in-order walk ends on an ssl match, so the result stays nmap's; otherwise it
  // is closed when the in-order walk ends.
  const cancelTls = new AbortController();
  let tlsWalk: Promise<ServiceIdentification> | undefined;
  let openTls: () => void = () => undefined;
  const headStart = (confirmed: boolean): void => {
    if (target.protocol !== 'tcp') return;
    if (!tlsWalk) {
      const signal = options.signal ? AbortSignal.any([options.signal, cancelTls.signal]) : cancelTls.signal;
      const gate = new Promise<void>((resolve) => (openTls = resolve));
      tlsWalk = walk(target, { ...options, signal }, true, undefined, gate);
    }
    if (confirmed) openTls();
  };
  try {
    const plainWalk = walk(target, options, false, headStart);
    // A port that a probe's sslports lists: the walk through TLS (its NULL probe) starts at once,
    // queued right after the plain walk's first probe, instead of when an answer looks like TLS.
    if (listedForTls(options.database, target)) headStart(false);
    const plain = await plainWalk;
    if (plain.match?.name === 'ssl' && !plain.match.soft && target.protocol === 'tcp') {
      headStart(true);
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

/**
 * Whether a TCP port is listed in the `sslports` of one of the database's
 * probes: a port where nmap expects TLS, whose walk through TLS (its NULL
 * probe, the longest wait) detection starts at once rather than when an
 * answer looks like TLS. Only a hint about where to spend a connection
 * early: the walk is used only if the plain walk ends on an ssl match.
 *
 * @example
 * ```ts
 * listedForTls(database, { port: 8443, protocol: 'tcp' }); // true with nmap's file (GetRequest's sslports)
 * ```
 */
export function listedForTls(database: ServiceProbeDatabase, target: { readonly port: number; readonly protocol: 'tcp' | 'udp' }): boolean {
  if (target.protocol !== 'tcp' || isExcluded(database, 'tcp', target.port)) return false;
  return database.probes.some((probe) => probe.protocol === 'tcp' && !probe.noPayload && inPortRanges(probe.sslPorts, target.port));
}

/**
 * Whether an answer begins like a TLS record a server sends first: an alert
 * (21) or a handshake (22), record version 3.0-3.4 (SSL 3.0 to TLS 1.3).
 * Only a hint, to start the TLS connection early; the match decides.
 *
 * @example
 * ```ts
 * looksLikeTls(Uint8Array.of(0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46)); // true (a protocol_version alert)
 * ```
 */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03 && (bytes[2] as number) <= 0x04;
}

/**
 * One in-order walk through the port's plan, plain or through TLS.
 * `onTls(false)`: an answer looks like TLS; `onTls(true)`: one matched ssl.
 * With `gate`, only the first probe starts before the gate opens (a
 * speculative walk through TLS: one connection until an ssl match).
 */
async function walk(target: ServiceTarget, options: IdentifyOptions, tls: boolean, onTls?: (confirmed: boolean) => void, gate?: Promise<void>): Promise<ServiceIdentification> {
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
      // Matching waits for the patterns (a database still loading): the answer is kept until then.
      if (options.translated) {
        try {
          await options.translated;
        } catch (error) {
          if (options.signal?.aborted) return undefined;
          throw error;
        }
        entry = checked.get(probe);
      }
    }
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
  const laterProbes = new Promise<void>((resolve) => setTimeout(resolve, LATER_PROBES_AFTER_MS));
  const launch = (position: number): Promise<ExchangeResult> => {
    const probe = plan[position] as ServiceProbe;
    const own = new AbortController();
    cuts[position] = own;
    const signal = AbortSignal.any([signals, own.signal]);
    const start = (): Promise<ExchangeResult> =>
      options.connections
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
                if (onTls && looksLikeTls(bytes)) onTls(false);
                const match = await matchOf(probe, bytes, position, false);
                // A check that resolves after the walk passed this position cuts nothing.
                if (match && !match.soft && position >= read) cutAfter(position);
                if (match?.name === 'ssl' && !match.soft) onTls?.(true);
                return match !== undefined && !match.soft;
              },
            });
          },
          signal,
        )
        .catch(() => notSent);
    if (position === 0) return start();
    // The later probes queue a little after the first (LATER_PROBES_AFTER_MS): the first probes of
    // the other ports starting now (a scan reports them together) queue before them, and get the
    // host's connections first. A speculative walk's later probes also wait for its gate.
    const ready = gate === undefined ? laterProbes : Promise.all([laterProbes, gate]);
    return Promise.race([ready, whenAborted(signal)]).then(() => (signal.aborted ? notSent : start()));
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
      // Which probes can find the softmatched service is read from their rules: all of them (a load under way).
      if (soft) await rulesOf(database, probe);
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

/** Resolves once every rule of `probe` is translated (at once unless the database is still loading). */
async function rulesOf(database: ServiceProbeDatabase, probe: ServiceProbe): Promise<void> {
  const progress = translationProgress(database);
  while (progress && !progress.done && !progress.complete(probe)) await progress.next();
}

/** Resolves when `signal` aborts. */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Match options with the budget, when one is given. */
function withBudget<T extends object>(options: T, budgetMs: number | undefined): T & { readonly budgetMs?: number } {
  return budgetMs === undefined ? options : { ...options, budgetMs };
}

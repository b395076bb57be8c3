/**
 * OS detection (nmap's `-O`) over a scanner's events, or over a SYN scan it
 * runs: the scan's events pass through unchanged; when the scan is done,
 * each host with an open TCP port gets one round of nmap's OS probes (the
 * lowest open and closed ports, as nmap picks them), and an `os` event with
 * its fingerprint and, given a database, nmap's guesses. The scan's `done`
 * comes last.
 *
 * @module
 */
import pLimit from 'p-limit';
import { PortscoutError } from '../errors.js';
import { tcpSynScan, type ScanEvent, type SynScanOptions } from '../scan/index.js';
import { lazyGenerator } from '../scan/lazy-generator.js';
import { checkNumberOption } from '../scan/option-check.js';
import { resolveTiming } from '../transport/timing.js';
import { formatOsTests } from './fingerprint.js';
import { computeOsFingerprint } from './os-fingerprint.js';
import type { OsDatabase } from './os-database.js';
import type { OsDetectionEvent, OsEvent, OsReason } from './os-event.js';
import { matchOsFingerprint, OS_GUESS_THRESHOLD } from './os-match.js';
import { OsProbeRunner, type OsRunTarget } from './os-probe-run.js';
import { notePassiveEvidence, passiveOsHint, type PassiveOsEvidence } from './os-hint.js';

/**
 * Options of {@link detectOs}: `from` (a scanner's events) or the SYN
 * scan's own options (`targets`, `ports`, `skipDiscovery`, `timing`, ...),
 * and detection's.
 *
 * @example
 * ```ts
 * const options: DetectOsOptions = { from: tcpSynScan({ targets: '198.18.1.10', ports: '1-1024' }), database };
 * ```
 */
export interface DetectOsOptions<E extends { readonly type: string } = ScanEvent> extends Partial<SynScanOptions> {
  /**
   * A scanner's event stream (or `detectServices`' events, whose OS types and
   * CPEs then count as passive evidence); without it, a SYN scan of
   * `targets` and `ports` runs first (recording SYN/ACK options).
   */
  readonly from?: AsyncIterable<E>;
  /** Only the passive hint (`hint`), from the stream's own replies: no probe is sent, no raw socket needed. */
  readonly passive?: boolean;
  /** A database in the `nmap-os-db` format (`loadOsDatabase`); without one the fingerprint is not matched. */
  readonly database?: OsDatabase;
  /** Hosts probed at once (default 16). */
  readonly hostConcurrency?: number;
  /** The accuracy a match needs, 0..1 (default 0.85, nmap's). */
  readonly threshold?: number;
}

const OS_OPTION_NAMES = new Set(['from', 'database', 'hostConcurrency', 'threshold', 'passive']);

/** What the scan said about a host: enough to pick nmap's ports. */
interface HostPorts {
  family: 4 | 6;
  open?: number;
  closed?: number;
  closedUdp?: number;
  down: boolean;
}

function checkOptions<E extends { readonly type: string }>(options: DetectOsOptions<E>): void {
  if (typeof options !== 'object' || options === null) throw new PortscoutError('ERR_INVALID_OPTION', `detectOs needs an options object (from, or targets and ports); got ${String(options)}.`);
  checkNumberOption('hostConcurrency', options.hostConcurrency, { min: 1, integer: true, unit: 'hosts at once' });
  checkNumberOption('threshold', options.threshold, { min: 0, max: 1, unit: 'fraction of the points' });
  if (options.passive !== undefined && typeof options.passive !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', `Option passive must be a boolean; got ${typeof options.passive}.`);
  if (options.from !== undefined && (typeof options.from !== 'object' || options.from === null || !(Symbol.asyncIterator in options.from))) {
    throw new PortscoutError('ERR_INVALID_OPTION', "Invalid from: expected an async iterable of scan events (a scanner's result).");
  }
  if (options.from === undefined && options.targets === undefined) throw new PortscoutError('ERR_INVALID_OPTION', "detectOs needs from (a scanner's events) or targets to scan.");
  if (options.database !== undefined && (typeof options.database !== 'object' || options.database === null || !Array.isArray(options.database.entries) || !(options.database.matchPoints instanceof Map))) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Invalid database: expected a database from parseOsDatabase() or loadOsDatabase().');
  }
}

/** Remembers, per host, the lowest open and closed TCP ports and the lowest closed UDP port. */
function notePorts(hosts: Map<string, HostPorts>, event: ScanEvent): void {
  if (event.type !== 'port' && event.type !== 'host') return;
  let host = hosts.get(event.address);
  if (!host) {
    host = { family: event.family, down: false };
    hosts.set(event.address, host);
  }
  if (event.type === 'host') {
    host.down = event.status === 'down';
    return;
  }
  const lower = (current: number | undefined, port: number): number => (current === undefined || (port !== 0 && (current === 0 || port < current)) ? port : current);
  if (event.protocol === 'tcp' && event.state === 'open') host.open = lower(host.open, event.port);
  else if (event.protocol === 'tcp' && event.state === 'closed') host.closed = lower(host.closed, event.port);
  else if (event.protocol === 'udp' && event.state === 'closed') host.closedUdp = lower(host.closedUdp, event.port);
}

/** A random high port, as nmap picks one when it knows no closed port: 30000-44780. */
const randomHighPort = (): number => 30_000 + Math.floor(Math.random() * 14_781);

function isPrivate(address: string): boolean {
  const [a, b] = address.split('.').map(Number) as [number, number];
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** nmap's `SCAN(...)` line, with portscout as the engine. */
function scanLine(address: string, target: OsRunTarget, distance: number | undefined, good: boolean): string {
  const now = new Date();
  const parts = [
    'V=portscout',
    'E=4',
    `D=${now.getMonth() + 1}/${now.getDate()}`,
    `OT=${target.openPort ?? ''}`,
    `CT=${target.closedPortKnown ? target.closedPort : ''}`,
    `CU=${target.closedUdpPort}`,
    `PV=${isPrivate(address) ? 'Y' : 'N'}`,
    ...(distance !== undefined ? [`DS=${distance}`, 'DC=I'] : []),
    `G=${good ? 'Y' : 'N'}`,
    `TM=${Math.floor(now.getTime() / 1000).toString(16).toUpperCase()}`,
    'P=portscout',
  ];
  return `SCAN(${parts.join('%')})`;
}

/**
 * OS detection (nmap's `-O`, IPv4): nmap's second-generation probes, the
 * fingerprint in nmap's text form, and, given a database in the
 * `nmap-os-db` format, the matches nmap would list, with the same
 * accuracies. Needs raw sockets (root or CAP_NET_RAW).
 *
 * @example
 * ```ts
 * const { database } = await loadOsDatabase('/usr/share/nmap/nmap-os-db');
 * for await (const event of detectOs({ targets: '127.0.0.1', ports: '22,1', skipDiscovery: true, database })) {
 *   if (event.type === 'os') console.log(event.matches[0]?.name, event.matches[0]?.accuracy);
 * }
 * ```
 */
export function detectOs<E extends { readonly type: string } = ScanEvent>(options: DetectOsOptions<E>): AsyncGenerator<OsDetectionEvent<E>, void, undefined> {
  checkOptions(options);
  return lazyGenerator(() => osEvents(options));
}

async function* osEvents<E extends { readonly type: string }>(options: DetectOsOptions<E>): AsyncGenerator<OsDetectionEvent<E>, void, undefined> {
  const scanOptions = Object.fromEntries(Object.entries(options).filter(([key]) => !OS_OPTION_NAMES.has(key))) as unknown as SynScanOptions;
  const from = options.from ?? (tcpSynScan({ tcpOptions: true, ...scanOptions }) as AsyncIterable<ScanEvent> as AsyncIterable<E>);
  const hosts = new Map<string, HostPorts>();
  const passive = new Map<string, PassiveOsEvidence>();
  let done: E | undefined;
  for await (const event of from) {
    if (event.type === 'done') {
      done = event;
      break;
    }
    notePorts(hosts, event as unknown as ScanEvent);
    notePassiveEvidence(passive, event as unknown as Parameters<typeof notePassiveEvidence>[1]);
    yield event;
  }
  options.signal?.throwIfAborted();
  const wanted = [...hosts].filter(([, host]) => !host.down);
  if (wanted.length > 0) {
    const runner = !options.passive && needsRunner(wanted) ? new OsProbeRunner(resolveTiming({ ...(options.timing ? { timing: options.timing } : {}), ...(options.timingOverrides ? { overrides: options.timingOverrides } : {}) })) : undefined;
    try {
      const limit = pLimit(options.hostConcurrency ?? 16);
      const results: Promise<OsEvent>[] = wanted.map(([address, host]) =>
        limit(async () => {
          const hint = passiveOsHint(passive.get(address) ?? {});
          const event = options.passive ? passiveOnly(address, host) : await detectHost(runner, address, host, options);
          return hint ? { ...event, hint } : event;
        }),
      );
      // Events in the hosts' order; each is yielded as soon as it and those before it are known.
      // A consumer that leaves early closes the runner: the rounds still running then reject, unread.
      for (const result of results) result.catch(() => {});
      for (const result of results) yield await result;
    } finally {
      runner?.close();
    }
  }
  if (done) yield done;
}

/** The `os` event of `passive: true`: nothing sent; the hint is added by the caller. */
function passiveOnly(address: string, host: HostPorts): OsEvent {
  return { type: 'os', family: host.family, address, ports: {}, matches: [], perfect: false, reasons: ['passive'], probesSent: 0, dropped: 0, elapsedMs: 0 };
}

function needsRunner(hosts: readonly [string, HostPorts][]): boolean {
  return hosts.some(([, host]) => host.family === 4 && host.open !== undefined);
}

async function detectHost<E extends { readonly type: string }>(runner: OsProbeRunner | undefined, address: string, host: HostPorts, options: DetectOsOptions<E>): Promise<OsEvent> {
  const base = { type: 'os' as const, family: host.family, address };
  const empty = { matches: [], perfect: false, probesSent: 0, dropped: 0, elapsedMs: 0 };
  if (host.family === 6) return { ...base, ports: {}, reasons: ['ipv6-unsupported'], ...empty };
  const reasons: OsReason[] = [];
  if (host.closed === undefined) reasons.push('no-closed-port');
  if (host.open === undefined || !runner) {
    return { ...base, ports: { ...(host.closed !== undefined ? { closed: host.closed } : {}) }, reasons: ['no-open-port', ...reasons], ...empty };
  }
  const target: OsRunTarget = {
    address,
    openPort: host.open,
    closedPort: host.closed ?? randomHighPort(),
    closedPortKnown: host.closed !== undefined,
    closedUdpPort: host.closedUdp ?? randomHighPort(),
  };
  const run = await runner.run(target, options.signal);
  const computed = computeOsFingerprint(run.round, run.replies);
  if (!run.replies.u1) reasons.push('no-udp-reply');
  if (computed.seqResponses < 3) reasons.push('too-few-replies');
  if (run.neverSent.length > 0) reasons.push('send-error');
  const guessing = !reasons.includes('too-few-replies') && !reasons.includes('send-error');
  if (!options.database) reasons.push('no-database');
  const matches = guessing && options.database ? await matchOsFingerprint(options.database, computed.tests, { threshold: options.threshold ?? OS_GUESS_THRESHOLD, ...(options.signal ? { signal: options.signal } : {}) }) : [];
  const fingerprint = `${scanLine(address, target, computed.distance, reasons.length === 0 || (reasons.length === 1 && reasons[0] === 'no-database'))}\n${formatOsTests(computed.tests)}`;
  return {
    ...base,
    ports: { open: target.openPort!, closed: target.closedPort, closedUdp: target.closedUdpPort },
    fingerprint,
    tests: computed.tests,
    matches,
    perfect: matches[0]?.score === 1,
    ...(computed.distance !== undefined ? { distance: computed.distance } : {}),
    reasons,
    probesSent: run.probesSent,
    dropped: run.dropped,
    elapsedMs: run.elapsedMs,
  };
}

/**
 * The output layer's fold: a scan's event stream (a scanner's, or
 * `detectServices`') turned into one report per host, each handed on as soon
 * as the host is known complete, so the formatters (nmap XML, normal,
 * grepable) write results while the scan runs.
 *
 * When a host is complete, from the events alone:
 *
 * - a `host` event says it is down (a down host is never port-scanned);
 * - a discovery-only scan (`start.protocols` is `['host']`): at its `host` event;
 * - a port scan: once it has a `port` event for every port of the `start`
 *   event's port lists and, with `serviceDetection`, a `service` event for
 *   every port service detection identifies (open TCP ports, open and
 *   open|filtered UDP ports). A sharded or resumed scan gives a host fewer
 *   ports than the lists: such hosts, and hosts whose host timeout ran out
 *   (`HOST_TIMEOUT`), are complete at the end of the stream;
 * - at `done`, when the stream ends, or when it throws (an abort): every host
 *   not yet written, in the order they first appeared.
 *
 * Scans report ports in the order answers come, not in plan order, so the
 * fold never guesses completion from the order of events.
 *
 * @module
 */
import type { Writable } from 'node:stream';
import { PortscoutError } from '../errors.js';
import type { HostEvent, PortEvent, PortState, ProgressEvent, ScanStats, StartEvent, WarningEvent } from '../scan/index.js';
import { checkNumberOption, checkOptionNames } from '../scan/option-check.js';
import { SERVICE_FINGERPRINT_VERSION, type DetectionEvent, type ServiceEvent, type VersionFields } from '../service/index.js';
import { builtinServices, ServiceTable } from '../targets/index.js';
import { nmapGuesses, type OsEvent, type OsHint, type OsMatch, type OsReason } from '../os/index.js';
import type { TextSink } from './json-lines.js';

/**
 * portscout's version, as its reports name it (nmap XML's `version`, the
 * header and footer lines of normal and grepable output).
 *
 * @example
 * ```ts
 * console.log(`portscout ${PORTSCOUT_VERSION}`);
 * ```
 */
export const PORTSCOUT_VERSION: string = SERVICE_FINGERPRINT_VERSION.replace(/^portscout-/, '');

/**
 * nmap folds a port state into an `extraports` summary when more than this
 * many ports have it (times `verbose + 1` with `verbose`).
 *
 * @example
 * ```ts
 * const folded = closedCount > EXTRAPORTS_THRESHOLD;
 * ```
 */
export const EXTRAPORTS_THRESHOLD = 25;

/**
 * A host name of a report: the one the user gave (`user`) or the reverse-DNS
 * name (`PTR`), as nmap XML's `<hostname type>`.
 *
 * @example
 * ```ts
 * const names: HostName[] = [{ name: 'scanme.example', type: 'user' }];
 * ```
 */
export interface HostName {
  readonly name: string;
  readonly type: 'user' | 'PTR';
}

/**
 * A port's service in a report: from a `service` event, or the services
 * table's name for the port (`method: 'table'`, confidence 3), as nmap lists
 * table names without `-sV`.
 *
 * @example
 * ```ts
 * const ssh: ServiceReport = { name: 'ssh', product: 'OpenSSH', version: '9.2p1', method: 'probed', confidence: 10, cpe: ['cpe:/a:openbsd:openssh:9.2p1'] };
 * ```
 */
export interface ServiceReport extends VersionFields {
  readonly name: string;
  readonly tunnel?: 'ssl';
  readonly method: 'probed' | 'table';
  /** nmap's `conf`, 0-10. */
  readonly confidence: number;
  /** nmap's submission fingerprint of a port that answered but got no hard match. */
  readonly fingerprint?: string;
}

/**
 * One port of a report.
 *
 * @example
 * ```ts
 * const port: PortReport = { protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', reasonTtl: 64 };
 * ```
 */
export interface PortReport {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly state: PortState;
  /** nmap's reason word (`syn-ack`, `reset`, `no-response`, ...). */
  readonly reason: string;
  /** TTL of the deciding reply; 0 when there was none or it is not known (IPv6). */
  readonly reasonTtl: number;
  /** Address of the deciding reply when it is not the target's (a router's ICMP error). */
  readonly reasonIp?: string;
  readonly service?: ServiceReport;
}

/**
 * Ports of one folded state that share a reason and protocol (nmap's `<extrareasons>`).
 *
 * @example
 * ```ts
 * const resets: ExtraReasons = { reason: 'reset', protocol: 'tcp', count: 2, ports: [23, 24] };
 * ```
 */
export interface ExtraReasons {
  readonly reason: string;
  readonly protocol: 'tcp' | 'udp';
  readonly count: number;
  /** The ports, ascending. */
  readonly ports: readonly number[];
}

/**
 * Ports not listed one by one because many share their state (nmap's `<extraports>`, "Not shown: ...").
 *
 * @example
 * ```ts
 * const closed: ExtraPorts = { state: 'closed', count: 2, reasons: [{ reason: 'reset', protocol: 'tcp', count: 2, ports: [23, 24] }] };
 * ```
 */
export interface ExtraPorts {
  readonly state: PortState;
  readonly count: number;
  /** By count, most first. */
  readonly reasons: readonly ExtraReasons[];
}

/**
 * Everything the events said about one host.
 *
 * @example
 * ```ts
 * for await (const event of reportHosts(scan)) {
 *   if (event.type === 'host') console.log(event.host.address, event.host.status, event.host.listed.length);
 * }
 * ```
 */
export interface HostReport {
  readonly address: string;
  readonly family: 4 | 6;
  readonly status: 'up' | 'down';
  /** Why: the `host` event's reason, or `user-set` when discovery was skipped. */
  readonly reason: string;
  readonly reasonTtl: number;
  readonly reasonIp?: string;
  /** The name the user gave first, then the PTR name. */
  readonly hostnames: readonly HostName[];
  /** Smoothed round-trip time of the host's answers (as TCP smooths it: 7/8 old, 1/8 new), when any carried one. */
  readonly latencyMs?: number;
  /** Every port reported, TCP then UDP, ascending. */
  readonly ports: readonly PortReport[];
  /** The ports listed one by one: those whose state is not folded. */
  readonly listed: readonly PortReport[];
  /** The folded states, most ports first (nmap's order). */
  readonly extraPorts: readonly ExtraPorts[];
  /** The host's time ran out (`HOST_TIMEOUT`): nmap writes no ports for such a host. */
  readonly timedOut: boolean;
  /** Whether nmap would print this host with these options: down hosts only with `verbose`, hosts without open ports not with `openOnly`. */
  readonly shown: boolean;
  /** False when the host was written at the end of the stream without being known complete (an abort, a shard, a timeout). */
  readonly complete: boolean;
  /** Clock times (ms since the epoch) of the host's first and last event. */
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** What OS detection (`detectOs`) found, when its `os` event came. */
  readonly os?: OsReport;
}

/**
 * A host's OS detection in a report: the guesses nmap shows (`nmapGuesses`:
 * the first ten within 10 points of the best) and what goes with them.
 *
 * @example
 * ```ts
 * if (host.os?.perfect) console.log(`OS details: ${host.os.matches[0]!.name}`);
 * ```
 */
export interface OsReport {
  readonly matches: readonly OsMatch[];
  readonly perfect: boolean;
  readonly fingerprint?: string;
  readonly distance?: number;
  readonly reasons: readonly OsReason[];
  readonly ports: OsEvent['ports'];
  readonly hint?: OsHint;
}

/**
 * The events the formatters read: a scanner's, `detectServices`' (`service`)
 * and `detectOs`' (`os`).
 *
 * @example
 * ```ts
 * const events: AsyncIterable<ReportInputEvent> = detectOs({ from: detectServices({ from: tcpSynScan(options) }) });
 * ```
 */
export type ReportInputEvent = DetectionEvent | OsEvent;

/**
 * What the report knows when the first event arrives.
 *
 * @example
 * ```ts
 * const begin: ReportBegin = { startedAt: Date.now(), serviceDetection: false, verbose: 0 };
 * ```
 */
export interface ReportBegin {
  /** The scan's `start` event; absent when the stream did not open with one. */
  readonly start?: StartEvent;
  /** `start.startedAt`, or the clock when there was no start event. */
  readonly startedAt: number;
  readonly serviceDetection: boolean;
  /** Whether the events come from `detectOs` (the `osDetection` option, or an `os` event that came late). */
  readonly osDetection?: boolean;
  /** The `verbose` level the report was folded with. */
  readonly verbose: number;
}

/**
 * How the report ended.
 *
 * @example
 * ```ts
 * if (summary.exit === 'error') console.error(summary.errorMessage);
 * ```
 */
export interface ReportSummary {
  /** `success` when the scan's `done` came; `error` when the stream threw or ended without it. */
  readonly exit: 'success' | 'error';
  readonly errorMessage?: string;
  /** Clock time at the end. */
  readonly endedAt: number;
  /** `endedAt - startedAt`. */
  readonly elapsedMs: number;
  /**
   * Hosts up (every one reported up), down and in total. After `done`,
   * total is the `start` event's planned hosts and down the rest; after an
   * error, the hosts the events named.
   */
  readonly hosts: { readonly up: number; readonly down: number; readonly total: number };
  /** The `done` event's statistics. */
  readonly stats?: ScanStats;
  readonly serviceDetection: boolean;
  readonly osDetection?: boolean;
}

/**
 * What {@link reportHosts} yields: `begin` first, then hosts as they complete
 * (with the scan's progress and warnings between them), `end` last.
 *
 * @example
 * ```ts
 * const event: ReportEvent = { type: 'begin', begin: { startedAt: 0, serviceDetection: false, verbose: 0 } };
 * ```
 */
export type ReportEvent =
  | { readonly type: 'begin'; readonly begin: ReportBegin }
  | { readonly type: 'host'; readonly host: HostReport }
  | { readonly type: 'progress'; readonly progress: ProgressEvent; /** Clock time it was read. */ readonly at: number }
  | { readonly type: 'warning'; readonly warning: WarningEvent }
  | { readonly type: 'end'; readonly summary: ReportSummary };

/**
 * Options of {@link reportHosts} (and of every formatter).
 *
 * @example
 * ```ts
 * const options: HostReportOptions = { serviceDetection: true, verbose: 1 };
 * ```
 */
export interface HostReportOptions {
  /**
   * The events come from `detectServices` (nmap's `-sV`): a host is complete
   * only when each port it identifies has its `service` event, and the
   * formatters show service detection's columns. Without it a host is
   * written as soon as its ports are in: a `service` event that comes after
   * its host was written cannot be added. The fold then holds every later
   * host for its services, and the report ends with exit `error` and
   * `ERR_INVALID_OPTION` naming the option (the documents are complete but
   * for those services). Default false.
   */
  readonly serviceDetection?: boolean;
  /**
   * The events come from `detectOs` (nmap's `-O`): a host that is up is
   * complete only with its `os` event (which comes after the port scan), and
   * the formatters show its OS lines. An `os` event for a host already
   * written without it is lost, and the report ends with exit `error`, as
   * for services. Default false.
   */
  readonly osDetection?: boolean;
  /** nmap's `-v` level (0 to 10): more ports before a state folds (25 times `verbose + 1`), down hosts shown. Default 0. */
  readonly verbose?: number;
  /** nmap's `--open`: states that cannot be open always fold, and hosts without open ports are not shown. Default false. */
  readonly openOnly?: boolean;
  /** Names of ports without a `service` event (method `table`). Default `builtinServices`; `loadNmapServices(path)` reads nmap's file. */
  readonly serviceTable?: ServiceTable;
  /** Milliseconds since the epoch, for host and end times. Default `Date.now`. */
  readonly clock?: () => number;
}

/** The option names of {@link HostReportOptions}. @internal */
export const HOST_REPORT_OPTION_NAMES: readonly string[] = ['serviceDetection', 'osDetection', 'verbose', 'openOnly', 'serviceTable', 'clock'];

/**
 * Checks {@link HostReportOptions} (and the formatter's own names), throwing `ERR_INVALID_OPTION`.
 *
 * @internal
 */
export function checkReportOptions(options: unknown, ownNames: readonly string[], caller: string): HostReportOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `${caller} options must be an object; got ${options === null ? 'null' : typeof options}.`);
  }
  checkOptionNames(options, new Set([...HOST_REPORT_OPTION_NAMES, ...ownNames]), caller);
  const o = options as Record<string, unknown>;
  checkNumberOption('verbose', o.verbose, { min: 0, max: 10, integer: true, unit: "nmap's -v level" });
  checkOptionTypes(o, { booleans: ['serviceDetection', 'osDetection', 'openOnly'] });
  if (o.serviceTable !== undefined && !(o.serviceTable instanceof ServiceTable)) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Option serviceTable must be a ServiceTable (builtinServices, or loadNmapServices(path)).');
  }
  if (o.clock !== undefined && typeof o.clock !== 'function') throw new PortscoutError('ERR_INVALID_OPTION', 'Option clock must be a function returning milliseconds since the epoch.');
  return options as HostReportOptions;
}

/**
 * Checks that the named options, where given, are strings or booleans
 * (`ERR_INVALID_OPTION` naming the option otherwise).
 *
 * @internal
 */
export function checkOptionTypes(options: Record<string, unknown>, names: { readonly strings?: readonly string[]; readonly booleans?: readonly string[] }): void {
  for (const name of names.strings ?? []) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw new PortscoutError('ERR_INVALID_OPTION', `Option ${name} must be a string; got ${typeof options[name]}.`);
  }
  for (const name of names.booleans ?? []) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', `Option ${name} must be true or false; got ${typeof options[name]}.`);
  }
}

/** Checks that `events` is an async iterable. @internal */
export function checkEvents(events: unknown, caller: string): void {
  if (typeof events !== 'object' || events === null || typeof (events as Record<symbol, unknown>)[Symbol.asyncIterator] !== 'function') {
    throw new PortscoutError('ERR_INVALID_OPTION', `${caller} needs an async iterable of scan events (a scanner's or detectServices' result).`);
  }
}

/** nmap's numbers of the port states (portlist.h): ties in folding go to the lower number. */
const NMAP_STATE_NUMBER: Readonly<Record<PortState, number>> = { unknown: 0, closed: 1, open: 2, filtered: 3, unfiltered: 6, 'open|filtered': 7, 'closed|filtered': 8 };

/**
 * Whether a port in `state` could be open (nmap's `hasOpenPorts`: open, open|filtered, unfiltered).
 *
 * @example
 * ```ts
 * mayBeOpen('open|filtered'); // true
 * ```
 */
export function mayBeOpen(state: PortState): boolean {
  return state === 'open' || state === 'open|filtered' || state === 'unfiltered';
}

/**
 * Splits a host's ports into those listed one by one and the folded
 * `extraports` groups, with nmap's rules (`PortList::isIgnoredState`):
 * `open` and `unknown` never fold; `open|filtered` folds unless `verbose` > 2;
 * any other state folds when more than 25 ports have it (25 times
 * `verbose + 1` with `verbose`), counted over every protocol; with
 * `openOnly`, states other than open|filtered and unfiltered fold whenever
 * they occur. Groups come most ports first, ties in nmap's state order;
 * each group's reasons by count, then in port order.
 *
 * @example
 * ```ts
 * const closed = Array.from({ length: 30 }, (_, i) => ({ protocol: 'tcp' as const, port: 1000 + i, state: 'closed' as const, reason: 'reset', reasonTtl: 64 }));
 * foldExtraPorts(closed).extraPorts; // [{ state: 'closed', count: 30, reasons: [{ reason: 'reset', protocol: 'tcp', count: 30, ports: [1000, ...] }] }]
 * ```
 */
export function foldExtraPorts(ports: readonly PortReport[], options: { readonly verbose?: number; readonly openOnly?: boolean } = {}): { listed: PortReport[]; extraPorts: ExtraPorts[] } {
  const verbose = options.verbose ?? 0;
  const counts = new Map<PortState, number>();
  for (const p of ports) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  const limit = EXTRAPORTS_THRESHOLD * (verbose + 1);
  const folds = (state: PortState): boolean => {
    if (state === 'open' || state === 'unknown') return false;
    if (state === 'open|filtered' && verbose > 2) return false;
    const count = counts.get(state) ?? 0;
    if (options.openOnly && state !== 'open|filtered' && state !== 'unfiltered' && count > 0) return true;
    return count > limit;
  };
  const folded = [...counts.keys()].filter(folds).sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || NMAP_STATE_NUMBER[a] - NMAP_STATE_NUMBER[b]);
  const extraPorts = folded.map((state): ExtraPorts => {
    const groups = new Map<string, { reason: string; protocol: 'tcp' | 'udp'; ports: number[] }>();
    for (const p of ports) {
      if (p.state !== state) continue;
      const key = `${p.protocol} ${p.reason}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { reason: p.reason, protocol: p.protocol, ports: [] }));
      group.ports.push(p.port);
    }
    const reasons = [...groups.values()].map((g) => ({ reason: g.reason, protocol: g.protocol, count: g.ports.length, ports: g.ports }));
    // Array.prototype.sort is stable: equal counts keep port order.
    reasons.sort((a, b) => b.count - a.count);
    return { state, count: counts.get(state) ?? 0, reasons };
  });
  const foldedSet = new Set(folded);
  return { listed: ports.filter((p) => !foldedSet.has(p.state)), extraPorts };
}

/**
 * nmap's compact port list: ascending runs as ranges (`1-21,23-28`).
 *
 * @example
 * ```ts
 * portRanges([1, 2, 3, 5, 7, 8]); // '1-3,5,7-8'
 * ```
 */
export function portRanges(ports: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ports.length; ) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === (ports[j] as number) + 1) j++;
    out.push(i === j ? String(ports[i]) : `${ports[i]}-${ports[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Ports in a compact list (`1-1024,3306`, as `start` events give them). @internal */
export function countPortSpec(spec: string): number {
  let n = 0;
  for (const part of spec.split(',')) {
    if (part === '') continue;
    const [from, to] = part.split('-');
    n += to === undefined ? 1 : Number(to) - Number(from) + 1;
  }
  return Number.isFinite(n) ? n : 0;
}

/** Whether service detection identifies the port of this event (as `detectServices` picks them). */
function identified(event: PortEvent): boolean {
  return event.state === 'open' || (event.protocol === 'udp' && event.state === 'open|filtered');
}

interface HostState {
  readonly address: string;
  readonly family: 4 | 6;
  host?: HostEvent;
  userName?: string;
  readonly ports: Map<number, PortEvent>;
  readonly services: Map<number, ServiceEvent>;
  os?: OsEvent;
  /** Ports identification will give a `service` event for, without one yet. */
  awaiting: number;
  srtt?: number;
  timedOut: boolean;
  readonly firstSeenAt: number;
  lastSeenAt: number;
}

const keyOf = (protocol: 'tcp' | 'udp', port: number): number => (protocol === 'tcp' ? port : 65536 + port);

/** A service event's fields as a report's. */
function serviceReport(event: ServiceEvent): ServiceReport {
  const out: { -readonly [K in keyof ServiceReport]: ServiceReport[K] } = { name: event.name, method: event.method, confidence: event.confidence, cpe: event.cpe };
  if (event.product !== undefined) out.product = event.product;
  if (event.version !== undefined) out.version = event.version;
  if (event.extraInfo !== undefined) out.extraInfo = event.extraInfo;
  if (event.hostname !== undefined) out.hostname = event.hostname;
  if (event.osType !== undefined) out.osType = event.osType;
  if (event.deviceType !== undefined) out.deviceType = event.deviceType;
  if (event.tunnel !== undefined) out.tunnel = event.tunnel;
  if (event.fingerprint !== undefined) out.fingerprint = event.fingerprint;
  return out;
}

const isLateOs = (entry: string): boolean => entry.endsWith(' os');

/** What the late events were: `service`, `os`, or both. */
function lateKinds(late: readonly string[]): string {
  const os = late.some(isLateOs);
  const service = late.some((entry) => !isLateOs(entry));
  return os && service ? 'service and os' : os ? 'os' : 'service';
}

/** The option that would have kept them. */
function lateAdvice(late: readonly string[]): string {
  const advice: string[] = [];
  if (late.some((entry) => !isLateOs(entry))) advice.push('pass serviceDetection: true when the events come from detectServices');
  if (late.some(isLateOs)) advice.push('pass osDetection: true when the events come from detectOs');
  return advice.join('; ');
}

/** An os event's fields as a report's: the guesses nmap shows. */
function osReport(event: OsEvent): OsReport {
  return {
    matches: nmapGuesses(event.matches),
    perfect: event.perfect,
    ...(event.fingerprint !== undefined ? { fingerprint: event.fingerprint } : {}),
    ...(event.distance !== undefined ? { distance: event.distance } : {}),
    reasons: event.reasons,
    ports: event.ports,
    ...(event.hint ? { hint: event.hint } : {}),
  };
}

/** Why the stream ended early, in one line. */
function errorText(error: unknown): string {
  if (error instanceof PortscoutError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'AbortError') return `scan aborted${error.message && error.message !== 'This operation was aborted' ? `: ${error.message}` : ''}`;
    if (error.message === '') return error.name;
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  }
  return `scan failed: ${String(error)}`;
}

/**
 * Folds a scan's events into host reports, handed on as each host is known
 * complete (see the module's rule), with the scan's `progress` and `warning`
 * events between them; `begin` comes first and `end` last. When the stream
 * throws (an abort), every host gathered so far is handed on, then `end`
 * (exit `error`), then the generator throws the same error. Events after
 * `done` are not read.
 *
 * Checks its options at the call (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * for await (const event of reportHosts(tcpSynScan({ targets: '127.0.0.1', ports: '1-1024', skipDiscovery: true }))) {
 *   if (event.type === 'host') for (const port of event.host.listed) console.log(port.port, port.state);
 * }
 * ```
 */
export function reportHosts(events: AsyncIterable<ReportInputEvent>, options?: HostReportOptions): AsyncGenerator<ReportEvent, void, undefined> {
  checkEvents(events, 'reportHosts');
  const checked = checkReportOptions(options, [], 'reportHosts');
  return foldEvents(events, checked);
}

async function* foldEvents(events: AsyncIterable<ReportInputEvent>, options: HostReportOptions): AsyncGenerator<ReportEvent, void, undefined> {
  const clock = options.clock ?? Date.now;
  let serviceDetection = options.serviceDetection ?? false;
  let osDetection = options.osDetection ?? false;
  /** Every host written so far: an `os` event for one of them came too late. */
  const written = new Set<string>();
  /** Services that came after their host was written (without serviceDetection). */
  const late: string[] = [];
  const table = options.serviceTable ?? builtinServices;
  const hosts = new Map<string, HostState>();
  /** Hosts written with ports a late `service` event may name (without serviceDetection). */
  const writtenWithOpen = new Set<string>();
  let start: StartEvent | undefined;
  let begun = false;
  let startedAt = 0;
  let expected: number | undefined;
  let discoveryOnly = false;
  let up = 0;
  let down = 0;
  let done: { stats: ScanStats } | undefined;
  let failure: { error: unknown } | undefined;

  const begin = (): ReportEvent => {
    begun = true;
    startedAt = start?.startedAt ?? clock();
    return { type: 'begin', begin: { ...(start ? { start } : {}), startedAt, serviceDetection, ...(osDetection ? { osDetection } : {}), verbose: options.verbose ?? 0 } };
  };

  const stateOf = (address: string, family: 4 | 6): HostState => {
    let h = hosts.get(address);
    if (!h) {
      const now = clock();
      h = { address, family, ports: new Map(), services: new Map(), awaiting: 0, timedOut: false, firstSeenAt: now, lastSeenAt: now };
      hosts.set(address, h);
    }
    return h;
  };

  const sample = (h: HostState, rttMs: number | undefined): void => {
    if (rttMs === undefined) return;
    h.srtt = h.srtt === undefined ? rttMs : h.srtt + (rttMs - h.srtt) / 8;
  };

  const isComplete = (h: HostState): boolean => {
    if (h.timedOut) return false;
    if (h.host?.status === 'down') return true;
    if (discoveryOnly) return h.host !== undefined;
    if (expected === undefined || h.ports.size < expected) return false;
    return (!serviceDetection || h.awaiting === 0) && (!osDetection || h.os !== undefined);
  };

  const report = (h: HostState, complete: boolean): HostReport => {
    const ports = [...h.ports.values()]
      .sort((a, b) => keyOf(a.protocol, a.port) - keyOf(b.protocol, b.port))
      .map((p): PortReport => {
        const service = h.services.get(keyOf(p.protocol, p.port));
        const tableName = service === undefined ? table.nameOf(p.port, p.protocol) : undefined;
        const out: { -readonly [K in keyof PortReport]: PortReport[K] } = { protocol: p.protocol, port: p.port, state: p.state, reason: p.reason, reasonTtl: p.ttl ?? 0 };
        if (p.replyFrom !== undefined) out.reasonIp = p.replyFrom;
        if (service) out.service = serviceReport(service);
        else if (tableName !== undefined) out.service = { name: tableName, method: 'table', confidence: 3, cpe: [] };
        return out;
      });
    const { listed, extraPorts } = foldExtraPorts(ports, options);
    const status = h.host?.status ?? 'up';
    const hostnames: HostName[] = [];
    const user = h.host?.hostname ?? h.userName;
    if (user !== undefined) hostnames.push({ name: user, type: 'user' });
    if (h.host?.reverseName !== undefined) hostnames.push({ name: h.host.reverseName, type: 'PTR' });
    const anyOpen = ports.some((p) => mayBeOpen(p.state));
    const verbose = (options.verbose ?? 0) > 0;
    const shown = h.timedOut || (discoveryOnly ? status === 'up' || (verbose && !options.openOnly) : status === 'up' ? !(options.openOnly && !anyOpen) : verbose && (!options.openOnly || anyOpen));
    const out: { -readonly [K in keyof HostReport]: HostReport[K] } = {
      address: h.address,
      family: h.family,
      status,
      reason: h.host?.reason ?? 'user-set',
      reasonTtl: h.host?.ttl ?? 0,
      hostnames,
      ports,
      listed,
      extraPorts,
      timedOut: h.timedOut,
      shown,
      complete,
      firstSeenAt: h.firstSeenAt,
      lastSeenAt: h.lastSeenAt,
    };
    if (h.host?.replyFrom !== undefined) out.reasonIp = h.host.replyFrom;
    if (h.srtt !== undefined) out.latencyMs = Math.round(h.srtt * 1000) / 1000;
    if (h.os) out.os = osReport(h.os);
    return out;
  };

  const flush = (h: HostState, complete: boolean): ReportEvent => {
    hosts.delete(h.address);
    written.add(h.address);
    if (h.host?.status === 'down') down++;
    else up++;
    if (!serviceDetection && [...h.ports.values()].some(identified)) writtenWithOpen.add(h.address);
    return { type: 'host', host: report(h, complete) };
  };

  const iterator = events[Symbol.asyncIterator]();
  let sourceFinished = false;
  try {
    for (;;) {
      let next: IteratorResult<ReportInputEvent>;
      try {
        next = await iterator.next();
      } catch (error) {
        sourceFinished = true;
        failure = { error };
        break;
      }
      if (next.done) {
        sourceFinished = true;
        break;
      }
      const event: ReportInputEvent = next.value;
      if (event.type === 'start' && !begun) {
        start = event;
        discoveryOnly = event.protocols.includes('host');
        expected = countPortSpec(event.ports.tcp) + countPortSpec(event.ports.udp);
        yield begin();
        continue;
      }
      if (!begun) yield begin();
      switch (event.type) {
        case 'done':
          done = { stats: event.stats };
          break;
        case 'progress':
          yield { type: 'progress', progress: event, at: clock() };
          continue;
        case 'warning': {
          if (event.code === 'HOST_TIMEOUT' && event.target !== undefined) {
            const h = hosts.get(event.target);
            if (h) h.timedOut = true;
            else {
              // A host the events have not named yet: it is reported with what comes, at the end.
              const family = event.target.includes(':') ? 6 : 4;
              stateOf(event.target, family).timedOut = true;
            }
          }
          yield { type: 'warning', warning: event };
          continue;
        }
        case 'host': {
          const h = stateOf(event.address, event.family);
          h.lastSeenAt = clock();
          h.host = event;
          sample(h, event.rttMs);
          if (isComplete(h)) yield flush(h, true);
          continue;
        }
        case 'port': {
          const h = stateOf(event.address, event.family);
          h.lastSeenAt = clock();
          if (event.hostname !== undefined) h.userName ??= event.hostname;
          const key = keyOf(event.protocol, event.port);
          const before = h.ports.get(key);
          if (before === undefined || !identified(before)) {
            if (identified(event) && !h.services.has(key)) h.awaiting++;
          } else if (!identified(event) && !h.services.has(key)) h.awaiting--;
          h.ports.set(key, event);
          sample(h, event.rttMs);
          if (isComplete(h)) yield flush(h, true);
          continue;
        }
        case 'service': {
          if (!hosts.has(event.address) && writtenWithOpen.has(event.address)) {
            // Its host is written: the service is lost. Hold the next hosts for theirs, and fail at the end.
            late.push(`${event.address} ${event.protocol}/${event.port}`);
            serviceDetection = true;
            continue;
          }
          const h = stateOf(event.address, event.family);
          h.lastSeenAt = clock();
          const key = keyOf(event.protocol, event.port);
          if (!h.services.has(key)) {
            const port = h.ports.get(key);
            if (port !== undefined && identified(port)) h.awaiting--;
          }
          h.services.set(key, event);
          if (isComplete(h)) yield flush(h, true);
          continue;
        }
        case 'os': {
          if (!hosts.has(event.address) && written.has(event.address)) {
            late.push(`${event.address} os`);
            osDetection = true;
            continue;
          }
          const h = stateOf(event.address, event.family);
          h.lastSeenAt = clock();
          h.os = event;
          if (isComplete(h)) yield flush(h, true);
          continue;
        }
        default:
          continue;
      }
      break; // done: the scan's last event
    }
  } catch (error) {
    failure = { error };
  } finally {
    // After done, on a late-event error, or when our consumer stops early: the source is let go (a scan releases its sockets).
    if (!sourceFinished) await Promise.resolve(iterator.return?.()).catch(() => {});
  }
  if (!begun) yield begin();
  for (const h of [...hosts.values()]) yield flush(h, false);
  if (late.length > 0 && !failure) {
    failure = {
      error: new PortscoutError(
        'ERR_INVALID_OPTION',
        `${late.length} ${lateKinds(late)} event${late.length === 1 ? '' : 's'} (${late.slice(0, 3).join(', ')}${late.length > 3 ? ', ...' : ''}) came after ${late.length === 1 ? 'its host was' : 'their hosts were'} written without them: ${lateAdvice(late)}.`,
      ),
    };
  }
  const endedAt = clock();
  const total = done && start ? Math.max(start.hosts, up) : up + down;
  const summary: { -readonly [K in keyof ReportSummary]: ReportSummary[K] } = {
    exit: done && !failure ? 'success' : 'error',
    endedAt,
    elapsedMs: Math.max(0, endedAt - startedAt),
    hosts: { up, down: total - up, total },
    serviceDetection,
    ...(osDetection ? { osDetection } : {}),
  };
  if (failure) summary.errorMessage = errorText(failure.error);
  else if (!done) summary.errorMessage = 'the event stream ended without a done event';
  if (done) summary.stats = done.stats;
  yield { type: 'end', summary };
  if (failure) throw failure.error;
}

/**
 * Turns report events into text: the chunk to write for each (possibly empty).
 *
 * @example
 * ```ts
 * const formatter: ReportFormatter = { format: (event) => (event.type === 'host' ? `${event.host.address}\n` : '') };
 * ```
 */
export interface ReportFormatter {
  format(event: ReportEvent): string;
}

/**
 * One output of {@link writeReports}: a formatter and its sink.
 *
 * @example
 * ```ts
 * const output: ReportOutput = { formatter: createNmapXmlFormatter(), sink: process.stdout };
 * ```
 */
export interface ReportOutput {
  readonly formatter: ReportFormatter;
  /** A `Writable` (its back-pressure pauses the reading of events) or a function of each chunk (a returned promise is awaited). */
  readonly sink: TextSink;
  /** End a `Writable` sink when the report is written (default false: `process.stdout` stays open). */
  readonly end?: boolean;
}

/** Checks a sink. @internal */
export function checkSink(sink: unknown, caller: string): void {
  if (typeof sink === 'function') return;
  if (typeof sink === 'object' && sink !== null && typeof (sink as Writable).write === 'function' && typeof (sink as Writable).once === 'function') return;
  throw new PortscoutError('ERR_INVALID_OPTION', `${caller} needs a sink: a Writable stream or a function taking each chunk of text.`);
}

/** Writes chunks to one sink, waiting for a stream to drain, failing on its first error. */
class SinkWriter {
  private failure: { error: unknown } | undefined;
  private last: Promise<void> = Promise.resolve();
  private readonly onError = (error: unknown): void => {
    this.failure ??= { error };
  };

  constructor(private readonly sink: TextSink) {
    if (typeof sink !== 'function') sink.on('error', this.onError);
  }

  private check(stream: Writable): void {
    if (this.failure) throw this.failure.error;
    if (stream.destroyed || stream.writableEnded) throw new PortscoutError('ERR_OUTPUT_CLOSED', 'The output stream was closed while the report was still being written.');
  }

  async write(chunk: string): Promise<void> {
    if (chunk === '') return;
    const sink = this.sink;
    if (typeof sink === 'function') {
      await (sink(chunk) as unknown);
      return;
    }
    this.check(sink);
    let ok = true;
    this.last = new Promise<void>((resolve) => {
      ok = sink.write(chunk, (error) => {
        if (error) this.onError(error);
        resolve();
      });
    });
    if (ok) return;
    await new Promise<void>((resolve) => {
      const woken = (): void => {
        sink.off('drain', woken);
        sink.off('close', woken);
        sink.off('error', woken);
        resolve();
      };
      sink.on('drain', woken);
      sink.on('close', woken);
      sink.on('error', woken);
    });
    this.check(sink);
  }

  /** Waits until the last chunk was handed on (and the stream finished, with `end`), then reports any error. */
  async finish(end: boolean): Promise<void> {
    const sink = this.sink;
    if (typeof sink === 'function') return;
    try {
      await this.last;
      if (end && !sink.writableEnded && !sink.destroyed) await new Promise<void>((resolve) => sink.end(() => resolve()));
      if (this.failure) throw this.failure.error;
    } finally {
      sink.off('error', this.onError);
    }
  }

  /** Lets go of the stream after a failure already being reported (ending it with `end`). */
  release(end: boolean): void {
    const sink = this.sink;
    if (typeof sink === 'function') return;
    if (end && !sink.writableEnded && !sink.destroyed) sink.end();
    sink.off('error', this.onError);
  }
}

/**
 * Folds `events` ({@link reportHosts}) once and writes every output from the
 * same reports: nmap's `-oA` (XML, normal and grepable side by side). Each
 * chunk is written as its host completes. Resolves with the summary when the
 * scan ended with `done`; when the stream throws (an abort), every output is
 * finished first (the XML still well-formed, `exit="error"`), then the
 * promise rejects with that error. A sink's error rejects it too, and stops
 * reading the scan. Checks its arguments at the call (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * await writeReports(tcpSynScan({ targets: '198.18.1.0/24', ports: '1-1024' }), [
 *   { formatter: createNmapXmlFormatter(), sink: createWriteStream('scan.xml') },
 *   { formatter: createNormalFormatter(), sink: createWriteStream('scan.nmap') },
 *   { formatter: createGrepableFormatter(), sink: createWriteStream('scan.gnmap') },
 * ]);
 * ```
 */
export function writeReports(events: AsyncIterable<ReportInputEvent>, outputs: readonly ReportOutput[], options?: HostReportOptions): Promise<ReportSummary> {
  checkEvents(events, 'writeReports');
  if (!Array.isArray(outputs) || outputs.length === 0) throw new PortscoutError('ERR_INVALID_OPTION', 'writeReports needs a non-empty array of { formatter, sink } outputs.');
  for (const output of outputs) {
    if (typeof output?.formatter?.format !== 'function') throw new PortscoutError('ERR_INVALID_OPTION', 'Every output of writeReports needs a formatter (createNmapXmlFormatter(), ...).');
    checkSink(output.sink, 'writeReports');
    if (output.end !== undefined && typeof output.end !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', 'Option end of an output must be true or false.');
  }
  const checked = checkReportOptions(options, [], 'writeReports');
  return runOutputs(events, outputs, checked);
}

/** The folding and writing behind the formatters' `write...` functions. @internal */
export async function runOutputs(events: AsyncIterable<ReportInputEvent>, outputs: readonly ReportOutput[], options: HostReportOptions): Promise<ReportSummary> {
  const writers = outputs.map((o) => ({ formatter: o.formatter, writer: new SinkWriter(o.sink), end: o.end ?? false }));
  let summary: ReportSummary | undefined;
  try {
    for await (const event of foldEvents(events, options)) {
      if (event.type === 'end') summary = event.summary;
      for (const { formatter, writer } of writers) await writer.write(formatter.format(event));
    }
  } catch (error) {
    for (const { writer, end } of writers) writer.release(end);
    throw error;
  }
  for (const { writer, end } of writers) await writer.finish(end);
  if (!summary) throw new PortscoutError('ERR_INTERNAL', 'The report ended without a summary.');
  return summary;
}

// ---- Text helpers shared by the formatters (not part of the public API). ----

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** C's `ctime()` in local time, without the newline: `Mon Dec  7 12:34:40 2026`. @internal */
export function ctimeText(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

/** `2026-12-07 12:34 UTC` (nmap's "Starting" line), local time. @internal */
export function shortTimeText(ms: number): string {
  const d = new Date(ms);
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}${zone === '' ? '' : ` ${zone}`}`;
}

/** A number of seconds with two significant digits, as nmap prints latency (`0.0000040`, `0.00`, `1.2`). @internal */
export function twoSignificant(seconds: number): string {
  if (!(seconds > 0)) return '0.00';
  const shift = Math.floor(Math.log10(seconds)) - 1;
  const rounded = Math.round(seconds / 10 ** shift) * 10 ** shift;
  return rounded.toFixed(Math.max(0, -shift));
}

/** `1 IP address (1 host up) scanned in 6.44 seconds`. @internal */
export function doneText(summary: ReportSummary): string {
  const { total, up } = summary.hosts;
  return `${total} IP address${total === 1 ? '' : 'es'} (${up} host${up === 1 ? '' : 's'} up) scanned in ${(summary.elapsedMs / 1000).toFixed(2)} seconds`;
}

/** nmap's scan-type flag of a technique, for the default `args`. */
const TECHNIQUE_FLAGS: Readonly<Record<string, string>> = { syn: '-sS', connect: '-sT', ack: '-sA', fin: '-sF', null: '-sN', xmas: '-sX', maimon: '-sM', window: '-sW', udp: '-sU', ping: '-sn', custom: '--scanflags' };

/**
 * The command line a report shows when the caller gave none: `portscout`
 * and nmap's flags for what the `start` event says (technique, `-Pn`, `-sV`,
 * ports). Targets are not in the events. @internal
 */
export function defaultArgs(begin: ReportBegin): string {
  const start = begin.start;
  if (!start) return 'portscout';
  const parts = ['portscout', TECHNIQUE_FLAGS[start.technique] ?? `--technique ${start.technique}`];
  if (begin.serviceDetection) parts.push('-sV');
  if (begin.osDetection) parts.push('-O');
  if (!start.discovery && start.technique !== 'ping') parts.push('-Pn');
  const ports = [start.ports.tcp === '' ? '' : start.ports.udp === '' ? start.ports.tcp : `T:${start.ports.tcp}`, start.ports.udp === '' ? '' : start.ports.tcp === '' ? start.ports.udp : `U:${start.ports.udp}`].filter((p) => p !== '');
  if (ports.length > 0) parts.push('-p', ports.join(','));
  return parts.join(' ');
}

/** The VERSION column's text of a service: product, version and (extrainfo). @internal */
export function versionText(service: ServiceReport | undefined): string {
  if (!service) return '';
  return [service.product, service.version, service.extraInfo === undefined ? undefined : `(${service.extraInfo})`].filter((p) => p !== undefined && p !== '').join(' ');
}

/** Control characters as `\xNN`, so a field stays on its line. @internal */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The SERVICE column's name of a port, as nmap's `getNmapServiceName`:
 * `ssl/` for a TLS tunnel, `?` after a name service detection only guessed
 * (confidence 5 or less on an open port), `unknown` without a name. @internal
 */
export function serviceColumn(port: PortReport, serviceDetection: boolean): string {
  const service = port.service;
  const prefix = service?.tunnel === 'ssl' ? 'ssl/' : '';
  const name = service?.name;
  if (name === undefined || name === 'unknown') return `${prefix}unknown`;
  const guess = serviceDetection && port.state === 'open' && (service?.confidence ?? 0) <= 5;
  return `${prefix}${printable(name)}${guess ? '?' : ''}`;
}

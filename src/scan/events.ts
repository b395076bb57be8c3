/**
 * The events every scanner yields.
 *
 * Scanners are async iterables of {@link ScanEvent}: `host` and `port` events
 * stream as soon as they are known, `warning` events report what did not stop
 * the scan (a name that did not resolve, a slowdown), and one `done` event with
 * the scan's {@link ScanStats} comes last. The shapes are plain, JSON-serialisable
 * objects so that output formatters (normal, JSON lines, XML, grepable) and
 * service detection can consume them as they are.
 *
 * @module
 */

import type { ScanCursor, ShardSpec } from '../targets/index.js';
import type { TimingValues } from '../transport/timing.js';
import type { Reason } from './reasons.js';
import type { TechniqueName } from './techniques.js';

export type { Reason } from './reasons.js';

/**
 * A port's state, with nmap's names. `unknown` (nmap's name for a port it
 * has no state for) is a port whose probe never left: reason `send-error`.
 */
export type PortState = 'open' | 'closed' | 'filtered' | 'unfiltered' | 'open|filtered' | 'closed|filtered' | 'unknown';

/**
 * The technique that produced an event: a port scan technique's name (see
 * `TECHNIQUES`), or for `host` events the discovery probe that answered.
 */
export type ScanMethod = Exclude<TechniqueName, 'ping'> | 'icmp-echo' | 'tcp-syn-ping' | 'tcp-connect-ping' | 'tcp-ack-ping' | 'user-set';

/** Fields shared by the events about one address. */
export interface TargetFields {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address probed, canonical text. */
  readonly address: string;
  /** The host name the user gave, when the address came from one. */
  readonly hostname?: string;
}

/**
 * A host's status, from host discovery (or `user-set` when discovery is skipped).
 *
 * @example
 * ```ts
 * { type: 'host', family: 4, address: '198.18.1.10', status: 'up', reason: 'echo-reply', ttl: 64, rttMs: 0.21, method: 'icmp-echo' }
 * ```
 */
export interface HostEvent extends TargetFields {
  readonly type: 'host';
  readonly status: 'up' | 'down';
  readonly reason: Reason;
  /** TTL (IPv4) of the reply that proved the host up; IPv6 replies carry none (raw IPv6 sockets do not expose the hop limit). */
  readonly ttl?: number;
  /** Address that sent the deciding reply when it is not the target: a router's ICMP error that says the host is unreachable. */
  readonly replyFrom?: string;
  /** Round-trip time of the answered probe in milliseconds. */
  readonly rttMs?: number;
  readonly method: ScanMethod;
  /** Reverse-DNS (PTR) name, when asked for with `reverseDns: true` and one exists. */
  readonly reverseName?: string;
}

/**
 * One port's state.
 *
 * @example
 * ```ts
 * { type: 'port', family: 4, address: '198.18.1.10', protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', ttl: 64, rttMs: 0.3, method: 'syn' }
 * ```
 */
export interface PortEvent extends TargetFields {
  readonly type: 'port';
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly state: PortState;
  readonly reason: Reason;
  /** TTL of the reply that decided the state (IPv4 raw scans); absent for no-response and for IPv6. */
  readonly ttl?: number;
  /** Address that sent the deciding reply when it is not the target (an ICMP error from a router). */
  readonly replyFrom?: string;
  readonly rttMs?: number;
  readonly method: ScanMethod;
  /** TCP window of the deciding reply (window scan, OS hints). */
  readonly window?: number;
  /**
   * The options of the SYN/ACK that proved the port open, in nmap's letters
   * (`M5B4ST11NW7`: MSS 1460, SACK permitted, timestamps, no-op, window
   * scale 7), when the SYN scan was asked for them (`tcpOptions: true`): an OS hint.
   */
  readonly tcpOptions?: string;
  /**
   * Bytes of a UDP reply (for service detection), base64-encoded: events hold
   * only JSON values (see {@link ScanEvent}). `eventBytes(event)` decodes them.
   */
  readonly data?: string;
}

/**
 * The codes of {@link WarningEvent}s.
 *
 * | code | what happened | what to do |
 * |---|---|---|
 * | `UNRESOLVED_HOST` | a target name did not resolve | check the name or the resolver |
 * | `TARGETS` | planning: the exclusions remove every target, an exclusion did not resolve | check `targets` and `exclude` |
 * | `NO_ROUTE` | no route to some targets (one warning counts them): nothing is sent to them | add a route, or drop the targets |
 * | `RATE_LIMITED` | a host rate-limits its answers: the scan slows down for it | nothing; set `maxScanDelayMs` to bound the slowdown |
 * | `HOST_TIMEOUT` | a host's `hostTimeout` ran out: its remaining pairs are skipped | raise `hostTimeout` |
 * | `CONNECT_ERROR` | a connect failed with an errno that names no port state | see the errno in the message |
 * | `FALLBACK_CONNECT` | a SYN scan runs as a connect scan (`fallback: 'connect'`) | the message says why (no permission, or no native addon) |
 * | `SEND_FAILED` | the kernel refused to send probes (one warning per errno): they are sent again after a pause | check this machine's firewall (OUTPUT rules) and links |
 * | `KERNEL_DROPS` | the kernel dropped replies (the raw receive queue was full): probes that may have lost theirs are sent again and the scan slows down | lower `rate`, or run fewer scans side by side |
 * | `PACKET_LOSS` | the answers measure loss on the way: unanswered probes are retried more than the timing template says, so that fewer than 0.01 pairs are expected misread as silent | nothing; set `maxRetries` to cap the retries |
 */
export type WarningCode = 'UNRESOLVED_HOST' | 'TARGETS' | 'NO_ROUTE' | 'RATE_LIMITED' | 'HOST_TIMEOUT' | 'CONNECT_ERROR' | 'FALLBACK_CONNECT' | 'SEND_FAILED' | 'KERNEL_DROPS' | 'PACKET_LOSS';

/** Something worth knowing that did not stop the scan. */
export interface WarningEvent {
  readonly type: 'warning';
  /** Stable code: see {@link WarningCode}. */
  readonly code: WarningCode;
  readonly message: string;
  /** The target text or address concerned, if any. */
  readonly target?: string;
}

/**
 * The first event of every scan: what it will do. It carries what nmap's
 * XML `<scaninfo>` and a resume file need.
 *
 * @example
 * ```ts
 * { type: 'start', technique: 'syn', protocols: ['tcp'], ports: { tcp: '22,80,443', udp: '' }, hosts: 1, pairs: 3,
 *   discovery: false, order: 'sequential', shard: { index: 0, count: 1 }, fingerprint: '...', timing: { ... }, startedAt: 1796000000000 }
 * ```
 */
export interface StartEvent {
  readonly type: 'start';
  /** The technique's name (`'syn'`, `'connect'`, `'udp'`, `'ping'`, ...). */
  readonly technique: string;
  /** Protocols probed (`tcp`, `udp`; `host` for discovery alone). */
  readonly protocols: readonly ('tcp' | 'udp' | 'host')[];
  /** The ports, in nmap's compact syntax (`1-1024,3306`); empty for discovery alone. */
  readonly ports: { readonly tcp: string; readonly udp: string };
  /** Hosts planned (after exclusions, in this shard's space). */
  readonly hosts: number;
  /**
   * Units of work of the plan the scan walks first: (host, port) pairs left
   * after a resume cursor, or hosts for discovery alone. With discovery
   * before a port scan, the pairs of every target; the port phase then walks
   * the hosts found up.
   */
  readonly pairs: number;
  /** Whether hosts are discovered first (only those up are port-scanned). */
  readonly discovery: boolean;
  /** `'sequential'`, or `'random'` with the seed. */
  readonly order: 'sequential' | 'random';
  readonly seed?: string;
  readonly shard: ShardSpec;
  /** The plan's fingerprint (the one its resume cursors carry when there is no discovery phase). */
  readonly fingerprint: string;
  /** The cursor the scan resumed from, when it did. */
  readonly resumedFrom?: ScanCursor;
  /** The timing values in force; those without a limit (Infinity, as `maxParallelism` at T3-T5) are left out. */
  readonly timing: Partial<TimingValues>;
  /** Wall-clock start, milliseconds since the epoch. */
  readonly startedAt: number;
}

/**
 * How far a scan is, every `progressInterval` milliseconds when asked for,
 * and once more when the phase ends (`fraction` 1, just before `done` or the next phase).
 *
 * @example
 * ```ts
 * { type: 'progress', phase: 'ports', done: 5000, total: 65535, fraction: 0.0763, rate: 41000, found: 3, etaMs: 1480, cursor: { v: 1, ... } }
 * ```
 */
export interface ProgressEvent {
  readonly type: 'progress';
  /** `'discovery'` while hosts are pinged, `'ports'` after; `'service'` for service detection (its `done`/`total` are ports identified/to identify). */
  readonly phase: 'discovery' | 'ports' | 'service';
  /** Units of this phase settled (reported, or skipped for a reason a warning gave). */
  readonly done: number;
  /** Units of this phase. */
  readonly total: number;
  /** `done / total`, 0 to 1. */
  readonly fraction: number;
  /** Probes sent so far in this phase (retransmissions included; service detection: probe exchanges started). */
  readonly sent: number;
  /** Probes sent per second so far in this phase. */
  readonly rate: number;
  /** Hosts found up (discovery), ports found open (ports) or services matched by a rule (service) so far. */
  readonly found: number;
  /** Estimated milliseconds left in this phase, from the pace so far. */
  readonly etaMs?: number;
  /** A safe resume point (port phase): every pair before it, and those it skips, has been delivered. */
  readonly cursor?: ScanCursor;
}

/** Counters of one scan. */
export interface ScanStats {
  /** Probes sent, retransmissions included. */
  sent: number;
  /** Packets received that belonged to this scan and passed validation. */
  received: number;
  /**
   * Probes sent again because no answer came in time. A connect scan counts
   * its attempts made again after a wait ran out; on loopback the answer (a
   * refusal) comes in microseconds, so a count there means a thread was too
   * busy to read answers before their short adaptive waits ended, and it
   * varies from run to run with the machine's load. States are not affected:
   * the attempt made again gets the same answer.
   */
  retransmitted: number;
  /**
   * Replies addressed to this scan that failed validation (wrong sequence,
   * unknown quote). The scan's own probes, which a raw socket also receives
   * on loopback, are recognised and not counted.
   */
  invalid: number;
  /**
   * Replies that could not be parsed: those routed to this scan, plus the
   * packets the process-wide listener could not parse far enough to route
   * while the scan ran (they may have been meant for another scan in the process).
   */
  malformed: number;
  /** Valid replies for probes already decided. */
  duplicates: number;
  /**
   * Packets the kernel refused to send (a firewall rule on this machine, a
   * link down, no buffer space): they never left and are not in `sent`. Their
   * probes are sent again after a pause; one that never leaves is reported as
   * `unknown` with reason `send-error`.
   */
  sendErrors: number;
  /**
   * Replies the kernel dropped while the scan ran because the raw receive
   * queue was full (the drops column of `/proc/net/raw`, summed over this
   * process's raw sockets, so shared by scans running side by side; 0 where
   * it cannot be read). Probes whose time ran out after such drops are sent
   * again without counting as an attempt, and the scan slows down.
   */
  kernelDrops: number;
  /** Wall time of the scan. */
  durationMs: number;
  /** Hosts found up (discovery) and ports reported. */
  hostsUp: number;
  portsReported: number;
}

/** The last event of every scan. */
export interface DoneEvent {
  readonly type: 'done';
  readonly stats: ScanStats;
  /** The cursor of the finished port phase (its position is the end of the plan): resuming from it probes nothing. */
  readonly cursor?: ScanCursor;
}

/**
 * Everything a scanner yields: `start` first, `done` last.
 *
 * Events hold only JSON values: strings, finite numbers, booleans, arrays
 * and plain objects; bytes are base64 strings and no number is a bigint
 * (counts are at most 2^53-1 by construction). `JSON.parse(JSON.stringify(event))`
 * gives an equal event.
 */
export type ScanEvent = StartEvent | HostEvent | PortEvent | WarningEvent | ProgressEvent | DoneEvent;

/**
 * The bytes an event carries (a UDP reply's `data`), decoded from base64;
 * undefined when it carries none.
 *
 * @example
 * ```ts
 * if (event.type === 'port' && event.data !== undefined) matchBanner(eventBytes(event));
 * ```
 */
export function eventBytes(event: PortEvent): Uint8Array | undefined {
  return event.data === undefined ? undefined : new Uint8Array(Buffer.from(event.data, 'base64'));
}

/** Fresh zeroed statistics. */
export function emptyStats(): ScanStats {
  return { sent: 0, received: 0, retransmitted: 0, invalid: 0, malformed: 0, duplicates: 0, sendErrors: 0, kernelDrops: 0, durationMs: 0, hostsUp: 0, portsReported: 0 };
}

/**
 * Adds the counters of `more` to `into`, e.g. to total the `done` statistics of several scans.
 *
 * @example
 * ```ts
 * const total = emptyStats();
 * for await (const event of tcpSynScan(options)) if (event.type === 'done') addStats(total, event.stats);
 * ```
 */
export function addStats(into: ScanStats, more: ScanStats): void {
  for (const key of Object.keys(into) as (keyof ScanStats)[]) into[key] += more[key];
}

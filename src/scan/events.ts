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

/** A port's state, with nmap's names. */
export type PortState = 'open' | 'closed' | 'filtered' | 'unfiltered' | 'open|filtered' | 'closed|filtered';

/**
 * Why a state was concluded, with nmap's reason strings (`nmap --reason`).
 *
 * - TCP replies: `syn-ack`, `reset`, `conn-refused` (connect scan).
 * - No reply after every retry: `no-response`.
 * - UDP: `udp-response`, `port-unreach`.
 * - ICMP errors: `net-unreach`, `host-unreach`, `proto-unreach`, `port-unreach`,
 *   `net-prohibited`, `host-prohibited`, `admin-prohibited`, `time-exceeded`, ...
 * - Host discovery: `echo-reply`, `syn-ack`, `reset`, `no-response`, `localhost-response`, `user-set`.
 */
export type Reason = string;

/** The technique that produced an event. */
export type ScanMethod =
  | 'connect'
  | 'syn'
  | 'ack'
  | 'fin'
  | 'null'
  | 'xmas'
  | 'maimon'
  | 'window'
  | 'custom'
  | 'udp'
  | 'icmp-echo'
  | 'tcp-syn-ping'
  | 'tcp-connect-ping'
  | 'tcp-ack-ping'
  | 'user-set';

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
  /** Bytes of a UDP reply (for service detection), copied out of the receive buffer. */
  readonly data?: Uint8Array;
}

/** Something worth knowing that did not stop the scan. */
export interface WarningEvent {
  readonly type: 'warning';
  /**
   * Stable code: `UNRESOLVED_HOST` (a target name did not resolve), `TARGETS`
   * (planning: the exclusions remove every target, an exclusion did not resolve),
   * `NO_ROUTE` (no route to a target; nothing is sent to it), `RATE_LIMITED`
   * (slowing down for a host that rate-limits answers), `HOST_TIMEOUT`,
   * `CONNECT_ERROR` (a connect failed with an errno that names no port state),
   * `FALLBACK_CONNECT` (a SYN scan without raw permission runs as a connect scan).
   */
  readonly code: string;
  readonly message: string;
  /** The target text or address concerned, if any. */
  readonly target?: string;
}

/** Counters of one scan. */
export interface ScanStats {
  /** Probes sent, retransmissions included. */
  sent: number;
  /** Packets received that belonged to this scan and passed validation. */
  received: number;
  /** Probes sent again because no answer came in time. */
  retransmitted: number;
  /** Replies addressed to this scan that failed validation (wrong sequence, unknown quote). */
  invalid: number;
  /**
   * Replies that could not be parsed: those routed to this scan, plus the
   * packets the process-wide listener could not parse far enough to route
   * while the scan ran (they may have been meant for another scan in the process).
   */
  malformed: number;
  /** Valid replies for probes already decided. */
  duplicates: number;
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
}

/** Everything a scanner yields. */
export type ScanEvent = HostEvent | PortEvent | WarningEvent | DoneEvent;

/** Fresh zeroed statistics. */
export function emptyStats(): ScanStats {
  return { sent: 0, received: 0, retransmitted: 0, invalid: 0, malformed: 0, duplicates: 0, durationMs: 0, hostsUp: 0, portsReported: 0 };
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

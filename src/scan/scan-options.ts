/**
 * Options shared by every scanner.
 *
 * @module
 */
import type { HostResolver, PortSet, ScanCursor, ScanOrder, ShardSpec, TargetInput } from '../targets/index.js';
import type { TimingTemplateName, TimingValues } from '../transport/timing.js';

/** Options of every scanner. */
export interface ScanOptions {
  /** What to scan: addresses, CIDR blocks, nmap octet ranges, dash ranges, host names; a string is split on whitespace between specs. */
  readonly targets: TargetInput;
  /** Targets never to probe, in the same syntaxes. */
  readonly exclude?: TargetInput;
  /**
   * Blocks never to scan, in zmap's blocklist format (one address, range or
   * CIDR block per line, `#` comments), or `false` for none. Default: target
   * lists of more than 2^24 addresses lose the IANA special-purpose ranges
   * (`DEFAULT_BLOCKLIST`); every list loses multicast and the broadcast
   * address. A `TARGETS` warning says how many addresses were removed.
   */
  readonly blocklist?: string | false;
  /** Aborting stops the scan at once and releases every socket and timer; the iterator then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** nmap's timing template, `T0` (paranoid) to `T5` (insane). Default `T3`. */
  readonly timing?: TimingTemplateName;
  /** Override any value of the timing template. */
  readonly timingOverrides?: Partial<TimingValues>;
  /** Retransmissions of an unanswered probe (overrides the template's). */
  readonly maxRetries?: number;
  /** Give up on a host after this many milliseconds (overrides the template's). */
  readonly hostTimeout?: number;
  /** Packets per second at most. Default: no limit beyond `maxInFlight`. */
  readonly rate?: number;
  /** Probes awaiting an answer at most. Default 4096 for raw scans, 512 for connect scans; the timing's `maxParallelism` caps it (1 for T0-T2). */
  readonly maxInFlight?: number;
  /** `'sequential'` (default) or a seeded pseudo-random permutation of the (host, port) space. */
  readonly order?: ScanOrder;
  /** Scan only this part of the space (`{ index, count }`). */
  readonly shard?: ShardSpec;
  /** Continue from a cursor of an earlier run of the same plan. */
  readonly resume?: ScanCursor;
  /** Address family for host names: 4 (default), 6 or `'any'`. */
  readonly family?: 4 | 6 | 'any';
  /**
   * Resolves host names in `targets` and `exclude`. Default: the system's
   * (`dns.lookup`). A name that does not resolve gives an `UNRESOLVED_HOST` warning.
   */
  readonly resolve?: HostResolver;
  /** Events queued for a slow consumer before the scan pauses sending. Default 1024. */
  readonly queueCapacity?: number;
  /** Look up the PTR name of every host found up (`reverseName` on its `host` event). Default false. */
  readonly reverseDns?: boolean;
  /** Milliseconds a reverse lookup may take. Default 2000. */
  readonly reverseDnsTimeout?: number;
  /** DNS servers for the reverse lookups (nmap's `--dns-servers`), as `address` or `address:port`. Default: the system's. */
  readonly dnsServers?: readonly string[];
  /** Milliseconds between `progress` events (fraction done, rate, ETA, a safe resume cursor). Default: no progress events. */
  readonly progressInterval?: number;
}

/** Options of the port scanners. */
export interface PortScanOptions extends ScanOptions {
  /** nmap port syntax (`22,80,1000-2000`, `T:53,U:53`, `http,ssh`, `-`) or a parsed {@link PortSet}. Default: the built-in table of well-known ports for the protocol. */
  readonly ports?: string | PortSet;
  /**
   * Ports never to scan (nmap's `--exclude-ports`), same syntax. The scan
   * throws `ERR_INVALID_PORTS` before any packet when they remove every port.
   */
  readonly excludePorts?: string | PortSet;
  /**
   * By default hosts are probed first (ICMP echo, TCP SYN to 443, TCP ACK to 80)
   * and only those up are port-scanned, as nmap does; `host` events report them.
   * `true` treats every target as up (nmap's `-Pn`): no discovery traffic, and
   * order, shard and resume apply to the whole target list. With discovery,
   * order, shard and resume apply to the port phase over the hosts found up.
   */
  readonly skipDiscovery?: boolean;
  /** IP TTL of raw probes. */
  readonly ttl?: number;
}

/** Every option name of {@link ScanOptions} (the type-checked list of names a scan accepts). */
export const SCAN_OPTION_NAMES: readonly string[] = Object.keys({
  targets: true,
  exclude: true,
  blocklist: true,
  signal: true,
  timing: true,
  timingOverrides: true,
  maxRetries: true,
  hostTimeout: true,
  rate: true,
  maxInFlight: true,
  order: true,
  shard: true,
  resume: true,
  family: true,
  resolve: true,
  queueCapacity: true,
  reverseDns: true,
  reverseDnsTimeout: true,
  dnsServers: true,
  progressInterval: true,
} satisfies Record<keyof ScanOptions, true>);

/** Every option name of {@link PortScanOptions}. */
export const PORT_SCAN_OPTION_NAMES: readonly string[] = [
  ...SCAN_OPTION_NAMES,
  ...Object.keys({ ports: true, excludePorts: true, skipDiscovery: true, ttl: true } satisfies Record<Exclude<keyof PortScanOptions, keyof ScanOptions>, true>),
];

/**
 * The registry of scan techniques, in the manner of zmap's probe modules:
 * each technique is a record that says what it probes, how its probes travel
 * (raw packets or connections), how they are retried, which options it takes,
 * and how to build its probe module. `scan({ technique })` runs any of them
 * on the one engine; the exported scanners are one-liners over it.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { createDiscoveryModule, type DiscoveryProbes } from './discovery-probe.js';
import type { ProbeModule } from './probe-module.js';
import { RATE_LIMITED_POLICY, STEADY_POLICY, type ProbePolicy } from './retry-policy.js';
import { checkNumberOption, describeValue } from './option-check.js';
import { createTcpProbeModule, TCP_SCAN_FLAGS, type TcpScanType } from './tcp-probe.js';
import { createUdpProbeModule } from './udp-probe.js';
import type { PortScanOptions } from './scan-options.js';

/** The names of the techniques, with nmap's: `-sT`, `-sS`, `-sA`, `-sF`, `-sN`, `-sX`, `-sM`, `-sW`, `--scanflags`, `-sU`, `-sn`. */
export type TechniqueName = 'connect' | 'syn' | 'ack' | 'fin' | 'null' | 'xmas' | 'maimon' | 'window' | 'custom' | 'udp' | 'ping';

/**
 * What `scan()` takes: the port scanners' options, the technique, and the
 * options some techniques add (each technique rejects the others').
 */
export interface ScanRequest extends PortScanOptions {
  /** Which technique to run (see {@link TECHNIQUES}). */
  readonly technique: TechniqueName;
  /**
   * `syn` only: what to do without raw sockets. `'connect'` runs a connect
   * scan instead (its events say `method: 'connect'`); `'none'` (default)
   * throws `ERR_RAW_PERMISSION` or `ERR_RAW_UNAVAILABLE`.
   */
  readonly fallback?: 'connect' | 'none';
  /**
   * `connect` (and `syn` with `fallback: 'connect'`): worker threads that make
   * the connection attempts. 0 connects on this thread. Default: the cores
   * available (at most 4) for unpaced scans of 4096 pairs or more; 0 for
   * smaller scans and for scans paced by `rate` or a scan delay.
   */
  readonly workers?: number;
  /** `syn` only: record each SYN/ACK's options in its `port` event (`tcpOptions`), for passive OS hints. */
  readonly tcpOptions?: boolean;
  /** `custom` only: the flags to send, a bit mask of `TcpFlags` (nmap's `--scanflags`). */
  readonly flags?: number;
  /** `custom` only: read replies as this technique does (default `'syn'`). */
  readonly interpretAs?: TcpScanType;
  /** `ping` (and the discovery phase of the raw port scans): which probes find hosts. */
  readonly probes?: DiscoveryProbes;
}

/** One technique. */
export interface Technique {
  readonly name: TechniqueName;
  /** One line for people (help texts, docs). */
  readonly description: string;
  /** What it probes: TCP or UDP ports, or hosts (discovery alone). */
  readonly protocol: 'tcp' | 'udp' | 'host';
  /** How its probes travel: raw packets (needs CAP_NET_RAW) or TCP connections (no privileges). */
  readonly prober: 'raw' | 'connect';
  /** How its probes are retried and paced. */
  readonly policy: ProbePolicy;
  /** Probes in flight by default (the timing template's parallelism caps it). */
  readonly defaultMaxInFlight: number;
  /** Options it takes beyond those of {@link PortScanOptions}. */
  readonly optionNames: readonly (keyof ScanRequest)[];
  /** Throws `ERR_INVALID_OPTION` for an option of its own that is wrong. */
  validateOptions(options: ScanRequest): void;
  /** The probe module of a raw technique; undefined for connect techniques. */
  createModule(options: ScanRequest): ProbeModule | undefined;
}

/** The TTL of raw probes: 1-255. */
function checkTtl(options: ScanRequest): void {
  checkNumberOption('ttl', options.ttl, { min: 1, max: 255, integer: true, unit: 'IP TTL of raw probes' });
}

function checkWorkers(options: ScanRequest): void {
  checkNumberOption('workers', options.workers, { min: 0, max: 64, integer: true, unit: 'worker threads; 0 connects on this thread' });
}

const FLAG_DESCRIPTIONS: Readonly<Record<Exclude<TcpScanType, 'syn'>, string>> = {
  ack: 'TCP ACK scan (-sA): unfiltered or filtered, to map firewall rules',
  fin: 'TCP FIN scan (-sF): open|filtered, closed or filtered',
  null: 'TCP NULL scan (-sN): no flags; open|filtered, closed or filtered',
  xmas: 'TCP Xmas scan (-sX): FIN, PSH and URG; open|filtered, closed or filtered',
  maimon: 'TCP Maimon scan (-sM): FIN and ACK; open|filtered, closed or filtered',
  window: 'TCP Window scan (-sW): ACK, read by the window of the reset',
};

/** A raw TCP technique with the flags and reading of `type`. */
function tcpTechnique(type: TcpScanType, description: string): Technique {
  return {
    name: type,
    description,
    protocol: 'tcp',
    prober: 'raw',
    policy: STEADY_POLICY,
    defaultMaxInFlight: 4096,
    optionNames: type === 'syn' ? ['fallback', 'workers', 'tcpOptions'] : [],
    validateOptions(options) {
      checkTtl(options);
      if (type === 'syn') {
        if (options.fallback !== undefined && options.fallback !== 'connect' && options.fallback !== 'none') {
          throw new PortscoutError('ERR_INVALID_OPTION', `Option fallback must be 'connect' or 'none'; got ${describeValue(options.fallback)}.`);
        }
        checkWorkers(options);
        if (options.tcpOptions !== undefined && typeof options.tcpOptions !== 'boolean') {
          throw new PortscoutError('ERR_INVALID_OPTION', `Option tcpOptions must be a boolean; got ${describeValue(options.tcpOptions)}.`);
        }
      }
    },
    createModule: (options) => createTcpProbeModule(type, TCP_SCAN_FLAGS[type], options.ttl, options.tcpOptions === true),
  };
}

/**
 * Every technique, by name.
 *
 * @example
 * ```ts
 * for (const technique of Object.values(TECHNIQUES)) console.log(technique.name, technique.description);
 * ```
 */
export const TECHNIQUES: Readonly<Record<TechniqueName, Technique>> = Object.freeze({
  connect: {
    name: 'connect',
    description: 'TCP connect scan (-sT): full connections, no privileges needed',
    protocol: 'tcp',
    prober: 'connect',
    policy: STEADY_POLICY,
    defaultMaxInFlight: 512,
    optionNames: ['workers'],
    validateOptions: checkWorkers,
    createModule: () => undefined,
  },
  syn: tcpTechnique('syn', 'TCP SYN scan (-sS): half-open; open, closed or filtered'),
  ack: tcpTechnique('ack', FLAG_DESCRIPTIONS.ack),
  fin: tcpTechnique('fin', FLAG_DESCRIPTIONS.fin),
  null: tcpTechnique('null', FLAG_DESCRIPTIONS.null),
  xmas: tcpTechnique('xmas', FLAG_DESCRIPTIONS.xmas),
  maimon: tcpTechnique('maimon', FLAG_DESCRIPTIONS.maimon),
  window: tcpTechnique('window', FLAG_DESCRIPTIONS.window),
  custom: {
    name: 'custom',
    description: 'TCP scan with custom flags (--scanflags), read as another technique reads replies',
    protocol: 'tcp',
    prober: 'raw',
    policy: STEADY_POLICY,
    defaultMaxInFlight: 4096,
    optionNames: ['flags', 'interpretAs'],
    validateOptions(options) {
      checkTtl(options);
      const flags = options.flags;
      if (flags === undefined || typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xff) {
        throw new PortscoutError(
          'ERR_INVALID_OPTION',
          `A custom flag scan needs flags: an integer bit mask 0-255 of TcpFlags (e.g. TcpFlags.SYN | TcpFlags.FIN); got ${describeValue(flags)}.`,
        );
      }
      const as = options.interpretAs;
      if (as !== undefined && !Object.hasOwn(TCP_SCAN_FLAGS, as)) {
        throw new PortscoutError('ERR_INVALID_OPTION', `Option interpretAs must be one of ${Object.keys(TCP_SCAN_FLAGS).join(', ')}; got ${describeValue(as)}.`);
      }
    },
    createModule: (options) => createTcpProbeModule(options.interpretAs ?? 'syn', options.flags, options.ttl),
  },
  udp: {
    name: 'udp',
    description: 'UDP scan (-sU): open, closed, filtered or open|filtered; slows down for ICMP rate limits',
    protocol: 'udp',
    prober: 'raw',
    policy: RATE_LIMITED_POLICY,
    defaultMaxInFlight: 4096,
    optionNames: [],
    validateOptions: checkTtl,
    createModule: (options) => createUdpProbeModule(options.ttl),
  },
  ping: {
    name: 'ping',
    description: 'Host discovery (-sn): ICMP echo, TCP SYN to 443, TCP ACK to 80',
    protocol: 'host',
    prober: 'raw',
    policy: STEADY_POLICY,
    defaultMaxInFlight: 4096,
    optionNames: ['probes'],
    validateOptions: () => undefined,
    createModule: (options) => createDiscoveryModule(options.probes),
  },
} satisfies Record<TechniqueName, Technique>);

/**
 * The technique of a name; throws `ERR_INVALID_OPTION` for an unknown one.
 *
 * @example
 * ```ts
 * techniqueNamed('syn').prober; // 'raw'
 * ```
 */
export function techniqueNamed(name: unknown): Technique {
  if (typeof name === 'string' && Object.hasOwn(TECHNIQUES, name)) return TECHNIQUES[name as TechniqueName];
  throw new PortscoutError('ERR_INVALID_OPTION', `Unknown technique ${describeValue(name)}: use one of ${Object.keys(TECHNIQUES).join(', ')}.`);
}

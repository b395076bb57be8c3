/**
 * Host discovery (nmap's `-sn`): ICMP echo (ICMPv6 echo for IPv6), TCP SYN to
 * 443 and TCP ACK to 80, so hosts that drop ICMP are still found.
 *
 * @module
 */
import { createDiscoveryModule, type DiscoveryProbes } from './discovery-probe.js';
import type { ScanEvent } from './events.js';
import { withReverseNames } from './reverse-names.js';
import { lazyGenerator } from './lazy-generator.js';
import { runHostScan } from './probe-scan.js';
import type { ScanOptions } from './scan-options.js';

/** Options of {@link discoverHosts}. */
export interface DiscoveryOptions extends ScanOptions {
  /** Which probes to send. Default: ICMP echo, TCP SYN to 443, TCP ACK to 80. */
  readonly probes?: DiscoveryProbes;
}

/**
 * Finds which targets are up. Needs raw sockets (root or CAP_NET_RAW).
 *
 * @example
 * ```ts
 * for await (const event of discoverHosts({ targets: '198.18.1.0/24' })) {
 *   if (event.type === 'host' && event.status === 'up') console.log(event.address, event.reason);
 * }
 * ```
 */
export function discoverHosts(options: DiscoveryOptions): AsyncGenerator<ScanEvent, void, undefined> {
  return lazyGenerator(() => withReverseNames(runHostScan(options, createDiscoveryModule(options.probes)), options));
}

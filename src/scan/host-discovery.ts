/**
 * Host discovery (nmap's `-sn`): ICMP echo (ICMPv6 echo for IPv6), TCP SYN to
 * 443 and TCP ACK to 80, so hosts that drop ICMP are still found.
 *
 * @module
 */
import type { DiscoveryProbes } from './discovery-probe.js';
import { scan, withTechnique, type Scan } from './scan.js';
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
 * for await (const event of discoverHosts({ targets: '127.0.0.1' })) {
 *   if (event.type === 'host' && event.status === 'up') console.log(event.address, event.reason);
 * }
 * ```
 */
export function discoverHosts(options: DiscoveryOptions): Scan {
  return scan(withTechnique(options, 'ping'));
}

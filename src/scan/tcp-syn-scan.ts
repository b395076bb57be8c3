/**
 * TCP SYN scan (nmap's `-sS`, half-open): SYN-ACK means open, RST closed,
 * silence after every retry filtered, ICMP unreachable filtered with its reason.
 * The kernel answers the SYN-ACKs with RST by itself, which closes the
 * half-open connection on the target.
 *
 * @module
 */
import { scan, withTechnique, type Scan } from './scan.js';
import type { PortScanOptions } from './scan-options.js';

/** Options of {@link tcpSynScan}. */
export interface SynScanOptions extends PortScanOptions {
  /**
   * What to do without raw sockets: `'connect'` runs a connect scan instead
   * (a `FALLBACK_CONNECT` warning says why; its events say `method: 'connect'`);
   * `'none'` (default) throws `ERR_RAW_PERMISSION` or `ERR_RAW_UNAVAILABLE`.
   */
  readonly fallback?: 'connect' | 'none';
  /** Worker threads of the connect scan it falls back to (see `ConnectScanOptions.workers`). */
  readonly workers?: number;
  /**
   * Record each SYN/ACK's options in its `port` event (`tcpOptions`, nmap's
   * letters), for passive OS hints. The SYNs then offer MSS, SACK permitted,
   * timestamps and window scale, as a Linux client's do (nmap's offer only
   * MSS), so that the reply shows the target's own option order.
   */
  readonly tcpOptions?: boolean;
}

/**
 * Scans TCP ports with SYN probes. Needs raw sockets (root or CAP_NET_RAW) unless `fallback: 'connect'`.
 *
 * @example
 * ```ts
 * for await (const event of tcpSynScan({ targets: '127.0.0.1', ports: '1-1024', timing: 'T4', skipDiscovery: true })) {
 *   if (event.type === 'port' && event.state === 'open') console.log(event.port);
 * }
 * ```
 */
export function tcpSynScan(options: SynScanOptions): Scan {
  return scan(withTechnique(options, 'syn'));
}

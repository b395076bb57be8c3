/**
 * TCP connect scan (nmap's `-sT`): no privileges needed. A connection means
 * open (`syn-ack`), a refusal closed (`conn-refused`), a timeout after every
 * retry filtered (`no-response`), and the errors the kernel derives from ICMP
 * filtered with the matching reason. Unless `skipDiscovery`, hosts are first
 * pinged the way nmap does without privileges: a connection to ports 80 and
 * 443, where any answer (even a refusal) means the host is up.
 *
 * @module
 */
import { scan, withTechnique, type Scan } from './scan.js';
import type { PortScanOptions } from './scan-options.js';

/**
 * Options of {@link tcpConnectScan}.
 *
 * @example
 * ```ts
 * const options: ConnectScanOptions = { targets: '127.0.0.1', ports: '-', timing: 'T4', workers: 2, skipDiscovery: true };
 * ```
 */
export interface ConnectScanOptions extends PortScanOptions {
  /**
   * Worker threads that make the connection attempts (the kernel's work for
   * each handshake runs on the thread that connects). 0 connects on this
   * thread. Default: the cores available (at most 4) for unpaced scans of
   * 4096 pairs or more; 0 for smaller scans and for scans paced by `rate` or
   * a scan delay, which gain nothing from them. Worker threads run each
   * pair's whole series of attempts; this thread makes one at a time.
   */
  readonly workers?: number;
}

/**
 * Scans TCP ports with full connections.
 *
 * @example
 * ```ts
 * for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: '22,80,443', skipDiscovery: true })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export function tcpConnectScan(options: ConnectScanOptions): Scan {
  return scan(withTechnique(options, 'connect'));
}

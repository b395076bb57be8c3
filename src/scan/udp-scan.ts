/**
 * UDP scan (nmap's `-sU`): a reply means open, ICMP port unreachable closed,
 * other unreachable codes filtered, silence `open|filtered`. Targets
 * rate-limit their ICMP errors (Linux: about one per second per source by
 * default), so when answers come only after retransmission the scan slows
 * down its sends to that host, as nmap does, rather than call closed ports
 * open|filtered.
 *
 * @module
 */
import { scan, withTechnique, type Scan } from './scan.js';
import type { PortScanOptions } from './scan-options.js';

/**
 * Scans UDP ports. Needs raw sockets (root or CAP_NET_RAW).
 *
 * @example
 * ```ts
 * for await (const event of udpScan({ targets: '127.0.0.1', ports: '53,123,161', skipDiscovery: true })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export function udpScan(options: PortScanOptions): Scan {
  return scan(withTechnique(options, 'udp'));
}

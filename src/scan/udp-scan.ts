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
import { createDiscoveryModule } from './discovery-probe.js';
import type { ScanEvent } from './events.js';
import { runPortScan } from './probe-scan.js';
import { withReverseNames } from './reverse-names.js';
import { lazyGenerator } from './lazy-generator.js';
import type { PortScanOptions } from './scan-options.js';
import { createUdpProbeModule } from './udp-probe.js';

/**
 * Scans UDP ports. Needs raw sockets (root or CAP_NET_RAW).
 *
 * @example
 * ```ts
 * for await (const event of udpScan({ targets: '198.18.1.10', ports: '53,123,161' })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export function udpScan(options: PortScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  return lazyGenerator(() => withReverseNames(runPortScan(options, () => createUdpProbeModule(options.ttl), 'udp', 'udp', createDiscoveryModule()), options));
}

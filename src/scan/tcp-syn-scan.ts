/**
 * TCP SYN scan (nmap's `-sS`, half-open): SYN-ACK means open, RST closed,
 * silence after every retry filtered, ICMP unreachable filtered with its reason.
 * The kernel answers the SYN-ACKs with RST by itself, which closes the
 * half-open connection on the target.
 *
 * @module
 */
import { hasRawPermission } from '../transport/privileges.js';
import { createDiscoveryModule } from './discovery-probe.js';
import type { ScanEvent } from './events.js';
import { runPortScan, throwIfAborted } from './probe-scan.js';
import type { PortScanOptions } from './scan-options.js';
import { connectScan } from './tcp-connect-scan.js';
import { withReverseNames } from './reverse-names.js';
import { lazyGenerator } from './lazy-generator.js';
import { createTcpProbeModule } from './tcp-probe.js';

/** Options of {@link tcpSynScan}. */
export interface SynScanOptions extends PortScanOptions {
  /**
   * What to do without raw-socket permission: `'connect'` runs a connect scan
   * instead (its events say `method: 'connect'`); `'none'` (default) throws
   * `ERR_RAW_PERMISSION`.
   */
  readonly fallback?: 'connect' | 'none';
}

/**
 * Scans TCP ports with SYN probes. Needs raw sockets (root or CAP_NET_RAW) unless `fallback: 'connect'`.
 *
 * @example
 * ```ts
 * for await (const event of tcpSynScan({ targets: '198.18.1.10', ports: '1-1024', timing: 'T4' })) {
 *   if (event.type === 'port' && event.state === 'open') console.log(event.port);
 * }
 * ```
 */
export function tcpSynScan(options: SynScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  const synScan = (): AsyncGenerator<ScanEvent, void, undefined> =>
    runPortScan(options, () => createTcpProbeModule('syn', undefined, options.ttl), 'syn', 'tcp', createDiscoveryModule());
  return lazyGenerator(() => withReverseNames(options.fallback === 'connect' ? synOrConnectScan(options, synScan) : synScan(), options));
}

/** With `fallback: 'connect'`: the SYN scan, or a connect scan when raw sockets are not allowed (decided on the first read). */
async function* synOrConnectScan(options: SynScanOptions, synScan: () => AsyncGenerator<ScanEvent, void, undefined>): AsyncGenerator<ScanEvent, void, undefined> {
  throwIfAborted(options.signal);
  if (hasRawPermission(4)) {
    yield* synScan();
    return;
  }
  yield {
    type: 'warning',
    code: 'FALLBACK_CONNECT',
    message: 'No raw socket permission (CAP_NET_RAW): running a TCP connect scan instead of a SYN scan; its events say method "connect".',
  };
  yield* connectScan(options);
}

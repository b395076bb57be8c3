/**
 * The TCP flag scans: ACK (`-sA`: unfiltered / filtered), FIN (`-sF`), NULL
 * (`-sN`), Xmas (`-sX`), Maimon (`-sM`) (open|filtered / closed / filtered),
 * Window (`-sW`), and custom flags (`--scanflags`).
 *
 * @module
 */
import { scan, type Scan } from './scan.js';
import type { PortScanOptions } from './scan-options.js';
import type { TcpScanType } from './tcp-probe.js';

/** Options of {@link tcpFlagScan}. */
export interface FlagScanOptions extends PortScanOptions {
  /** The technique. */
  readonly scan: Exclude<TcpScanType, 'syn'> | 'custom';
  /**
   * With `scan: 'custom'`: the flags to send (a bit mask of `TcpFlags`), read
   * as the technique named by `interpretAs` (default `'syn'`) reads replies.
   */
  readonly flags?: number;
  readonly interpretAs?: TcpScanType;
}

/**
 * Scans TCP ports with ACK, FIN, NULL, Xmas, Maimon, Window or custom probes. Needs raw sockets.
 *
 * @example
 * ```ts
 * for await (const event of tcpFlagScan({ targets: '127.0.0.1', ports: '22,80', scan: 'ack', skipDiscovery: true })) {
 *   if (event.type === 'port') console.log(event.port, event.state); // unfiltered or filtered
 * }
 * ```
 */
export function tcpFlagScan(options: FlagScanOptions): Scan {
  // A missing options object is reported by scan(), as by every scanner.
  if (typeof options !== 'object' || options === null) return scan(options);
  const { scan: technique, ...rest } = options;
  return scan({ ...rest, technique });
}

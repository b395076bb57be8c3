/**
 * The TCP flag scans from the raw engine: ACK (`-sA`: unfiltered / filtered),
 * FIN (`-sF`), NULL (`-sN`), Xmas (`-sX`), Maimon (`-sM`) (open|filtered /
 * closed / filtered), Window (`-sW`), and custom flags (`--scanflags`).
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { createDiscoveryModule } from './discovery-probe.js';
import type { ScanEvent } from './events.js';
import { runPortScan } from './probe-scan.js';
import { withReverseNames } from './reverse-names.js';
import { lazyGenerator } from './lazy-generator.js';
import type { ProbeModule } from './probe-engine.js';
import type { PortScanOptions } from './scan-options.js';
import { createTcpProbeModule, type TcpScanType } from './tcp-probe.js';

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
 * for await (const event of tcpFlagScan({ targets: '198.18.1.10', ports: '22,80', scan: 'ack' })) {
 *   if (event.type === 'port') console.log(event.port, event.state); // unfiltered or filtered
 * }
 * ```
 */
export function tcpFlagScan(options: FlagScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  // Options are read on the first read of the scan, where bad ones are reported, as for every scanner.
  return lazyGenerator(() => withReverseNames(runPortScan(options, () => flagModule(options), options.scan, 'tcp', createDiscoveryModule()), options));
}

/** The probe module of a flag scan's options. */
function flagModule(options: FlagScanOptions): ProbeModule {
  if (options.scan === 'custom') {
    const flags = options.flags;
    if (flags === undefined || !Number.isInteger(flags) || flags < 0 || flags > 0xff) {
      throw new PortscoutError('ERR_INVALID_OPTION', `A custom flag scan needs flags: an integer bit mask 0-255 of TcpFlags (e.g. TcpFlags.SYN | TcpFlags.FIN); got ${String(flags)}.`);
    }
    return createTcpProbeModule(options.interpretAs ?? 'syn', flags, options.ttl);
  }
  const known: readonly string[] = ['ack', 'fin', 'null', 'xmas', 'maimon', 'window'];
  if (!known.includes(options.scan)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Unknown flag scan ${JSON.stringify(options.scan)}: use one of ${known.join(', ')} or 'custom'.`);
  }
  return createTcpProbeModule(options.scan, undefined, options.ttl);
}

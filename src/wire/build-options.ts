/**
 * Options shared by every builder: where to write, and which computed fields
 * to leave as given.
 *
 * @module
 */
import { WireError } from './wire-error.js';

/**
 * Where a builder writes. Without `target` a new `Uint8Array` is allocated;
 * with it the packet is written at `offset` (default 0) and the returned
 * array is a view of `target`.
 *
 * @example
 * ```ts
 * const frame = new Uint8Array(1500);
 * buildUdpDatagram({ sourcePort: 1, destinationPort: 2 }, undefined, { target: frame, offset: 20 });
 * ```
 */
export interface BuildTarget {
  readonly target?: Uint8Array;
  readonly offset?: number;
}

/**
 * Builder options. By default builders compute lengths and checksums;
 * `keepChecksum` / `keepLength` write the values given in the init object
 * instead (0 when absent), to craft broken packets on purpose.
 *
 * @example
 * ```ts
 * buildIpv4Packet({ protocol: 6, source: '198.18.0.1', destination: '198.18.0.2', checksum: 0xdead }, payload, { keepChecksum: true });
 * ```
 */
export interface BuildOptions extends BuildTarget {
  readonly keepChecksum?: boolean;
  readonly keepLength?: boolean;
}

/**
 * The bytes a builder writes into: a view of `options.target` at
 * `options.offset`, or a new array. Throws `ERR_WIRE_BUFFER_TOO_SMALL` when
 * the target cannot hold `length` bytes.
 *
 * @example
 * ```ts
 * const out = outputBuffer(20, { target: new Uint8Array(64), offset: 14 }, 'IPv4 packet');
 * ```
 */
export function outputBuffer(length: number, options: BuildTarget | undefined, what: string): Uint8Array {
  const target = options?.target;
  if (!target) return new Uint8Array(length);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset + length > target.length) {
    throw new WireError(
      'ERR_WIRE_BUFFER_TOO_SMALL',
      `${what} needs ${length} bytes at offset ${offset}: target has ${target.length} bytes`,
    );
  }
  return target.subarray(offset, offset + length);
}

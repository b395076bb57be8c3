/**
 * Header layouts as named byte ranges, in the manner of smoltcp's `mod field`:
 * each protocol file exports a frozen object of {@link ByteField}s
 * (`TcpField`, `UdpField`, `Ipv4Field`, `Ipv6Field`, `IcmpField`), and code
 * reads and writes `TcpField.CHECKSUM.start` instead of a bare `16`.
 *
 * @module
 */

/**
 * The half-open byte range `[start, end)` of one header field, relative to
 * the start of its header (like smoltcp's `Field = Range<usize>`).
 *
 * @example
 * ```ts
 * const checksum: ByteField = TcpField.CHECKSUM; // { start: 16, end: 18 }
 * readUint16(segment, checksum.start);
 * segment.subarray(checksum.start, checksum.end); // the 2 checksum bytes
 * ```
 */
export interface ByteField {
  /** First byte of the field. */
  readonly start: number;
  /** One past the last byte of the field. */
  readonly end: number;
}

/**
 * A frozen {@link ByteField} for bytes `start` to `end - 1`.
 *
 * @example
 * ```ts
 * const TTL = byteField(8, 9);
 * packet[TTL.start]; // the IPv4 TTL
 * ```
 */
export function byteField(start: number, end: number): ByteField {
  return Object.freeze({ start, end });
}

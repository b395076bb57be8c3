/**
 * The Internet checksum (RFC 1071), pseudo-header sums for TCP/UDP/ICMPv6
 * over IPv4 (RFC 793) and IPv6 (RFC 8200 section 8.1), and incremental update
 * (RFC 1624).
 *
 * Sums are plain numbers. {@link onesComplementSum} returns the sum folded to
 * 16 bits but not complemented, so partial sums can be added together and
 * passed on as `initial`: the checksum of a packet is
 * `internetChecksum(packet, 0, len, pseudoHeaderSum)`. A partial range must
 * start at an even offset of the checksummed data; only the last range may
 * have an odd length (it is padded with a zero byte).
 *
 * @module
 */

/**
 * Folds a sum of 16-bit words (any non-negative safe integer) to 16 bits with
 * end-around carry.
 *
 * @example
 * ```ts
 * foldChecksum(0x1_fffe); // 0xffff
 * ```
 */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The ones' complement sum of the 16-bit big-endian words of `bytes[start..end)`,
 * plus `initial`, folded to 16 bits (0-0xffff) and NOT complemented. An odd
 * final byte is padded with zero.
 *
 * @example
 * ```ts
 * onesComplementSum(new Uint8Array([0x00, 0x01, 0xf2, 0x03])); // 0xf204
 * ```
 */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  if (end > bytes.length) end = bytes.length;
  let sum = initial;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i === last) sum += bytes[i]! << 8;
  return foldChecksum(sum);
}

/**
 * The Internet checksum of `bytes[start..end)` (RFC 1071): the ones' complement
 * of the ones' complement sum, as the 16-bit value to store in a header.
 * Over data that contains a correct checksum the result is 0.
 *
 * @example
 * ```ts
 * // RFC 1071 section 3 example bytes: sum 0xddf2, checksum 0x220d
 * internetChecksum(new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])); // 0x220d
 * ```
 */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return ~onesComplementSum(bytes, start, end, initial) & 0xffff;
}

function addressSum(address: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < address.length; i += 2) sum += (address[i]! << 8) | address[i + 1]!;
  return sum;
}

/**
 * The folded sum of the IPv4 pseudo-header (source, destination, zero,
 * protocol, upper-layer length) used by TCP and UDP checksums.
 *
 * @example
 * ```ts
 * const initial = ipv4PseudoHeaderSum(src, dst, IpProtocol.TCP, segment.length);
 * const checksum = internetChecksum(segment, 0, segment.length, initial);
 * ```
 */
export function ipv4PseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, length: number): number {
  return foldChecksum(addressSum(source) + addressSum(destination) + protocol + length);
}

/**
 * The folded sum of the IPv6 pseudo-header (RFC 8200 section 8.1: source,
 * destination, 32-bit upper-layer length, 24 zero bits, next header).
 *
 * @example
 * ```ts
 * const initial = ipv6PseudoHeaderSum(src, dst, IpProtocol.ICMPV6, message.length);
 * ```
 */
export function ipv6PseudoHeaderSum(source: Uint8Array, destination: Uint8Array, nextHeader: number, length: number): number {
  return foldChecksum(addressSum(source) + addressSum(destination) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader);
}

/**
 * The pseudo-header sum for either family, chosen by the address length
 * (4 bytes: IPv4, 16 bytes: IPv6).
 *
 * @example
 * ```ts
 * pseudoHeaderSum(parseIpv6Address('::1'), parseIpv6Address('::1'), 6, 20);
 * ```
 */
export function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, length: number): number {
  return source.length === 16
    ? ipv6PseudoHeaderSum(source, destination, protocol, length)
    : ipv4PseudoHeaderSum(source, destination, protocol, length);
}

/**
 * Updates a stored checksum after one 16-bit word of the data changed from
 * `oldWord` to `newWord`, without summing the data again (RFC 1624 eqn. 3:
 * `HC' = ~(~HC + ~m + m')`). Equal to a full recompute, except that when the
 * new data sums to zero this gives 0x0000 where a recompute gives 0xffff
 * (both are "-0" and "+0" of the same value and both verify).
 *
 * @example
 * ```ts
 * const next = updateChecksum(header.checksum, oldTtlProtocolWord, newTtlProtocolWord);
 * ```
 */
export function updateChecksum(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldChecksum(sum) & 0xffff;
}

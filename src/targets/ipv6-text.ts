/**
 * IPv6 addresses as four unsigned 32-bit words (most significant first) or as
 * a bigint: parsing with `ip-address`, and fast formatting in the canonical
 * form Node itself prints (RFC 5952: lower case, the longest run of two or
 * more zero groups compressed, the leftmost on a tie; IPv4-mapped and
 * IPv4-compatible addresses with a dotted quad, as `inet_ntop` does).
 *
 * @module
 */
import { Address6 } from 'ip-address';
import { formatIpv6Words } from '../wire/address-text.js';

export { formatIpv6Words };

const MASK32 = 0xffffffffn;

/**
 * Splits a 128-bit address value into four unsigned 32-bit words, most significant first.
 *
 * @example
 * ```ts
 * ipv6Words(1n); // [0, 0, 0, 1]
 * ```
 */
export function ipv6Words(value: bigint): [number, number, number, number] {
  return [Number((value >> 96n) & MASK32), Number((value >> 64n) & MASK32), Number((value >> 32n) & MASK32), Number(value & MASK32)];
}

/**
 * Formats a 128-bit address value in Node's canonical form.
 *
 * @example
 * ```ts
 * formatIpv6(0xfd00n << 112n | 1n); // 'fd00::1'
 * ```
 */
export function formatIpv6(value: bigint): string {
  const [w0, w1, w2, w3] = ipv6Words(value);
  return formatIpv6Words(w0, w1, w2, w3);
}

/**
 * Parses an IPv6 address (any RFC 4291 text form, an embedded dotted quad
 * allowed) into its 128-bit value; `undefined` when the text is not one.
 * Prefixes and zone identifiers are not accepted here.
 *
 * @example
 * ```ts
 * parseIpv6('fd00::1'); // 0xfd000000000000000000000000000001n
 * ```
 */
export function parseIpv6(text: string): bigint | undefined {
  if (text.includes('/') || text.includes('%') || !text.includes(':')) return undefined;
  if (!Address6.isValid(text)) return undefined;
  try {
    return new Address6(text).bigInt();
  } catch {
    return undefined;
  }
}

/**
 * The sixteen bytes of an IPv6 address given as four 32-bit words (network order).
 *
 * @example
 * ```ts
 * ipv6Bytes(0xfd000000, 0, 0, 1); // Uint8Array [0xfd, 0, ..., 1]
 * ```
 */
export function ipv6Bytes(w0: number, w1: number, w2: number, w3: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, w0 >>> 0);
  view.setUint32(4, w1 >>> 0);
  view.setUint32(8, w2 >>> 0);
  view.setUint32(12, w3 >>> 0);
  return bytes;
}

/**
 * IPv4 addresses as unsigned 32-bit numbers: strict dotted-quad parsing and
 * fast formatting (the scan order's hot path formats one address per pair).
 *
 * @module
 */

export { formatIpv4 } from '../wire/address-text.js';

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses a dotted-quad IPv4 address (four decimal octets 0-255) into an
 * unsigned 32-bit number; `undefined` when the text is not one.
 *
 * @example
 * ```ts
 * parseIpv4('198.18.0.1'); // 3323068417
 * parseIpv4('198.18.0.300'); // undefined
 * ```
 */
export function parseIpv4(text: string): number | undefined {
  const match = DOTTED_QUAD.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * The four bytes of an IPv4 address held as a number (network order).
 *
 * @example
 * ```ts
 * ipv4Bytes(0xc6120001); // Uint8Array [198, 18, 0, 1]
 * ```
 */
export function ipv4Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  bytes[0] = value >>> 24;
  bytes[1] = value >>> 16;
  bytes[2] = value >>> 8;
  bytes[3] = value;
  return bytes;
}

/**
 * IPv4 and IPv6 address text <-> bytes, without Node's `net` module.
 * Formatting follows RFC 5952 (lowercase, longest zero run compressed).
 *
 * @module
 */
import { WireError } from './wire-error.js';
import { formatIpv4, formatIpv6Words } from './address-text.js';

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;

function tryParseIpv4(text: string, out: Uint8Array, offset: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!IPV4_PART.test(part)) return false;
    const n = Number(part);
    if (n > 255) return false;
    out[offset + i] = n;
  }
  return true;
}

/**
 * Parses dotted-quad IPv4 text into 4 bytes. Leading zeros (`'01'`, which some
 * tools read as octal) are refused. Throws `WireError` (`ERR_WIRE_ADDRESS_SYNTAX`).
 *
 * @example
 * ```ts
 * parseIpv4Address('127.0.0.1'); // Uint8Array [127, 0, 0, 1]
 * ```
 */
export function parseIpv4Address(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!tryParseIpv4(text, out, 0)) {
    throw new WireError('ERR_WIRE_ADDRESS_SYNTAX', `'${text}' is not an IPv4 address (expected a.b.c.d with each part 0-255)`);
  }
  return out;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function tryParseIpv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const out = new Uint8Array(16);
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return undefined;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 address may end the text (e.g. ::ffff:192.0.2.1).
  const last = doubleColon === -1 ? headGroups : tailGroups;
  let ipv4: Uint8Array | undefined;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) {
    ipv4 = new Uint8Array(4);
    if (!tryParseIpv4(last.pop()!, ipv4, 0)) return undefined;
  }
  const groupsWanted = ipv4 ? 6 : 8;
  const given = headGroups.length + tailGroups.length;
  if (doubleColon === -1 ? given !== groupsWanted : given > groupsWanted - 1) return undefined;
  const words: number[] = [];
  for (const g of headGroups) {
    if (!HEX_GROUP.test(g)) return undefined;
    words.push(parseInt(g, 16));
  }
  for (let i = given; i < groupsWanted; i++) words.push(0);
  for (const g of tailGroups) {
    if (!HEX_GROUP.test(g)) return undefined;
    words.push(parseInt(g, 16));
  }
  for (let i = 0; i < groupsWanted; i++) {
    out[i * 2] = words[i]! >>> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  if (ipv4) out.set(ipv4, 12);
  return out;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2 forms, including `::` and a trailing
 * dotted quad) into 16 bytes. Zone indices (`%eth0`) are refused.
 * Throws `WireError` (`ERR_WIRE_ADDRESS_SYNTAX`).
 *
 * @example
 * ```ts
 * parseIpv6Address('::1'); // 15 zero bytes then 1
 * ```
 */
export function parseIpv6Address(text: string): Uint8Array {
  const out = tryParseIpv6(text);
  if (!out) throw new WireError('ERR_WIRE_ADDRESS_SYNTAX', `'${text}' is not an IPv6 address`);
  return out;
}

/**
 * Formats 4 bytes at `offset` as dotted-quad text. The caller makes sure 4 bytes are there.
 *
 * @example
 * ```ts
 * formatIpv4Address(new Uint8Array([10, 0, 0, 1])); // '10.0.0.1'
 * ```
 */
export function formatIpv4Address(bytes: Uint8Array, offset = 0): string {
  return formatIpv4(readWord(bytes, offset));
}

/**
 * Formats 16 bytes at `offset` as canonical IPv6 text, the form of every
 * layer (`formatIpv6Words` in address-text.ts): RFC 5952 lowercase hex without leading
 * zeros, the longest run of two or more zero groups (the first one on a tie)
 * written `::`, and IPv4-mapped and IPv4-compatible addresses with a dotted
 * quad (`::ffff:a.b.c.d`, `::a.b.c.d`), as `inet_ntop` and Node print them.
 *
 * @example
 * ```ts
 * formatIpv6Address(parseIpv6Address('2001:DB8:0:0:1:0:0:1')); // '2001:db8::1:0:0:1'
 * ```
 */
export function formatIpv6Address(bytes: Uint8Array, offset = 0): string {
  return formatIpv6Words(readWord(bytes, offset), readWord(bytes, offset + 4), readWord(bytes, offset + 8), readWord(bytes, offset + 12));
}

/** The unsigned 32-bit big-endian word at `offset`. */
function readWord(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/**
 * Whether `text` is a valid IPv4 (`4`) or IPv6 (`6`) address, or neither (`0`).
 *
 * @example
 * ```ts
 * ipAddressFamily('::1'); // 6
 * ```
 */
export function ipAddressFamily(text: string): 0 | 4 | 6 {
  if (tryParseIpv4(text, new Uint8Array(4), 0)) return 4;
  return tryParseIpv6(text) ? 6 : 0;
}

/**
 * Turns an address given as text or bytes into bytes of the required family.
 * `field` names the address in error messages (e.g. `'IPv4 source address'`).
 * Throws `WireError` `ERR_WIRE_ADDRESS_FAMILY` for the wrong family.
 *
 * @example
 * ```ts
 * addressBytes('127.0.0.1', 4, 'IPv4 source address'); // Uint8Array [127, 0, 0, 1]
 * addressBytes('::1', 4, 'IPv4 source address'); // throws WireError
 * ```
 */
export function addressBytes(address: string | Uint8Array, family: 4 | 6 | undefined, field: string): Uint8Array {
  let bytes: Uint8Array | undefined;
  if (typeof address === 'string') {
    const v4 = new Uint8Array(4);
    bytes = tryParseIpv4(address, v4, 0) ? v4 : tryParseIpv6(address);
    if (!bytes) throw new WireError('ERR_WIRE_ADDRESS_SYNTAX', `${field} '${address}' is not an IPv4 or IPv6 address`);
  } else {
    bytes = address;
    if (bytes.length !== 4 && bytes.length !== 16) {
      throw new WireError('ERR_WIRE_ADDRESS_FAMILY', `${field} has ${bytes.length} bytes: allowed 4 (IPv4) or 16 (IPv6)`);
    }
  }
  const wanted = family === 4 ? 4 : family === 6 ? 16 : bytes.length;
  if (bytes.length !== wanted) {
    const shown = typeof address === 'string' ? `'${address}'` : `of ${bytes.length} bytes`;
    throw new WireError(
      'ERR_WIRE_ADDRESS_FAMILY',
      `${field} ${shown} is an IPv${bytes.length === 4 ? 4 : 6} address: allowed only IPv${family ?? ''} addresses (${wanted} bytes)`,
    );
  }
  return bytes;
}

/**
 * One target specification, as a user writes it, parsed into a
 * {@link TargetSpec}: a single address, a CIDR block, an nmap octet range, a
 * dash range between two addresses, or a host name.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { formatIpv4, parseIpv4 } from './ipv4-text.js';
import { formatIpv6, parseIpv6 } from './ipv6-text.js';

/**
 * What every target syntax looks like, quoted in error messages.
 *
 * @example
 * ```ts
 * console.log(TARGET_SYNTAX_HELP);
 * ```
 */
export const TARGET_SYNTAX_HELP =
  'Allowed: an IPv4 or IPv6 address (198.18.0.1, fd00::1), a CIDR block (198.18.0.0/24, fd00::/120), ' +
  'an nmap octet range (198.18.0-3.1-254, 198.18.*.1, 198.18.0.1,3,5), a dash range between two addresses ' +
  '(198.18.0.250-198.18.1.5, fd00::1-fd00::ff) or a host name (example.com, example.com/28).';

/**
 * A single address (`198.18.0.1`, `fd00::1`).
 *
 * @example
 * ```ts
 * parseTargetSpec('fd00::1'); // { kind: 'address', family: 6, address: 'fd00::1', value: 0xfd00...1n }
 * ```
 */
export interface AddressTargetSpec {
  readonly kind: 'address';
  readonly family: 4 | 6;
  /**
 * The text as given. */
  readonly text: string;
  /**
 * Canonical text of the address. */
  readonly address: string;
  /**
 * The address as a number (32 or 128 bits). */
  readonly value: bigint;
}

/**
 * A CIDR block; host bits in the given address are ignored (`198.18.0.77/24` is the whole /24, as in nmap).
 *
 * @example
 * ```ts
 * parseTargetSpec('198.18.0.77/24'); // { kind: 'cidr', prefix: 24, first: 198.18.0.0, last: 198.18.0.255 (as bigint) }
 * ```
 */
export interface CidrTargetSpec {
  readonly kind: 'cidr';
  readonly family: 4 | 6;
  readonly text: string;
  readonly prefix: number;
  /** First and last address of the block, inclusive. */
  readonly first: bigint;
  readonly last: bigint;
}

/** An nmap octet range (`198.18.0-3.1-254`, `198.18.*.1`, `198.18.0.1,3,5`): the product of four octet sets.
 *
 * @example
 * ```ts
 * parseTargetSpec('198.18.0.1,3,5'); // { kind: 'octet-range', octets: [[198], [18], [0], [1, 3, 5]] }
 * ```
 */
export interface OctetRangeTargetSpec {
  readonly kind: 'octet-range';
  readonly family: 4;
  readonly text: string;
  /** The values of each of the four octets, ascending, unique. */
  readonly octets: readonly [readonly number[], readonly number[], readonly number[], readonly number[]];
}

/** Every address from `first` to `last` inclusive (`198.18.0.250-198.18.1.5`, `fd00::1-fd00::ff`).
 *
 * @example
 * ```ts
 * parseTargetSpec('198.18.0.250-198.18.1.5'); // { kind: 'dash-range', family: 4, ... }
 * ```
 */
export interface DashRangeTargetSpec {
  readonly kind: 'dash-range';
  readonly family: 4 | 6;
  readonly text: string;
  readonly first: bigint;
  readonly last: bigint;
}

/** A host name, resolved when the scan is planned; an optional prefix widens each address to its block (`example.com/28`).
 *
 * @example
 * ```ts
 * parseTargetSpec('example.com/28'); // { kind: 'hostname', name: 'example.com', prefix: 28 }
 * ```
 */
export interface HostnameTargetSpec {
  readonly kind: 'hostname';
  readonly text: string;
  readonly name: string;
  readonly prefix?: number;
}

/**
 * A parsed target specification.
 *
 * @example
 * ```ts
 * const spec: TargetSpec = parseTargetSpec('198.18.0.0/24');
 * if (spec.kind === 'cidr') console.log(spec.prefix); // 24
 * ```
 */
export type TargetSpec = AddressTargetSpec | CidrTargetSpec | OctetRangeTargetSpec | DashRangeTargetSpec | HostnameTargetSpec;

function invalid(text: string, reason: string): PortscoutError {
  return new PortscoutError('ERR_INVALID_TARGET', `Invalid target ${JSON.stringify(text)}: ${reason}. ${TARGET_SYNTAX_HELP}`);
}

const HOST_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`);
const IPV4_CHARS = /^[0-9.,*-]+$/;

/**
 * Whether `name` is a syntactically valid host name (RFC 1123 labels, underscores tolerated, at least one letter).
 *
 * @example
 * ```ts
 * isHostname('scanme.example'); // true
 * isHostname('10.0.0.300'); // false
 * ```
 */
export function isHostname(name: string): boolean {
  return name.length <= 254 && HOSTNAME.test(name) && /[A-Za-z]/.test(name);
}

function parseOctet(text: string, part: string, position: number): number[] {
  const which = ['first', 'second', 'third', 'fourth'][position]!;
  if (part === '') throw invalid(text, `the ${which} octet is empty`);
  const present = new Array<boolean>(256).fill(false);
  const items = part === '*' ? ['0-255'] : part.split(',');
  for (const item of items) {
    let low: number;
    let high: number;
    const single = /^\d+$/.exec(item);
    const range = /^(\d*)-(\d*)$/.exec(item);
    if (single) {
      low = high = Number(item);
    } else if (range) {
      low = range[1] === '' ? 0 : Number(range[1]);
      high = range[2] === '' ? 255 : Number(range[2]);
    } else {
      throw invalid(text, `the ${which} octet ${JSON.stringify(part)} is not a number, a range a-b, a comma list of those, or *`);
    }
    for (const value of [low, high]) {
      if (value > 255) throw invalid(text, `octet value ${value} is out of range 0-255`);
    }
    if (low > high) throw invalid(text, `octet range ${item} ends before it starts`);
    for (let v = low; v <= high; v++) present[v] = true;
  }
  const values: number[] = [];
  for (let v = 0; v < 256; v++) if (present[v]) values.push(v);
  return values;
}

function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: BigInt(v4) };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/**
 * Formats a 32- or 128-bit address value as canonical text.
 *
 * @example
 * ```ts
 * formatAddress(4, 0xc6120001n); // '198.18.0.1'
 * ```
 */
export function formatAddress(family: 4 | 6, value: bigint): string {
  return family === 4 ? formatIpv4(Number(value)) : formatIpv6(value);
}

/**
 * The first and last address of the block of `prefix` bits that holds `value`.
 *
 * @example
 * ```ts
 * blockOf(4, 0xc612004dn, 24); // { first: 0xc6120000n, last: 0xc61200ffn }
 * ```
 */
export function blockOf(family: 4 | 6, value: bigint, prefix: number): { first: bigint; last: bigint } {
  const hostBits = BigInt((family === 4 ? 32 : 128) - prefix);
  const first = (value >> hostBits) << hostBits;
  return { first, last: first | ((1n << hostBits) - 1n) };
}

function parseCidr(text: string, slash: number): TargetSpec {
  const base = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw invalid(text, `the prefix length ${JSON.stringify(prefixText)} is not a number`);
  const prefix = Number(prefixText);
  const address = parseAddress(base);
  if (address) {
    const max = address.family === 4 ? 32 : 128;
    if (prefix > max) throw invalid(text, `prefix length /${prefix} is out of range 0-${max} for IPv${address.family}`);
    const { first, last } = blockOf(address.family, address.value, prefix);
    return { kind: 'cidr', family: address.family, text, prefix, first, last };
  }
  if (isHostname(base)) {
    if (prefix > 128) throw invalid(text, `prefix length /${prefix} is out of range 0-32 (IPv4) or 0-128 (IPv6)`);
    return { kind: 'hostname', text, name: base, prefix };
  }
  throw invalid(text, `${JSON.stringify(base)} before the prefix is neither a single address nor a host name`);
}

function parseIpv6Spec(text: string): TargetSpec {
  if (text.includes('%')) throw invalid(text, 'IPv6 zone identifiers are not supported');
  const value = parseIpv6(text);
  if (value !== undefined) return { kind: 'address', family: 6, text, address: formatIpv6(value), value };
  const dash = text.indexOf('-');
  if (dash > 0 && dash === text.lastIndexOf('-')) {
    const first = parseIpv6(text.slice(0, dash));
    const last = parseIpv6(text.slice(dash + 1));
    if (first === undefined || last === undefined) {
      throw invalid(text, `${JSON.stringify(first === undefined ? text.slice(0, dash) : text.slice(dash + 1))} is not a valid IPv6 address`);
    }
    if (first > last) throw invalid(text, 'the range ends before it starts');
    return { kind: 'dash-range', family: 6, text, first, last };
  }
  throw invalid(text, 'not a valid IPv6 address (eight 16-bit hexadecimal groups, :: once at most)');
}

function parseIpv4Spec(text: string): TargetSpec {
  const single = parseIpv4(text);
  if (single !== undefined) return { kind: 'address', family: 4, text, address: formatIpv4(single), value: BigInt(single) };
  const dash = text.indexOf('-');
  if (dash > 0 && dash === text.lastIndexOf('-')) {
    const left = text.slice(0, dash);
    const right = text.slice(dash + 1);
    if (left.split('.').length === 4 && right.split('.').length === 4) {
      const first = parseIpv4(left);
      const last = parseIpv4(right);
      if (first === undefined || last === undefined) {
        throw invalid(text, `${JSON.stringify(first === undefined ? left : right)} is not a valid IPv4 address (four octets 0-255)`);
      }
      if (first > last) throw invalid(text, 'the range ends before it starts');
      return { kind: 'dash-range', family: 4, text, first: BigInt(first), last: BigInt(last) };
    }
  }
  const parts = text.split('.');
  if (parts.length !== 4) throw invalid(text, `an IPv4 address or octet range has four octets, this has ${parts.length}`);
  const octets = parts.map((part, i) => parseOctet(text, part, i));
  return { kind: 'octet-range', family: 4, text, octets: [octets[0]!, octets[1]!, octets[2]!, octets[3]!] };
}

/**
 * Parses one target specification. Throws a `PortscoutError` with code
 * `ERR_INVALID_TARGET` that quotes the text and lists the allowed syntaxes.
 *
 * @example
 * ```ts
 * parseTargetSpec('198.18.0-3.1-254'); // { kind: 'octet-range', ... }
 * parseTargetSpec('fd00::/120'); // { kind: 'cidr', family: 6, prefix: 120, ... }
 * parseTargetSpec('10.0.0.0/33'); // throws ERR_INVALID_TARGET
 * ```
 */
export function parseTargetSpec(text: string): TargetSpec {
  const spec = text.trim();
  if (spec === '') throw invalid(text, 'it is empty');
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) return parseCidr(spec, slash);
  if (spec.includes(':')) return parseIpv6Spec(spec);
  if (IPV4_CHARS.test(spec)) return parseIpv4Spec(spec);
  if (isHostname(spec)) return { kind: 'hostname', text: spec, name: spec };
  throw invalid(spec, 'not an address, a range or a host name');
}

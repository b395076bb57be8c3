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
import { formatIpv4 } from './ipv4-text.js';

// Hex text of a 16-bit group from two 256-entry tables (they stay in the CPU
// cache; a 65536-entry table does not, and random scan orders miss it).
const HEX_SHORT: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const HEX_PAIR: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexGroup(group: number): string {
  return group < 256 ? HEX_SHORT[group]! : HEX_SHORT[group >>> 8]! + HEX_PAIR[group & 255]!;
}

/** For each bit mask of zero groups (bit 7 = group 0), the longest run of two or more (leftmost on a tie) as `base * 16 + length`, or 0. */
const ZERO_RUNS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let mask = 0; mask < 256; mask++) {
    let bestBase = -1;
    let bestLen = 0;
    let curBase = -1;
    for (let i = 0; i < 8; i++) {
      if (mask & (128 >> i)) {
        if (curBase < 0) curBase = i;
        if (i - curBase + 1 > bestLen) {
          bestLen = i - curBase + 1;
          bestBase = curBase;
        }
      } else {
        curBase = -1;
      }
    }
    table[mask] = bestLen >= 2 ? bestBase * 16 + bestLen : 0;
  }
  return table;
})();

const groups: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

// The text before the last two groups for the last high 96 bits seen, when
// both of those groups are non-zero (then the zero run and the embedded-IPv4
// choice depend on the high 96 bits only). Scans walk one prefix for long
// stretches, so most addresses format as prefix + two groups.
let cachedW0 = -1;
let cachedW1 = -1;
let cachedW2 = -1;
let cachedPrefix = '';
let cachedDotted = false;

/**
 * Formats an IPv6 address given as four unsigned 32-bit words, most
 * significant first, in Node's canonical form.
 *
 * @example
 * ```ts
 * formatIpv6Words(0xfd000000, 0, 0, 1); // 'fd00::1'
 * formatIpv6Words(0, 0, 0xffff, 0xc6120001); // '::ffff:198.18.0.1'
 * ```
 */
export function formatIpv6Words(w0: number, w1: number, w2: number, w3: number): string {
  const g6 = w3 >>> 16;
  const g7 = w3 & 0xffff;
  if (g6 === 0 || g7 === 0) return formatGroups(w0, w1, w2, w3);
  if (w0 !== cachedW0 || w1 !== cachedW1 || w2 !== cachedW2) {
    const sample = formatGroups(w0, w1, w2, 0x01010101);
    cachedDotted = sample.endsWith('1.1.1.1');
    // Both tails, '101:101' and '1.1.1.1', are seven characters.
    cachedPrefix = sample.slice(0, sample.length - 7);
    cachedW0 = w0;
    cachedW1 = w1;
    cachedW2 = w2;
  }
  return cachedDotted ? cachedPrefix + formatIpv4(w3 >>> 0) : cachedPrefix + hexGroup(g6) + ':' + hexGroup(g7);
}

function formatGroups(w0: number, w1: number, w2: number, w3: number): string {
  const g = groups;
  g[0] = w0 >>> 16;
  g[1] = w0 & 0xffff;
  g[2] = w1 >>> 16;
  g[3] = w1 & 0xffff;
  g[4] = w2 >>> 16;
  g[5] = w2 & 0xffff;
  g[6] = w3 >>> 16;
  g[7] = w3 & 0xffff;
  const mask =
    (g[0] === 0 ? 128 : 0) |
    (g[1] === 0 ? 64 : 0) |
    (g[2] === 0 ? 32 : 0) |
    (g[3] === 0 ? 16 : 0) |
    (g[4] === 0 ? 8 : 0) |
    (g[5] === 0 ? 4 : 0) |
    (g[6] === 0 ? 2 : 0) |
    (g[7] === 0 ? 1 : 0);
  const run = ZERO_RUNS[mask]!;
  if (run === 0) {
    let text = '';
    for (let i = 0; i < 7; i++) text += hexGroup(g[i]!) + ':';
    return text + hexGroup(g[7]!);
  }
  const base = run >>> 4;
  const end = base + (run & 15);
  if (base === 0 && (end === 6 || (end === 5 && g[5] === 0xffff))) {
    return (end === 6 ? '::' : '::ffff:') + formatIpv4(w3 >>> 0);
  }
  let text = base === 0 ? ':' : '';
  for (let i = 0; i < base; i++) text += hexGroup(g[i]!) + ':';
  if (end === 8) return text + ':';
  for (let i = end; i < 7; i++) text += ':' + hexGroup(g[i]!);
  return text + ':' + hexGroup(g[7]!);
}

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

/**
 * The one text form of IP addresses, for every layer: IPv4 as a dotted quad,
 * IPv6 in the canonical form Node itself prints (RFC 5952: lower case, the
 * longest run of two or more zero groups compressed, the leftmost on a tie;
 * IPv4-mapped and IPv4-compatible addresses with a dotted quad, as
 * `inet_ntop` does). Fast: table lookups, and the text of the last IPv6
 * prefix cached, since scans walk one prefix for long stretches.
 *
 * @module
 */

const OCTET_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Formats an IPv4 address held as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * formatIpv4(0xc6120001); // '198.18.0.1'
 * ```
 */
export function formatIpv4(value: number): string {
  return (
    OCTET_TEXT[(value >>> 24) & 255]! +
    '.' +
    OCTET_TEXT[(value >>> 16) & 255]! +
    '.' +
    OCTET_TEXT[(value >>> 8) & 255]! +
    '.' +
    OCTET_TEXT[value & 255]!
  );
}

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


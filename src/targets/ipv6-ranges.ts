/**
 * Sets of IPv6 addresses as sorted, disjoint, non-adjacent inclusive ranges of
 * 128-bit values (bigint endpoints). A /64 is one range.
 *
 * @module
 */

/**
 * A normalised list of IPv6 ranges: `starts[i] <= ends[i] < starts[i + 1] - 1n`.
 *
 * @example
 * ```ts
 * const ranges: Ipv6Ranges = { starts: [0xfd00n << 112n], ends: [(0xfd00n << 112n) | 0xffn] }; // fd00::/120
 * ```
 */
export interface Ipv6Ranges {
  readonly starts: readonly bigint[];
  readonly ends: readonly bigint[];
}

/**
 * Sorts and merges arbitrary inclusive ranges (overlapping or adjacent ones become one).
 *
 * @example
 * ```ts
 * normalizeIpv6Ranges([5n, 1n], [9n, 5n]); // { starts: [1n], ends: [9n] }
 * ```
 */
export function normalizeIpv6Ranges(starts: readonly bigint[], ends: readonly bigint[]): Ipv6Ranges {
  const order = Array.from(starts.keys()).sort((a, b) => (starts[a]! < starts[b]! ? -1 : starts[a]! > starts[b]! ? 1 : 0));
  const outStarts: bigint[] = [];
  const outEnds: bigint[] = [];
  for (const i of order) {
    const start = starts[i]!;
    const end = ends[i]!;
    const last = outEnds.length - 1;
    if (last >= 0 && start <= outEnds[last]! + 1n) {
      if (end > outEnds[last]!) outEnds[last] = end;
    } else {
      outStarts.push(start);
      outEnds.push(end);
    }
  }
  return { starts: outStarts, ends: outEnds };
}

/**
 * The addresses of `a` that are not in `b`, in linear time.
 *
 * @example
 * ```ts
 * subtractIpv6Ranges({ starts: [0n], ends: [9n] }, { starts: [3n], ends: [4n] }); // { starts: [0n, 5n], ends: [2n, 9n] }
 * ```
 */
export function subtractIpv6Ranges(a: Ipv6Ranges, b: Ipv6Ranges): Ipv6Ranges {
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  let j = 0;
  for (let i = 0; i < a.starts.length; i++) {
    let start = a.starts[i]!;
    const end = a.ends[i]!;
    while (j < b.starts.length && b.ends[j]! < start) j++;
    let k = j;
    while (start <= end) {
      if (k >= b.starts.length || b.starts[k]! > end) {
        starts.push(start);
        ends.push(end);
        break;
      }
      if (b.starts[k]! > start) {
        starts.push(start);
        ends.push(b.starts[k]! - 1n);
      }
      start = b.ends[k]! + 1n;
      k++;
    }
  }
  return { starts, ends };
}

/**
 * How many addresses a normalised list holds (exact).
 *
 * @example
 * ```ts
 * countIpv6Ranges({ starts: [0n], ends: [255n] }); // 256n
 * ```
 */
export function countIpv6Ranges(ranges: Ipv6Ranges): bigint {
  let count = 0n;
  for (let i = 0; i < ranges.starts.length; i++) count += ranges.ends[i]! - ranges.starts[i]! + 1n;
  return count;
}

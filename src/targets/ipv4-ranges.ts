/**
 * Sets of IPv4 addresses as sorted, disjoint, non-adjacent inclusive ranges of
 * unsigned 32-bit numbers. A /8 is one range, never sixteen million entries.
 *
 * @module
 */

/**
 * A normalised list of IPv4 ranges: `starts[i] <= ends[i] < starts[i + 1] - 1`.
 *
 * @example
 * ```ts
 * const ranges: Ipv4Ranges = { starts: [0xc6120000], ends: [0xc61200ff] }; // 198.18.0.0/24
 * ```
 */
export interface Ipv4Ranges {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

/**
 * Sorts and merges arbitrary inclusive ranges (overlapping or adjacent ones become one).
 *
 * @example
 * ```ts
 * normalizeIpv4Ranges([5, 1], [9, 5]); // { starts: [1], ends: [9] }
 * ```
 */
export function normalizeIpv4Ranges(starts: readonly number[], ends: readonly number[]): Ipv4Ranges {
  const order = Array.from(starts.keys());
  let sorted = true;
  for (let i = 1; i < starts.length; i++) {
    if (starts[i]! < starts[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (!sorted) order.sort((a, b) => starts[a]! - starts[b]!);
  const outStarts: number[] = [];
  const outEnds: number[] = [];
  for (const i of order) {
    const start = starts[i]!;
    const end = ends[i]!;
    const last = outEnds.length - 1;
    if (last >= 0 && start <= outEnds[last]! + 1) {
      if (end > outEnds[last]!) outEnds[last] = end;
    } else {
      outStarts.push(start);
      outEnds.push(end);
    }
  }
  return { starts: outStarts, ends: outEnds };
}

/**
 * The union of two normalised lists, in linear time.
 *
 * @example
 * ```ts
 * unionIpv4Ranges({ starts: [1], ends: [3] }, { starts: [4], ends: [6] }); // { starts: [1], ends: [6] }
 * ```
 */
export function unionIpv4Ranges(a: Ipv4Ranges, b: Ipv4Ranges): Ipv4Ranges {
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.starts.length || j < b.starts.length) {
    let start: number;
    let end: number;
    if (j >= b.starts.length || (i < a.starts.length && a.starts[i]! <= b.starts[j]!)) {
      start = a.starts[i]!;
      end = a.ends[i++]!;
    } else {
      start = b.starts[j]!;
      end = b.ends[j++]!;
    }
    const last = ends.length - 1;
    if (last >= 0 && start <= ends[last]! + 1) {
      if (end > ends[last]!) ends[last] = end;
    } else {
      starts.push(start);
      ends.push(end);
    }
  }
  return { starts, ends };
}

/**
 * The addresses of `a` that are not in `b`, in linear time.
 *
 * @example
 * ```ts
 * subtractIpv4Ranges({ starts: [0], ends: [9] }, { starts: [3], ends: [4] }); // { starts: [0, 5], ends: [2, 9] }
 * ```
 */
export function subtractIpv4Ranges(a: Ipv4Ranges, b: Ipv4Ranges): Ipv4Ranges {
  const starts: number[] = [];
  const ends: number[] = [];
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
        ends.push(b.starts[k]! - 1);
      }
      start = b.ends[k]! + 1;
      k++;
    }
  }
  return { starts, ends };
}

/**
 * How many addresses a normalised list holds.
 *
 * @example
 * ```ts
 * countIpv4Ranges({ starts: [0], ends: [255] }); // 256
 * ```
 */
export function countIpv4Ranges(ranges: Ipv4Ranges): number {
  let count = 0;
  for (let i = 0; i < ranges.starts.length; i++) count += ranges.ends[i]! - ranges.starts[i]! + 1;
  return count;
}

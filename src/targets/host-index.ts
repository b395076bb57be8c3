/**
 * Maps a host index `0 .. count-1` to an address of a {@link TargetSet}:
 * IPv4 ranges first (ascending), then IPv6 ranges (ascending), by binary
 * search over the cumulative range sizes. IPv4 stays in plain number
 * arithmetic and IPv6 in 32-bit words, so no bigint is touched per address.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { formatIpv4 } from './ipv4-text.js';
import { formatIpv6Words, ipv6Words } from './ipv6-text.js';
import type { TargetSet } from './target-set.js';

const TWO_32 = 2 ** 32;

/**
 * Random access to the addresses of a target set by position.
 *
 * @example
 * ```ts
 * const index = new HostIndex(TargetSet.fromSpecs(['198.18.0.0/30', 'fd00::/127']));
 * index.count; // 6
 * index.addressAt(0); // '198.18.0.0'
 * index.addressAt(5); // 'fd00::1'
 * ```
 */
export class HostIndex {
  /** Number of hosts (IPv4 then IPv6). */
  readonly count: number;
  /** Hosts below this index are IPv4, the rest IPv6. */
  readonly ipv4Count: number;
  private readonly v4Starts: Float64Array;
  private readonly v4Before: Float64Array;
  private readonly v6Words: Uint32Array;
  private readonly v6Before: Float64Array;

  constructor(set: TargetSet) {
    const total = set.count;
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new PortscoutError(
        'ERR_SCAN_SPACE_TOO_LARGE',
        `The targets hold ${total} addresses; at most 2^53-1 can be indexed. Narrow the IPv6 prefixes (a /64 is 2^64 addresses; /80 or longer is practical).`,
      );
    }
    this.ipv4Count = set.ipv4Count;
    this.count = Number(total);
    const v4 = set.ipv4;
    this.v4Starts = Float64Array.from(v4.starts);
    this.v4Before = new Float64Array(v4.starts.length);
    let before = 0;
    for (let i = 0; i < v4.starts.length; i++) {
      this.v4Before[i] = before;
      before += v4.ends[i]! - v4.starts[i]! + 1;
    }
    const v6 = set.ipv6;
    this.v6Words = new Uint32Array(v6.starts.length * 4);
    this.v6Before = new Float64Array(v6.starts.length);
    before = 0;
    for (let i = 0; i < v6.starts.length; i++) {
      this.v6Words.set(ipv6Words(v6.starts[i]!), i * 4);
      this.v6Before[i] = before;
      before += Number(v6.ends[i]! - v6.starts[i]! + 1n);
    }
  }

  /** The family of the host at `index`. */
  familyAt(index: number): 4 | 6 {
    return index < this.ipv4Count ? 4 : 6;
  }

  /** The address at `index` (`0 <= index < count`) as canonical text. */
  addressAt(index: number): string {
    if (index < this.ipv4Count) return formatIpv4(this.ipv4ValueAt(index));
    const offset = index - this.ipv4Count;
    const before = this.v6Before;
    const range = before.length === 1 ? 0 : lastAtMost(before, offset);
    const rest = offset - before[range]!;
    const words = this.v6Words;
    const base = range * 4;
    const high = Math.floor(rest / TWO_32);
    let w3 = words[base + 3]! + (rest - high * TWO_32);
    let carry = w3 >= TWO_32 ? 1 : 0;
    w3 -= carry * TWO_32;
    let w2 = words[base + 2]! + high + carry;
    carry = w2 >= TWO_32 ? 1 : 0;
    w2 -= carry * TWO_32;
    let w1 = words[base + 1]! + carry;
    carry = w1 >= TWO_32 ? 1 : 0;
    w1 -= carry * TWO_32;
    const w0 = words[base]! + carry;
    return formatIpv6Words(w0, w1, w2, w3);
  }

  /** The IPv4 address at `index < ipv4Count` as an unsigned 32-bit number. */
  ipv4ValueAt(index: number): number {
    const before = this.v4Before;
    const range = before.length === 1 ? 0 : lastAtMost(before, index);
    return this.v4Starts[range]! + (index - before[range]!);
  }
}

/** The largest `i` with `sorted[i] <= value` (`sorted[0]` is 0 and `value >= 0`). */
function lastAtMost(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (sorted[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

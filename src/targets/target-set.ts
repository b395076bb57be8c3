/**
 * A set of addresses to scan, built from target specifications minus
 * exclusions, held as normalised ranges per family (never one entry per
 * address), with its exact size.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { countIpv4Ranges, normalizeIpv4Ranges, subtractIpv4Ranges, unionIpv4Ranges, type Ipv4Ranges } from './ipv4-ranges.js';
import { parseIpv4 } from './ipv4-text.js';
import { countIpv6Ranges, normalizeIpv6Ranges, subtractIpv6Ranges, type Ipv6Ranges } from './ipv6-ranges.js';
import { parseIpv6 } from './ipv6-text.js';
import { parseTargetSpec, type OctetRangeTargetSpec, type TargetSpec } from './target-spec.js';

/**
 * At most this many disjoint ranges per family (8 MB of endpoints for IPv4);
 * sparser octet ranges (`*.*.*.1`) are rejected.
 *
 * @example
 * ```ts
 * MAX_TARGET_RANGES; // 1048576
 * ```
 */
export const MAX_TARGET_RANGES = 1 << 20;

function octetRangeRanges(spec: OctetRangeTargetSpec): Ipv4Ranges {
  const octets = spec.octets;
  // Octets after `last` are complete (0-255): each run of octet `last` is one range.
  let last = 3;
  while (last >= 0 && octets[last]!.length === 256) last--;
  if (last < 0) return { starts: [0], ends: [0xffffffff] };
  const runStarts: number[] = [];
  const runEnds: number[] = [];
  for (const v of octets[last]!) {
    const n = runEnds.length - 1;
    if (n >= 0 && runEnds[n] === v - 1) runEnds[n] = v;
    else {
      runStarts.push(v);
      runEnds.push(v);
    }
  }
  let prefixes = 1;
  for (let i = 0; i < last; i++) prefixes *= octets[i]!.length;
  const total = prefixes * runStarts.length;
  if (total > MAX_TARGET_RANGES) {
    throw new PortscoutError(
      'ERR_INVALID_TARGET',
      `Invalid target ${JSON.stringify(spec.text)}: it expands to ${total} separate address ranges; at most ${MAX_TARGET_RANGES} are supported. ` +
        'Use complete trailing octets (198.18.*.*) or CIDR blocks instead of sparse ranges.',
    );
  }
  const scale = 256 ** (3 - last);
  const starts: number[] = [];
  const ends: number[] = [];
  const walk = (octet: number, base: number): void => {
    if (octet === last) {
      for (let r = 0; r < runStarts.length; r++) {
        starts.push((base * 256 + runStarts[r]!) * scale);
        ends.push((base * 256 + runEnds[r]!) * scale + scale - 1);
      }
      return;
    }
    for (const v of octets[octet]!) walk(octet + 1, base * 256 + v);
  };
  walk(0, 0);
  return { starts, ends };
}

/**
 * Collects ranges of both families from specifications and resolved
 * addresses, then normalises them. Host-name specifications are not accepted
 * here: resolve them first and add their addresses with {@link TargetSetBuilder.addRange}.
 *
 * @example
 * ```ts
 * const builder = new TargetSetBuilder();
 * builder.addSpec(parseTargetSpec('198.18.0.0/24'));
 * const set = builder.build(new TargetSetBuilder().build());
 * set.count; // 256n
 * ```
 */
export class TargetSetBuilder {
  private readonly v4Starts: number[] = [];
  private readonly v4Ends: number[] = [];
  private readonly v4Lists: Ipv4Ranges[] = [];
  private readonly v6Starts: bigint[] = [];
  private readonly v6Ends: bigint[] = [];

  /** Adds the addresses of a literal specification (anything but a host name). */
  addSpec(spec: TargetSpec): this {
    switch (spec.kind) {
      case 'address':
        return this.addRange(spec.family, spec.value, spec.value);
      case 'cidr':
      case 'dash-range':
        return this.addRange(spec.family, spec.first, spec.last);
      case 'octet-range':
        this.v4Lists.push(octetRangeRanges(spec));
        return this;
      case 'hostname':
        throw new PortscoutError(
          'ERR_INVALID_TARGET',
          `Target ${JSON.stringify(spec.text)} is a host name and needs resolution; use planScan() (its plan's hostCount) instead.`,
        );
    }
  }

  /** Adds every address from `first` to `last` inclusive. */
  addRange(family: 4 | 6, first: bigint, last: bigint): this {
    if (family === 4) {
      this.v4Starts.push(Number(first));
      this.v4Ends.push(Number(last));
    } else {
      this.v6Starts.push(first);
      this.v6Ends.push(last);
    }
    return this;
  }

  /** The normalised set of what was added, minus `exclude` when given. */
  build(exclude?: TargetSet): TargetSet {
    let ipv4 = normalizeIpv4Ranges(this.v4Starts, this.v4Ends);
    for (const list of this.v4Lists) ipv4 = unionIpv4Ranges(ipv4, list);
    let ipv6 = normalizeIpv6Ranges(this.v6Starts, this.v6Ends);
    if (exclude) {
      ipv4 = subtractIpv4Ranges(ipv4, exclude.ipv4);
      ipv6 = subtractIpv6Ranges(ipv6, exclude.ipv6);
    }
    if (ipv4.starts.length > MAX_TARGET_RANGES || ipv6.starts.length > MAX_TARGET_RANGES) {
      throw new PortscoutError(
        'ERR_INVALID_TARGET',
        `The targets form ${Math.max(ipv4.starts.length, ipv6.starts.length)} separate address ranges; at most ${MAX_TARGET_RANGES} are supported.`,
      );
    }
    return new TargetSet(ipv4, ipv6);
  }
}

function findRange<T extends number | bigint>(starts: readonly T[], ends: readonly T[], value: T): boolean {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (value < starts[mid]!) hi = mid - 1;
    else if (value > ends[mid]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * An immutable set of IPv4 and IPv6 addresses as normalised ranges.
 *
 * @example
 * ```ts
 * const set = TargetSet.fromSpecs(['198.18.0.0/24', '198.18.1.1-10'], { exclude: ['198.18.0.0'] });
 * set.count; // 265n
 * set.has('198.18.1.5'); // true
 * ```
 */
export class TargetSet {
  /** Exact number of IPv4 addresses. */
  readonly ipv4Count: number;
  /** Exact number of IPv6 addresses. */
  readonly ipv6Count: bigint;

  constructor(
    /** IPv4 ranges, normalised. */
    readonly ipv4: Ipv4Ranges,
    /** IPv6 ranges, normalised. */
    readonly ipv6: Ipv6Ranges,
  ) {
    this.ipv4Count = countIpv4Ranges(ipv4);
    this.ipv6Count = countIpv6Ranges(ipv6);
  }

  /** Exact number of addresses, both families. */
  get count(): bigint {
    return BigInt(this.ipv4Count) + this.ipv6Count;
  }

  /** Number of disjoint ranges, both families. */
  get rangeCount(): number {
    return this.ipv4.starts.length + this.ipv6.starts.length;
  }

  /**
   * The addresses of this set that are not in `other`.
   *
   * @example
   * ```ts
   * TargetSet.fromSpecs(['198.18.0.0/24']).minus(TargetSet.fromSpecs(['198.18.0.0/25'])).count; // 128n
   * ```
   */
  minus(other: TargetSet): TargetSet {
    return new TargetSet(subtractIpv4Ranges(this.ipv4, other.ipv4), subtractIpv6Ranges(this.ipv6, other.ipv6));
  }

  /** Whether the set holds an address (canonical or any valid text form). */
  has(address: string): boolean {
    const v4 = parseIpv4(address);
    if (v4 !== undefined) return findRange(this.ipv4.starts, this.ipv4.ends, v4);
    const v6 = parseIpv6(address);
    return v6 !== undefined && findRange(this.ipv6.starts, this.ipv6.ends, v6);
  }

  /**
   * The set of literal specifications (no host names) minus exclusions. Each
   * string may hold several specs separated by whitespace.
   */
  static fromSpecs(specs: Iterable<string>, options: { exclude?: Iterable<string> } = {}): TargetSet {
    const exclude = new TargetSetBuilder();
    for (const text of options.exclude ?? []) for (const spec of parseTargetList(text)) exclude.addSpec(spec);
    const builder = new TargetSetBuilder();
    for (const text of specs) for (const spec of parseTargetList(text)) builder.addSpec(spec);
    return builder.build(exclude.build());
  }
}

/**
 * Parses a line of target specifications separated by whitespace. A token that
 * is not valid as a whole but whose comma-separated parts all are is read as a
 * list (`198.18.0.1,198.18.0.9`); commas inside an octet range keep their nmap
 * meaning (`198.18.0.1,3,5`). Throws `ERR_INVALID_TARGET` on the first invalid spec.
 *
 * @example
 * ```ts
 * parseTargetList('198.18.0.0/30 fd00::1').length; // 2
 * ```
 */
export function parseTargetList(line: string): TargetSpec[] {
  const specs: TargetSpec[] = [];
  for (const token of line.split(/\s+/)) {
    if (token === '') continue;
    try {
      specs.push(parseTargetSpec(token));
    } catch (error) {
      if (!token.includes(',')) throw error;
      const parts = token.split(',');
      const parsed: TargetSpec[] = [];
      for (const part of parts) {
        try {
          parsed.push(parseTargetSpec(part));
        } catch {
          throw error;
        }
      }
      specs.push(...parsed);
    }
  }
  return specs;
}

/**
 * The exact number of addresses that literal target specifications name,
 * minus exclusions, computed from ranges without iterating (a /8 answers at
 * once). Host names need resolution: they throw `ERR_INVALID_TARGET`; use
 * `planScan()` and its plan's `hostCount` for those.
 *
 * @example
 * ```ts
 * countTargets(['10.0.0.0/8']); // 16777216n
 * countTargets(['198.18.0.0/24'], { exclude: ['198.18.0.0/25'] }); // 128n
 * ```
 */
export function countTargets(targets: readonly string[], options: { exclude?: readonly string[] } = {}): bigint {
  return TargetSet.fromSpecs(targets, options).count;
}

/**
 * The targets the kernel has no route to, found before the scan starts.
 *
 * The target set is cut into the blocks its routing tables treat alike
 * (`route-blocks.ts`), and the kernel is asked once per block, as it is
 * asked for a probe's source address. The blocks without a route are
 * removed from the plan with one warning: the scan never walks them, so a
 * /8 or `0.0.0.0/0` without a route costs a few hundred lookups, not one
 * per address. Where the routing tables cannot be read (not Linux), nothing
 * is removed here and the scan looks each network up as it reaches it.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { formatIpv4, formatIpv6, TargetSetBuilder, type TargetSet } from '../targets/index.js';
import { uniformRouteBlocks, type TargetsWithin } from './route-blocks.js';
import { readRoutePrefixes, type RoutePrefix } from './route-table.js';
import { pickSourceAddress } from './source-address.js';

/**
 * Whether the kernel has a route to an address: true, false (no route, with
 * the errno name), or undefined when the lookup failed for another reason
 * (the address is then kept).
 */
export type RouteLookup = (address: string, family: 4 | 6) => Promise<{ routed: boolean; code?: string } | undefined>;

/** Lookups at once. */
const LOOKUP_CONCURRENCY = 32;

/** Asks the kernel (a connected UDP socket, nothing sent). */
export const kernelRouteLookup: RouteLookup = async (address, family) => {
  try {
    await pickSourceAddress(address, family);
    return { routed: true };
  } catch (error) {
    if (error instanceof PortscoutError && error.code === 'ERR_NO_ROUTE') {
      const cause = (error as { cause?: { code?: unknown } }).cause;
      return { routed: false, code: typeof cause?.code === 'string' ? cause.code : 'no route' };
    }
    return undefined;
  }
};

/** What {@link findUnroutable} found. */
export interface Unroutable {
  /** The targets with a route, or whose lookup failed for another reason. */
  readonly reachable: TargetSet;
  /** The targets without a route. */
  readonly removed: TargetSet;
  /** Up to three ranges of {@link removed} as text (`10.0.0.0/8`, `198.18.9.1-198.18.9.7`), for the warning. */
  readonly examples: readonly string[];
  /** The errno names the kernel gave. */
  readonly codes: readonly string[];
  /** Lookups made. */
  readonly lookups: number;
}

function sortedWithin<T extends number | bigint>(starts: readonly T[], ends: readonly T[], of: (value: bigint) => T, back: (value: T) => bigint): TargetsWithin {
  return (from, to) => {
    const lo = of(from);
    const hi = of(to);
    // The first range ending at or after `from`.
    let a = 0;
    let b = starts.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ends[mid]! < lo) a = mid + 1;
      else b = mid;
    }
    if (a === starts.length || starts[a]! > hi) return undefined;
    return back(starts[a]! > lo ? starts[a]! : lo);
  };
}

/** A range as a CIDR block when it is one, else as first-last. */
function rangeText(family: 4 | 6, first: bigint, last: bigint): string {
  const text = (value: bigint): string => (family === 4 ? formatIpv4(Number(value)) : formatIpv6(value));
  const size = last - first + 1n;
  if ((size & (size - 1n)) === 0n && first % size === 0n) {
    let length = family === 4 ? 32 : 128;
    for (let s = size; s > 1n; s >>= 1n) length--;
    return `${text(first)}/${length}`;
  }
  return `${text(first)}-${text(last)}`;
}

function firstRanges(set: TargetSet, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < set.ipv4.starts.length && out.length < count; i++) out.push(rangeText(4, BigInt(set.ipv4.starts[i]!), BigInt(set.ipv4.ends[i]!)));
  for (let i = 0; i < set.ipv6.starts.length && out.length < count; i++) out.push(rangeText(6, set.ipv6.starts[i]!, set.ipv6.ends[i]!));
  return out;
}

/**
 * Finds the targets without a route, one kernel lookup per block the routing
 * tables do not split.
 *
 * @param prefixesOf the routing tables' prefixes (from `/proc` by default); undefined skips that family
 * @example
 * ```ts
 * const { reachable, removed } = await findUnroutable(TargetSet.fromSpecs(['10.0.0.0/8', '127.0.0.1']));
 * removed.count; // 16777216n where no route covers 10.0.0.0/8
 * ```
 */
export async function findUnroutable(
  set: TargetSet,
  lookup: RouteLookup = kernelRouteLookup,
  prefixesOf: (family: 4 | 6) => Promise<readonly RoutePrefix[] | undefined> = readRoutePrefixes,
): Promise<Unroutable> {
  const unroutable = new TargetSetBuilder();
  const codes = new Set<string>();
  let lookups = 0;
  for (const family of [4, 6] as const) {
    const ranges = family === 4 ? set.ipv4 : set.ipv6;
    if (ranges.starts.length === 0) continue;
    const prefixes = await prefixesOf(family);
    if (!prefixes) continue;
    const within =
      family === 4
        ? sortedWithin(set.ipv4.starts, set.ipv4.ends, Number, BigInt)
        : sortedWithin(set.ipv6.starts, set.ipv6.ends, (v) => v, (v) => v);
    const blocks = [...uniformRouteBlocks(within, prefixes, family === 4 ? 32 : 128)];
    for (let i = 0; i < blocks.length; i += LOOKUP_CONCURRENCY) {
      const batch = blocks.slice(i, i + LOOKUP_CONCURRENCY);
      const answers = await Promise.all(batch.map((block) => lookup(family === 4 ? formatIpv4(Number(block.probe)) : formatIpv6(block.probe), family)));
      lookups += batch.length;
      answers.forEach((answer, j) => {
        if (!answer || answer.routed) return;
        const block = batch[j]!;
        unroutable.addRange(family, block.first, block.last);
        if (answer.code !== undefined) codes.add(answer.code);
      });
    }
  }
  const reachable = set.minus(unroutable.build());
  const removed = set.minus(reachable);
  return { reachable, removed, examples: firstRanges(removed, 3), codes: [...codes], lookups };
}

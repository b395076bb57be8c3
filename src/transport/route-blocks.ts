/**
 * Blocks of addresses the routing table treats alike.
 *
 * The kernel picks, for a destination, the longest prefix of its tables that
 * holds it. Inside an aligned block that no prefix splits (every prefix
 * either holds the whole block or none of it), that choice is the same for
 * every address: one lookup decides the block. A /8 without a route is then
 * one lookup, not sixteen million. The blocks that partition an address
 * space are at most about twice the prefixes times the address bits.
 *
 * @module
 */
import type { RoutePrefix } from './route-table.js';

/** A block no routing prefix splits, with an address of the targets inside it. */
export interface RouteBlock {
  readonly first: bigint;
  readonly last: bigint;
  /** Length of the block's prefix in bits. */
  readonly length: number;
  /** The first target address in the block (the one to look up). */
  readonly probe: bigint;
}

/** Where the targets are: the first target address in `[from, to]`, or undefined. */
export type TargetsWithin = (from: bigint, to: bigint) => bigint | undefined;

/**
 * The blocks, in address order, that no prefix of `prefixes` splits and that
 * hold at least one target, covering every target.
 *
 * @param bits 32 (IPv4) or 128 (IPv6)
 *
 * @example
 * ```ts
 * const within: TargetsWithin = (from, to) => (from <= 10n && 10n <= to ? (from > 10n ? from : 10n) : undefined);
 * [...uniformRouteBlocks(within, [{ network: 0n, length: 0 }], 32)]; // one block: 0.0.0.0/0, probe 10n
 * ```
 */
export function* uniformRouteBlocks(within: TargetsWithin, prefixes: readonly RoutePrefix[], bits: number): Generator<RouteBlock> {
  // Depth-first, lower half first: blocks come out in address order. At most `bits` levels deep.
  const stack: { network: bigint; length: number; inside: readonly RoutePrefix[] }[] = [{ network: 0n, length: 0, inside: prefixes }];
  while (stack.length > 0) {
    const { network, length, inside } = stack.pop()!;
    const host = BigInt(bits - length);
    const last = network + (1n << host) - 1n;
    const probe = within(network, last);
    if (probe === undefined) continue;
    // The prefixes strictly inside this block are the ones that split it.
    const splitting = inside.filter((prefix) => prefix.length > length && prefix.network >> host === network >> host);
    if (splitting.length === 0) {
      yield { first: network, last, length, probe };
      continue;
    }
    const half = 1n << (host - 1n);
    stack.push({ network: network + half, length: length + 1, inside: splitting });
    stack.push({ network, length: length + 1, inside: splitting });
  }
}

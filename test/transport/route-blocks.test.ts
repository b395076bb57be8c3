import { describe, expect, it } from 'vitest';
import { parseFibTrie, parseIpv6Route, type RoutePrefix } from '../../src/transport/route-table.js';
import { uniformRouteBlocks, type TargetsWithin } from '../../src/transport/route-blocks.js';
import { findUnroutable, type RouteLookup } from '../../src/transport/unroutable-targets.js';
import { TargetSet } from '../../src/targets/index.js';

const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 198.18.0.0/24 2 0 2
        |-- 198.18.0.0
           /24 link UNICAST
        |-- 198.18.0.1
           /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 127.0.0.1
        /32 host LOCAL
`;

const v4 = (text: string): bigint => text.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);

/** Targets within [from, to] of a sorted list of single ranges. */
function within(ranges: [bigint, bigint][]): TargetsWithin {
  return (from, to) => {
    for (const [a, b] of ranges) if (b >= from && a <= to) return a > from ? a : from;
    return undefined;
  };
}

/** The longest prefix holding an address (the kernel's choice), as text. */
function longestMatch(prefixes: readonly RoutePrefix[], address: bigint, bits: number): string {
  let best: RoutePrefix | undefined;
  for (const p of prefixes) {
    const host = BigInt(bits - p.length);
    if (address >> host === p.network >> host && (!best || p.length > best.length)) best = p;
  }
  return best ? `${best.network}/${best.length}` : 'none';
}

describe('routing prefixes from /proc', () => {
  it('reads every table of fib_trie once, host bits cleared', () => {
    const prefixes = parseFibTrie(FIB_TRIE).map((p) => `${p.network}/${p.length}`).sort();
    expect(prefixes).toEqual([`${v4('127.0.0.0')}/8`, `${v4('127.0.0.1')}/32`, `${v4('127.255.255.255')}/32`, `${v4('198.18.0.0')}/24`, `${v4('198.18.0.1')}/32`].sort());
  });

  it('reads ipv6_route lines and skips anything else', () => {
    const line = (dest: string, len: string): string => `${dest} ${len} ${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00000100 00000001 00000000 00000001 eth0`;
    const prefixes = parseIpv6Route([line('fd000000000000000000000000000000', '40'), line('00000000000000000000000000000001', '80'), 'garbage', line('zz', '40')].join('\n'));
    expect(prefixes).toEqual([
      { network: 0xfdn << 120n, length: 64 },
      { network: 1n, length: 128 },
    ]);
  });
});

describe('blocks no routing prefix splits', () => {
  const prefixes = parseFibTrie(FIB_TRIE);

  it('one block for a /8 no prefix touches; the kernel choice is the same for every address of each block', () => {
    const blocks = [...uniformRouteBlocks(within([[v4('10.0.0.0'), v4('10.255.255.255')]]), prefixes, 32)];
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.probe).toBe(v4('10.0.0.0'));
    // Property: within every block, the first, last and a middle address have the same longest match.
    const all = [...uniformRouteBlocks(within([[0n, 2n ** 32n - 1n]]), prefixes, 32)];
    expect(all.length).toBeLessThan(2 * prefixes.length * 32);
    let next = 0n;
    for (const block of all) {
      expect(block.first).toBe(next); // in order, covering the space
      next = block.last + 1n;
      const m = longestMatch(prefixes, block.first, 32);
      expect(longestMatch(prefixes, block.last, 32)).toBe(m);
      expect(longestMatch(prefixes, (block.first + block.last) / 2n, 32)).toBe(m);
    }
    expect(next).toBe(2n ** 32n);
  });

  it('skips blocks without targets', () => {
    const blocks = [...uniformRouteBlocks(within([[v4('198.18.0.5'), v4('198.18.0.5')]]), prefixes, 32)];
    expect(blocks.map((b) => b.probe)).toEqual([v4('198.18.0.5')]);
  });
});

describe('findUnroutable', () => {
  it('asks once per block and removes the unroutable ones, with examples and errno names', async () => {
    const asked: string[] = [];
    const lookup: RouteLookup = async (address) => {
      asked.push(address);
      return address.startsWith('198.18.0.') || address.startsWith('127.') ? { routed: true } : { routed: false, code: 'ENETUNREACH' };
    };
    const set = TargetSet.fromSpecs(['10.0.0.0/8', '198.18.0.0/24', '127.0.0.1', '203.0.113.0/24']);
    const found = await findUnroutable(set, lookup, async (family) => (family === 4 ? parseFibTrie(FIB_TRIE) : undefined));
    expect(found.removed.count).toBe(2n ** 24n + 256n);
    expect(found.reachable.count).toBe(257n);
    expect(found.examples).toEqual(['10.0.0.0/8', '203.0.113.0/24']);
    expect(found.codes).toEqual(['ENETUNREACH']);
    expect(asked.length).toBe(found.lookups);
    // 10/8 and 203.0.113/24 one each, 127.0.0.1 one, 198.18.0.0/24 nine (198.18.0.1/32 splits it).
    expect(found.lookups).toBe(12);
  });

  it('removes nothing where the routing tables cannot be read, or a lookup fails otherwise', async () => {
    const set = TargetSet.fromSpecs(['10.0.0.0/8']);
    expect((await findUnroutable(set, async () => ({ routed: false }), async () => undefined)).removed.count).toBe(0n);
    expect((await findUnroutable(set, async () => undefined, async () => parseFibTrie(FIB_TRIE))).removed.count).toBe(0n);
  });
});

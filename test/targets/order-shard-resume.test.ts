/**
 * Property tests of the scan order: the permutation is a bijection, shards
 * are disjoint and cover the space, and resuming from any cursor yields
 * exactly the rest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexPermutation, planScan, type ScanOrder, type ScanPair } from '../../src/targets/index.js';

const key = (pair: ScanPair): string => `${pair.address}|${pair.protocol}|${pair.port}`;

describe('IndexPermutation', () => {
  it('visits every index exactly once, for many sizes and seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.oneof(fc.integer(), fc.string()), (size, seed) => {
        const permutation = new IndexPermutation(size, seed);
        const seen = new Uint8Array(size);
        let distinctInRange = 0;
        for (let i = 0; i < size; i++) {
          const j = permutation.at(i);
          if (Number.isInteger(j) && j >= 0 && j < size && seen[j] === 0) distinctInRange++;
          seen[j] = 1;
        }
        expect(distinctInRange).toBe(size);
      }),
      { numRuns: 300 },
    );
  });

  it('is a bijection on sizes that are and are not powers of two, up to 2^53', () => {
    for (const size of [1, 2, 3, 4, 5, 255, 256, 257, 65536, 65537, 100_003]) {
      const permutation = new IndexPermutation(size, 'x');
      const seen = new Set<number>();
      for (let i = 0; i < size; i++) seen.add(permutation.at(i));
      expect(seen.size).toBe(size);
    }
    // Huge spaces: values stay in range and distinct positions never collide.
    for (const size of [2 ** 32 + 7, 2 ** 48 - 1, Number.MAX_SAFE_INTEGER]) {
      const permutation = new IndexPermutation(size, 7);
      const seen = new Set<number>();
      for (let i = 0; i < 20_000; i++) {
        const j = permutation.at(Math.floor((size / 20_000) * i));
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).toBeLessThan(size);
        seen.add(j);
      }
      expect(seen.size).toBe(20_000);
    }
  });

  it('depends on the seed and is reproducible', () => {
    const a = Array.from({ length: 64 }, (_, i) => new IndexPermutation(1000, 'a').at(i));
    const again = Array.from({ length: 64 }, (_, i) => new IndexPermutation(1000, 'a').at(i));
    const b = Array.from({ length: 64 }, (_, i) => new IndexPermutation(1000, 'b').at(i));
    expect(a).toEqual(again);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(Array.from({ length: 64 }, (_, i) => i));
  });
});

// Small target lists over both families and a few ports.
const targetsArb = fc.array(
  fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 26, max: 32 })).map(([n, p]) => `198.18.0.${n}/${p}`),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 8 })).map(([n, w]) => `198.19.1.${n}-${Math.min(255, n + w)}`),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 124, max: 128 })).map(([n, p]) => `fd00::${n.toString(16)}/${p}`),
  ),
  { minLength: 1, maxLength: 4 },
);
const portsArb = fc.oneof(fc.constant('80'), fc.constant('22,80,443'), fc.constant('T:1-3,U:53'), fc.constant('U:53,161'));
const orderArb: fc.Arbitrary<ScanOrder> = fc.oneof(fc.constant('sequential' as const), fc.oneof(fc.integer(), fc.string()).map((seed) => ({ random: true as const, seed })));

describe('scan plans', () => {
  it('random order visits exactly the pairs of the sequential order', async () => {
    await fc.assert(
      fc.asyncProperty(targetsArb, portsArb, fc.integer(), async (targets, ports, seed) => {
        const sequential = await planScan({ targets, ports });
        const random = await planScan({ targets, ports, order: { random: true, seed } });
        const a = [...sequential.pairs()].map(key);
        const b = [...random.pairs()].map(key);
        expect(b.length).toBe(random.size);
        expect(new Set(b).size).toBe(b.length);
        expect([...b].sort()).toEqual([...a].sort());
      }),
      { numRuns: 100 },
    );
  });

  it('shards are disjoint and together cover the space exactly', async () => {
    await fc.assert(
      fc.asyncProperty(targetsArb, portsArb, orderArb, fc.integer({ min: 1, max: 7 }), async (targets, ports, order, count) => {
        const whole = await planScan({ targets, ports, order });
        const all = [...whole.pairs()].map(key);
        const union: string[] = [];
        let sizes = 0;
        for (let index = 0; index < count; index++) {
          const shard = await planScan({ targets, ports, order, shard: { index, count } });
          const pairs = [...shard.pairs()].map(key);
          expect(pairs.length).toBe(shard.size);
          sizes += shard.size;
          union.push(...pairs);
        }
        expect(sizes).toBe(whole.size);
        expect(new Set(union).size).toBe(union.length);
        expect([...union].sort()).toEqual([...all].sort());
      }),
      { numRuns: 60 },
    );
  });

  it('resuming from any cursor yields exactly the rest', async () => {
    await fc.assert(
      fc.asyncProperty(targetsArb, portsArb, orderArb, fc.integer({ min: 1, max: 3 }), fc.nat(), fc.nat(), async (targets, ports, order, count, indexSeed, doneSeed) => {
        const shard = { index: indexSeed % count, count };
        const plan = await planScan({ targets, ports, order, shard });
        const pairs = [...plan.pairs()].map(key);
        const done = plan.size === 0 ? 0 : doneSeed % (plan.size + 1);
        const cursor = JSON.parse(JSON.stringify(plan.cursorAfter(done)));
        const resumed = await planScan({ targets, ports, order, shard, resume: cursor });
        expect(resumed.size).toBe(plan.size - done);
        expect([...resumed.pairs()].map(key)).toEqual(pairs.slice(done));
        // Resuming the resumed plan again continues from its own position.
        if (resumed.size > 0) {
          const again = await planScan({ targets, ports, order, shard, resume: resumed.cursorAfter(1) });
          expect([...again.pairs()].map(key)).toEqual(pairs.slice(done + 1));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a pair position gives the cursor that marks it done', async () => {
    const plan = await planScan({ targets: ['198.18.0.0/28'], ports: '22,80', order: { random: true, seed: 3 } });
    const pairs = [...plan.pairs()];
    const fifth = pairs[4]!;
    const resumed = await planScan({ targets: ['198.18.0.0/28'], ports: '22,80', order: { random: true, seed: 3 }, resume: plan.cursorAt(fifth.position + 1) });
    expect([...resumed.pairs()].map(key)).toEqual(pairs.slice(5).map(key));
  });

  it('a random order without a seed draws one and its cursor carries it', async () => {
    const options = { targets: ['198.18.0.0/26'], ports: '22,80,443', order: 'random' as const };
    const plan = await planScan(options);
    expect(plan.seed).toMatch(/^[0-9a-f]{16}$/);
    const pairs = [...plan.pairs()].map(key);
    const cursor = plan.cursorAfter(50);
    expect(cursor.seed).toBe(plan.seed);
    const resumed = await planScan({ ...options, resume: cursor });
    expect([...resumed.pairs()].map(key)).toEqual(pairs.slice(50));
  });

  it('rejects a cursor of another plan or a malformed one', async () => {
    const plan = await planScan({ targets: ['198.18.0.0/28'], ports: '22' });
    const cursor = plan.cursorAfter(3);
    for (const other of [
      { targets: ['198.18.0.0/27'], ports: '22' },
      { targets: ['198.18.0.0/28'], ports: '23' },
      { targets: ['198.18.0.0/28'], ports: '22', order: { random: true as const, seed: 1 } },
      { targets: ['198.18.0.0/28'], ports: '22', shard: { index: 0, count: 2 } },
      { targets: ['198.18.0.0/28'], exclude: ['198.18.0.1'], ports: '22' },
    ]) {
      await expect(planScan({ ...other, resume: cursor })).rejects.toMatchObject({ code: 'ERR_INVALID_CURSOR' });
    }
    for (const bad of [{ v: 2, fingerprint: cursor.fingerprint, position: 0 }, { v: 1, fingerprint: cursor.fingerprint, position: -1 }, { v: 1, position: 0 }, null, 'x']) {
      // @ts-expect-error malformed on purpose
      await expect(planScan({ targets: ['198.18.0.0/28'], ports: '22', resume: bad })).rejects.toMatchObject({ code: 'ERR_INVALID_CURSOR' });
    }
    await expect(planScan({ targets: ['198.18.0.0/28'], ports: '22', resume: { ...cursor, position: 17 } })).rejects.toMatchObject({ code: 'ERR_INVALID_CURSOR' });
    expect(() => plan.cursorAfter(plan.size + 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CURSOR' }));
  });

  it('rejects invalid shards and orders before anything else', async () => {
    for (const shard of [{ index: 2, count: 2 }, { index: -1, count: 2 }, { index: 0, count: 0 }, { index: 0.5, count: 2 }]) {
      await expect(planScan({ targets: ['198.18.0.1'], ports: '22', shard })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
    // @ts-expect-error invalid on purpose
    await expect(planScan({ targets: ['198.18.0.1'], ports: '22', order: { random: false } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

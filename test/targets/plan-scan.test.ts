/**
 * planScan(): inputs (strings, iterables, files), host names through an
 * injected resolver, exclusions, sequential host-major order, hosts(), and the
 * errors and warnings of bad input. Nothing here sends a packet; the only real
 * lookup is of `localhost` (answered from /etc/hosts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketAddress } from 'node:net';
import { formatIpv4, planScan, readTargetFile, TargetSet, type HostResolver, type ScanPair } from '../../src/targets/index.js';

const show = (pair: ScanPair): string => `${pair.address} ${pair.protocol}/${pair.port}`;

function* take<T>(iterator: Iterator<T>, n: number): Generator<T> {
  for (let i = 0; i < n; i++) {
    const next = iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/** A resolver over a fixed table that records what it was asked. */
function tableResolver(table: Record<string, { 4?: string[]; 6?: string[] }>): { resolve: HostResolver; asked: string[] } {
  const asked: string[] = [];
  const resolve: HostResolver = async (name, family) => {
    asked.push(`${name}/${family}`);
    const entry = table[name];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return family === 'any' ? [...(entry[4] ?? []), ...(entry[6] ?? [])] : [...(entry[family] ?? [])];
  };
  return { resolve, asked };
}

describe('planScan order and contents', () => {
  it('is host-major in sequential order: ascending addresses, TCP ports then UDP ports', async () => {
    const plan = await planScan({ targets: 'fd00::1 198.18.0.2 198.18.0.1', ports: 'U:53,T:443,22' });
    expect([...plan.pairs()].map(show)).toEqual([
      '198.18.0.1 tcp/22', '198.18.0.1 tcp/443', '198.18.0.1 udp/53',
      '198.18.0.2 tcp/22', '198.18.0.2 tcp/443', '198.18.0.2 udp/53',
      'fd00::1 tcp/22', 'fd00::1 tcp/443', 'fd00::1 udp/53',
    ]);
    expect(plan.size).toBe(9);
    expect(plan.totalPairs).toBe(9);
    expect(plan.hostCount).toBe(3n);
  });

  it('probes duplicates across the list once', async () => {
    const plan = await planScan({ targets: ['198.18.0.0/30', '198.18.0.1-198.18.0.5', '198.18.0.3', '198.18.0-2.0-3'], ports: '80' });
    expect([...plan.pairs()].map((p) => p.address)).toEqual([
      '198.18.0.0', '198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5',
      '198.18.1.0', '198.18.1.1', '198.18.1.2', '198.18.1.3', '198.18.2.0', '198.18.2.1', '198.18.2.2', '198.18.2.3',
    ]);
  });

  it('walks IPv6 blocks across word boundaries with carries', async () => {
    const plan = await planScan({ targets: ['fd00::ffff:fffe-fd00::1:0:1', 'fd00:0:0:1:ffff:ffff:ffff:fffe-fd00:0:0:2::1'], ports: '1' });
    expect([...plan.pairs()].map((p) => p.address)).toEqual([
      'fd00::ffff:fffe', 'fd00::ffff:ffff', 'fd00::1:0:0', 'fd00::1:0:1',
      'fd00::1:ffff:ffff:ffff:fffe', 'fd00::1:ffff:ffff:ffff:ffff', 'fd00:0:0:2::', 'fd00:0:0:2::1',
    ]);
  });

  it('yields exactly the addresses of the normalised ranges, in ascending order (bigint reference)', async () => {
    const v6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 120, max: 128 })).map(([v, p]) => {
      const groups = Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
      return `${groups.join(':')}/${p}`;
    });
    const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 26, max: 32 })).map(([v, p]) => `${formatIpv4(v)}/${p}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 5 }), async (targets) => {
        const set = TargetSet.fromSpecs(targets);
        const expected: string[] = [];
        for (let i = 0; i < set.ipv4.starts.length; i++) for (let a = set.ipv4.starts[i]!; a <= set.ipv4.ends[i]!; a++) expected.push(formatIpv4(a));
        for (let i = 0; i < set.ipv6.starts.length; i++) {
          for (let a = set.ipv6.starts[i]!; a <= set.ipv6.ends[i]!; a++) {
            const text = Array.from({ length: 8 }, (_, g) => ((a >> BigInt(112 - 16 * g)) & 0xffffn).toString(16)).join(':');
            expected.push(new SocketAddress({ address: text, family: 'ipv6' }).address);
          }
        }
        const plan = await planScan({ targets, ports: '9', blocklist: false });
        expect([...plan.pairs()].map((p) => p.address)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('gives each pair its family, bytes and position, as own properties that spread', async () => {
    const plan = await planScan({ targets: '198.18.0.1 fd00::2', ports: '7' });
    const [a, b] = [...plan.pairs()];
    expect(a).toMatchObject({ family: 4, address: '198.18.0.1', protocol: 'tcp', port: 7, position: 0 });
    expect([...a!.addressBytes]).toEqual([198, 18, 0, 1]);
    expect(b!.family).toBe(6);
    expect([...b!.addressBytes]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect({ ...b }).toMatchObject({ family: 6, address: 'fd00::2', protocol: 'tcp', port: 7 });
  });

  it('lists hosts before ports, sharded and in the plan order', async () => {
    const plan = await planScan({ targets: '198.18.0.0/29', ports: '22,80' });
    expect([...plan.hosts()].map((h) => h.address)).toEqual(Array.from({ length: 8 }, (_, i) => `198.18.0.${i}`));
    const shard = await planScan({ targets: '198.18.0.0/29', shard: { index: 1, count: 3 } });
    expect([...shard.hosts()].map((h) => h.address)).toEqual(['198.18.0.1', '198.18.0.4', '198.18.0.7']);
    const random = await planScan({ targets: '198.18.0.0/29', order: { random: true, seed: 9 } });
    const hosts = [...random.hosts()].map((h) => h.address);
    expect([...hosts].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `198.18.0.${i}`).sort());
    expect(random.size).toBe(0);
  });

  it('spreads consecutive pairs of a random order over hosts', async () => {
    const plan = await planScan({ targets: '198.18.0.0/24', ports: '1-16', order: { random: true, seed: 'spread' } });
    const first = [...plan.pairs()].slice(0, 64);
    // Sequential order would give 4 hosts in the first 64 pairs.
    expect(new Set(first.map((p) => p.address)).size).toBeGreaterThan(32);
  });
});

describe('planScan inputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portscout-targets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads target files with comments, blank lines and several specs per line', async () => {
    const path = join(dir, 'targets.txt');
    await writeFile(path, '# lab targets\n\n198.18.0.1   198.18.0.8/30 # two specs\n\t fd00::5\r\n#198.18.9.9\n');
    const tokens: string[] = [];
    for await (const token of readTargetFile(path)) tokens.push(token);
    expect(tokens).toEqual(['198.18.0.1', '198.18.0.8/30', 'fd00::5']);
    const plan = await planScan({ targets: readTargetFile(path), ports: '22' });
    expect([...plan.pairs()].map((p) => p.address)).toEqual(['198.18.0.1', '198.18.0.8', '198.18.0.9', '198.18.0.10', '198.18.0.11', 'fd00::5']);
  });

  it('accepts async iterables for targets and exclusions', async () => {
    async function* lines(items: string[]): AsyncGenerator<string> {
      for (const item of items) yield item;
    }
    const plan = await planScan({ targets: lines(['198.18.0.0/30', '# comment', '']), exclude: lines(['198.18.0.0 198.18.0.3']), ports: '22' });
    expect([...plan.pairs()].map((p) => p.address)).toEqual(['198.18.0.1', '198.18.0.2']);
  });

  it('rejects invalid specs before resolving any name', async () => {
    const { resolve, asked } = tableResolver({ 'lab-a': { 4: ['198.18.0.7'] } });
    await expect(planScan({ targets: ['lab-a', '198.18.0.300'], ports: '22', resolve })).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET', message: expect.stringContaining('"198.18.0.300"') });
    await expect(planScan({ targets: ['lab-a'], exclude: ['fd00::/129'], ports: '22', resolve })).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
    await expect(planScan({ targets: ['lab-a'], ports: '1-70000', resolve })).rejects.toMatchObject({ code: 'ERR_INVALID_PORTS', message: expect.stringContaining('"1-70000"') });
    expect(asked).toEqual([]);
  });

  it('rejects an empty target list unless asked to allow it', async () => {
    await expect(planScan({ targets: [], ports: '22' })).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET', message: expect.stringContaining('empty') });
    await expect(planScan({ targets: '  # only a comment', ports: '22' })).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
    const plan = await planScan({ targets: [], ports: 'T:22', allowEmpty: true });
    expect(plan.size).toBe(0);
    expect([...plan.pairs()]).toEqual([]);
  });

  it('warns, without failing, when exclusions remove everything', async () => {
    const plan = await planScan({ targets: '198.18.0.0/24', exclude: '198.18.0.0/16', ports: '22' });
    expect(plan.size).toBe(0);
    expect(plan.hostCount).toBe(0n);
    expect(plan.warnings).toEqual([expect.stringContaining('exclusions remove every target')]);
  });

  it('refuses spaces of 2^53 pairs or more, but counts them exactly', async () => {
    // fd00::/8 is unique-local space, in the default blocklist for lists this large.
    await expect(planScan({ targets: 'fd00::/64', ports: '80', blocklist: false })).rejects.toMatchObject({ code: 'ERR_SCAN_SPACE_TOO_LARGE', message: expect.stringContaining('IPv6') });
    // 2^43 hosts x 2^10 ports = 2^53: one too many.
    await expect(planScan({ targets: 'fd00::/85', ports: '0-1023', blocklist: false })).rejects.toMatchObject({ code: 'ERR_SCAN_SPACE_TOO_LARGE' });
    const plan = await planScan({ targets: 'fd00::/86', ports: '0-1023', order: { random: true, seed: 1 }, shard: { index: 3, count: 1000 }, blocklist: false });
    expect(plan.totalPairs).toBe(2 ** 52);
    expect(plan.hostCount).toBe(2n ** 42n);
    expect(plan.size).toBe(Math.ceil((2 ** 52 - 3) / 1000));
    const first = [...take(plan.pairs(), 1000)];
    expect(new Set(first.map(show)).size).toBe(1000);
    for (const pair of first) expect(pair.address.startsWith('fd00::')).toBe(true);
    const sequential = await planScan({ targets: 'fd00::/86', ports: '0-1023', blocklist: false });
    expect(show(sequential.pairs().next().value!)).toBe('fd00:: tcp/0');
    expect(show(sequential.pairAt(sequential.size - 1))).toBe('fd00::3ff:ffff:ffff tcp/1023');
  });
});

describe('planScan host names', () => {
  it('resolves names with the asked family, first address only by default, and tags pairs with the name', async () => {
    const { resolve, asked } = tableResolver({ 'lab-a': { 4: ['198.18.0.7', '198.18.0.8'], 6: ['fd00::7'] } });
    const plan = await planScan({ targets: ['lab-a', '198.18.0.6-198.18.0.7'], ports: '22', resolve });
    expect(asked).toEqual(['lab-a/4']);
    expect([...plan.pairs()].map((p) => [p.address, p.hostname])).toEqual([
      ['198.18.0.6', undefined],
      ['198.18.0.7', 'lab-a'],
    ]);
    const v6 = await planScan({ targets: ['lab-a'], ports: '22', resolve, family: 6 });
    expect([...v6.pairs()].map((p) => [p.family, p.address, p.hostname])).toEqual([[6, 'fd00::7', 'lab-a']]);
    const all = await planScan({ targets: ['lab-a'], ports: '22', resolve, family: 'any', resolveAll: true });
    expect([...all.hosts()].map((h) => `${h.address}=${h.hostname}`)).toEqual(['198.18.0.7=lab-a', '198.18.0.8=lab-a', 'fd00::7=lab-a']);
  });

  it('reports names that do not resolve instead of failing', async () => {
    const { resolve } = tableResolver({ 'lab-a': { 4: ['198.18.0.7'] }, 'v6-only': { 6: ['fd00::9'] } });
    const plan = await planScan({ targets: ['lab-a', 'nowhere.example', 'v6-only'], ports: '22', resolve });
    expect(plan.unresolved).toEqual([
      { name: 'nowhere.example', error: 'ENOTFOUND' },
      { name: 'v6-only', error: 'no address of the requested family' },
    ]);
    expect(plan.size).toBe(1);
  });

  it('reports a custom resolver that rejects with null, a string or a plain object instead of crashing', async () => {
    const values: unknown[] = [null, undefined, 'lookup refused', { message: 'timed out' }];
    for (const value of values) {
      const plan = await planScan({ targets: ['lab-a'], ports: '22', resolve: () => Promise.reject(value) });
      expect(plan.unresolved).toEqual([{ name: 'lab-a', error: typeof value === 'object' && value !== null ? 'timed out' : String(value) }]);
    }
  });

  it('widens a name with a prefix to its block and excludes names by all their addresses', async () => {
    const { resolve } = tableResolver({ 'lab-a': { 4: ['198.18.0.77'] }, 'lab-b': { 4: ['198.18.0.72', '198.18.0.73'] } });
    const plan = await planScan({ targets: ['lab-a/29'], exclude: ['lab-b', 'gone.example'], ports: '22', resolve });
    expect([...plan.pairs()].map((p) => p.address)).toEqual(['198.18.0.74', '198.18.0.75', '198.18.0.76', '198.18.0.77', '198.18.0.78', '198.18.0.79']);
    expect([...plan.pairs()].filter((p) => p.hostname === 'lab-a').map((p) => p.address)).toEqual(['198.18.0.77']);
    expect(plan.warnings).toEqual([expect.stringContaining('"gone.example" did not resolve')]);
  });

  it('uses the system resolver for localhost (from /etc/hosts)', async () => {
    const plan = await planScan({ targets: 'localhost', ports: '1' });
    const hosts = [...plan.hosts()];
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.address).toMatch(/^127\./);
    expect(hosts[0]!.hostname).toBe('localhost');
  });
});

/**
 * Address text: IPv4 and IPv6 formatting compared with Node's own formatter
 * (net.SocketAddress, which uses inet_ntop) and parsing round trips.
 */
import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../src/targets/index.js';
import { formatIpv6Words, ipv6Bytes, ipv6Words } from '../../src/targets/ipv6-text.js';
import { ipv4Bytes } from '../../src/targets/ipv4-text.js';

function nodeFormat(groups: readonly number[]): string {
  const text = groups.map((g) => g.toString(16)).join(':');
  return new SocketAddress({ address: text, family: 'ipv6' }).address;
}

// Groups biased to zero so that zero runs of every length and position occur.
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 1, max: 0xffff }));
const groups8 = fc.array(group, { minLength: 8, maxLength: 8 });

function wordsOf(g: readonly number[]): [number, number, number, number] {
  return [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}

describe('IPv6 formatting', () => {
  it('matches Node inet_ntop for random addresses with zero runs', () => {
    fc.assert(
      fc.property(groups8, (g) => {
        const [w0, w1, w2, w3] = wordsOf(g);
        expect(formatIpv6Words(w0, w1, w2, w3)).toBe(nodeFormat(g));
      }),
      { numRuns: 3000 },
    );
  });

  it('matches Node for the special forms', () => {
    const cases = [
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304],
      [0, 0, 0, 0, 0, 0, 0x0102, 0x0304],
      [0, 0, 0, 0, 0, 0xffff, 0, 0],
      [1, 0, 0, 1, 0, 0, 0, 1],
      [0xfd00, 0, 0, 0, 0, 0, 0, 0],
      [0xfd00, 1, 0, 1, 0, 1, 0, 1],
      [0xfd00, 0, 0, 1, 0, 0, 0, 0],
    ];
    for (const g of cases) {
      const [w0, w1, w2, w3] = wordsOf(g);
      expect(formatIpv6Words(w0, w1, w2, w3)).toBe(nodeFormat(g));
    }
  });

  it('keeps its prefix cache correct when consecutive calls change the high bits', () => {
    // Alternate between prefixes that format very differently, with non-zero low groups (the cached path).
    const prefixes: [number, number, number][] = [
      [0xfd000000, 0, 0],
      [0, 0, 0xffff],
      [0, 0, 0],
      [0x20010db8, 0x10000, 0],
    ];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffff })), { maxLength: 50 }), (calls) => {
        for (const [p, g6, g7] of calls) {
          const [w0, w1, w2] = prefixes[p]!;
          const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, g6, g7];
          expect(formatIpv6Words(w0, w1, w2, ((g6 << 16) | g7) >>> 0)).toBe(nodeFormat(g));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through parseIpv6 and bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const text = formatIpv6(value);
        expect(parseIpv6(text)).toBe(value);
        const [w0, w1, w2, w3] = ipv6Words(value);
        const bytes = ipv6Bytes(w0, w1, w2, w3);
        expect(BigInt(`0x${Buffer.from(bytes).toString('hex')}`)).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects what is not a single IPv6 address', () => {
    for (const text of ['fd00::/64', 'fe80::1%eth0', '198.18.0.1', 'fd00::g', '1::2::3', '1:2:3:4:5:6:7:8:9', '']) {
      expect(parseIpv6(text), text).toBeUndefined();
    }
  });
});

describe('IPv4 text', () => {
  it('formats and parses every sampled value back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const text = formatIpv4(value);
        expect(text).toBe([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.'));
        expect(parseIpv4(text)).toBe(value);
        expect([...ipv4Bytes(value)]).toEqual(text.split('.').map(Number));
      }),
    );
  });

  it('rejects octets above 255 and other shapes', () => {
    for (const text of ['198.18.0.256', '198.18.0', '198.18.0.1.2', '198.18.0.-1', '198.18.0.1a', '1234.1.1.1', '']) {
      expect(parseIpv4(text), text).toBeUndefined();
    }
  });
});

describe('one IPv6 text form for every layer', () => {
  it('the wire and targets formatters agree, ::198.18.0.1 included (it once came out as ::c612:1 from one of them)', async () => {
    const { formatIpv6Address, parseIpv6Address } = await import('../../src/wire/index.js');
    const { formatIpv6, parseIpv6 } = await import('../../src/targets/index.js');
    for (const text of ['::198.18.0.1', '::ffff:198.18.0.1', '::1', '::', 'fd00::1', '2001:db8::1:0:0:1', 'fd00:0:0:1::', '1:0:0:2::3', '::2']) {
      const fromWire = formatIpv6Address(parseIpv6Address(text));
      expect(fromWire, text).toBe(formatIpv6(parseIpv6(text)!));
    }
    expect(formatIpv6Address(parseIpv6Address('::198.18.0.1'))).toBe('::198.18.0.1');
  });
});

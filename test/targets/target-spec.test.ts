/**
 * Target specification parsing, exact counts without iteration, and the
 * error messages of invalid input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortscoutError } from '../../src/errors.js';
import { countTargets, MAX_TARGET_RANGES, parseTargetList, parseTargetSpec, TargetSet } from '../../src/targets/index.js';

function expectTargetError(text: string, fragment: string): void {
  try {
    countTargets([text]);
  } catch (error) {
    expect(error).toBeInstanceOf(PortscoutError);
    const e = error as PortscoutError;
    expect(e.code).toBe('ERR_INVALID_TARGET');
    expect(e.message).toContain(JSON.stringify(text.trim()));
    expect(e.message).toContain(fragment);
    return;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseTargetSpec', () => {
  it('tells every syntax apart', () => {
    expect(parseTargetSpec('198.18.0.1')).toMatchObject({ kind: 'address', family: 4, address: '198.18.0.1', value: 0xc6120001n });
    expect(parseTargetSpec('FD00:0::01')).toMatchObject({ kind: 'address', family: 6, address: 'fd00::1' });
    expect(parseTargetSpec('::ffff:198.18.0.1')).toMatchObject({ kind: 'address', family: 6, address: '::ffff:198.18.0.1' });
    expect(parseTargetSpec('198.18.0.77/24')).toMatchObject({ kind: 'cidr', family: 4, prefix: 24, first: 0xc6120000n, last: 0xc61200ffn });
    expect(parseTargetSpec('fd00::1234/120')).toMatchObject({ kind: 'cidr', family: 6, prefix: 120, first: 0xfd00n << 112n | 0x1200n, last: 0xfd00n << 112n | 0x12ffn });
    expect(parseTargetSpec('198.18.0-1.5,7-8')).toMatchObject({ kind: 'octet-range', octets: [[198], [18], [0, 1], [5, 7, 8]] });
    expect(parseTargetSpec('198.18.0.250-198.18.1.5')).toMatchObject({ kind: 'dash-range', family: 4, first: 0xc61200fan, last: 0xc6120105n });
    expect(parseTargetSpec('fd00::1-fd00::1:0')).toMatchObject({ kind: 'dash-range', family: 6, first: 0xfd00n << 112n | 1n, last: 0xfd00n << 112n | 0x10000n });
    expect(parseTargetSpec('lab-host.example')).toEqual({ kind: 'hostname', text: 'lab-host.example', name: 'lab-host.example' });
    expect(parseTargetSpec('lab-host/28')).toEqual({ kind: 'hostname', text: 'lab-host/28', name: 'lab-host', prefix: 28 });
    expect(parseTargetSpec('localhost')).toMatchObject({ kind: 'hostname' });
  });

  it('expands octet values in ascending order without duplicates', () => {
    const spec = parseTargetSpec('198.18.9,1-3,2.200-,3');
    expect(spec.kind).toBe('octet-range');
    if (spec.kind !== 'octet-range') return;
    expect(spec.octets[2]).toEqual([1, 2, 3, 9]);
    expect(spec.octets[3]).toEqual([3, ...Array.from({ length: 56 }, (_, i) => 200 + i)]);
  });

  it('rejects invalid input with the offending text and the allowed syntaxes', () => {
    expectTargetError('10.0.0.300', 'octet value 300 is out of range 0-255');
    expectTargetError('10.0.0.0/33', 'prefix length /33 is out of range 0-32');
    expectTargetError('fd00::/129', 'prefix length /129 is out of range 0-128');
    expectTargetError('10.0.0.0/x', 'is not a number');
    expectTargetError('198.18.0', 'has four octets');
    expectTargetError('198.18.0.9-3', 'ends before it starts');
    expectTargetError('198.18.1.0-198.18.0.255', 'ends before it starts');
    expectTargetError('198.18.0.1-198.18.0.256', 'not a valid IPv4 address');
    expectTargetError('198.18..1', 'octet is empty');
    expectTargetError('fd00::1::2', 'not a valid IPv6 address');
    expectTargetError('fe80::1%eth0', 'zone identifiers');
    expectTargetError('fd00::2-fd00::1', 'ends before it starts');
    expectTargetError('exa&mple', 'not an address');
    expectTargetError('host_name!', 'not an address');
    expectTargetError('198.18.0.0-3/24', 'neither a single address nor a host name');
    for (const text of ['10.0.0.300', 'fd00::/129']) {
      try {
        parseTargetSpec(text);
      } catch (error) {
        expect((error as Error).message).toContain('Allowed: an IPv4 or IPv6 address');
      }
    }
  });

  it('rejects an empty spec', () => {
    expect(() => parseTargetSpec('   ')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
  });
});

describe('parseTargetList', () => {
  it('splits on whitespace and reads comma lists of whole specs, keeping octet commas', () => {
    expect(parseTargetList(' 198.18.0.1\t198.18.0.0/30 ').map((s) => s.kind)).toEqual(['address', 'cidr']);
    expect(parseTargetList('198.18.0.1,198.18.0.9,fd00::1').map((s) => s.text)).toEqual(['198.18.0.1', '198.18.0.9', 'fd00::1']);
    expect(parseTargetList('198.18.0.1,3,5').map((s) => s.kind)).toEqual(['octet-range']);
    expect(parseTargetList('198.18.0,1.1').map((s) => s.kind)).toEqual(['octet-range']);
    expect(() => parseTargetList('198.18.0.1,198.18.0.300')).toThrow(/198\.18\.0\.1,198\.18\.0\.300/);
  });
});

describe('countTargets', () => {
  it('answers a /8 and huge IPv6 blocks exactly, at once', () => {
    expect(countTargets(['10.0.0.0/8'])).toBe(16_777_216n);
    expect(countTargets(['0.0.0.0/0'])).toBe(2n ** 32n);
    expect(countTargets(['fd00::/64'])).toBe(2n ** 64n);
    expect(countTargets(['::/0'])).toBe(2n ** 128n);
    expect(countTargets(['10.0.0.0/8', '10.1.0.0/16', '*.*.*.*'])).toBe(2n ** 32n);
    expect(countTargets(['198.18.*.*'])).toBe(65536n);
  });

  it('counts merged specs, dash ranges and exclusions', () => {
    expect(countTargets(['198.18.0.250-198.18.1.5'])).toBe(12n);
    expect(countTargets(['198.18.0.0/24', '198.18.0.128/25', '198.18.1.0/24'])).toBe(512n);
    expect(countTargets(['198.18.0.0/24 fd00::/120'], { exclude: ['198.18.0.0/25', 'fd00::80-fd00::ff'] })).toBe(256n);
    expect(countTargets(['fd00::/120'], { exclude: ['::/0'] })).toBe(0n);
  });

  it('needs resolution for host names', () => {
    expect(() => countTargets(['localhost'])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET', message: expect.stringContaining('planScan') }));
  });

  it('rejects octet ranges too fragmented to hold as ranges', () => {
    expect(() => countTargets(['*.*.*.1'])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET', message: expect.stringContaining(String(MAX_TARGET_RANGES)) }));
    expect(countTargets(['198.*.*.1'])).toBe(65536n);
  });

  it('equals a brute-force count of small octet ranges and CIDR blocks with exclusions', () => {
    const octet = fc.oneof(fc.constant('*'), fc.integer({ min: 0, max: 255 }).map(String), fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`));
    const spec = fc.oneof(
      fc.tuple(octet, octet).map(([c, d]) => `198.18.${c}.${d}`),
      fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 16, max: 32 })).map(([n, p]) => `198.18.${n >> 8}.${n & 255}/${p}`),
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 4 }), fc.array(spec, { maxLength: 3 }), (targets, exclude) => {
        const members = (specs: string[]): Set<number> => {
          const set = TargetSet.fromSpecs(specs);
          const out = new Set<number>();
          for (let i = 0; i < set.ipv4.starts.length; i++) for (let a = set.ipv4.starts[i]!; a <= set.ipv4.ends[i]!; a++) out.add(a);
          return out;
        };
        const expected = members(targets);
        for (const a of members(exclude)) expected.delete(a);
        expect(countTargets(targets, { exclude })).toBe(BigInt(expected.size));
        // Spot-check membership through has().
        const set = TargetSet.fromSpecs(targets, { exclude });
        for (const a of [...expected].slice(0, 20)) expect(set.has(`198.18.${(a >> 8) & 255}.${a & 255}`)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

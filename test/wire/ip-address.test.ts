/** Address text <-> bytes, RFC 5952 formatting. */
import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WireError, addressBytes, formatIpv4Address, formatIpv6Address, ipAddressFamily, parseIpv4Address, parseIpv6Address } from '../../src/wire/index.js';

describe('IPv4 addresses', () => {
  it('parses and formats dotted quads', () => {
    expect([...parseIpv4Address('198.18.0.255')]).toEqual([198, 18, 0, 255]);
    expect(formatIpv4Address(new Uint8Array([0, 10, 0, 0, 1]), 1)).toBe('10.0.0.1');
  });

  it('refuses malformed text with ERR_WIRE_ADDRESS_SYNTAX', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4/24', 'a.b.c.d']) {
      expect(() => parseIpv4Address(bad), bad).toThrow(WireError);
      try {
        parseIpv4Address(bad);
      } catch (err) {
        expect((err as WireError).code).toBe('ERR_WIRE_ADDRESS_SYNTAX');
      }
    }
  });

  it('round-trips every 4-byte value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect([...parseIpv4Address(formatIpv4Address(bytes))]).toEqual([...bytes]);
      }),
    );
  });
});

describe('IPv6 addresses', () => {
  it('formats RFC 5952 canonical text', () => {
    const cases: [string, string][] = [
      ['::1', '::1'],
      ['::', '::'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
      ['fd00:0:0:1:0:0:0:1', 'fd00:0:0:1::1'], // the longest run wins
      ['1::', '1::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fe80::1:2:3:4', 'fe80::1:2:3:4'],
    ];
    for (const [input, canonical] of cases) expect(formatIpv6Address(parseIpv6Address(input)), input).toBe(canonical);
  });

  it('refuses malformed text', () => {
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', '::1.2.3', 'g::1', '1:2:3:4:5:6:7::8']) {
      expect(() => parseIpv6Address(bad), bad).toThrow(WireError);
    }
  });

  it('agrees with node:net on what is an address, and round-trips all 16-byte values', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIpv6Address(bytes);
        expect(isIP(text)).toBe(6);
        expect([...parseIpv6Address(text)]).toEqual([...bytes]);
        expect(text).toBe(text.toLowerCase());
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        expect(ipAddressFamily(text)).toBe(6);
      }),
    );
  });
});

describe('addressBytes', () => {
  it('accepts text or bytes of the right family', () => {
    expect([...addressBytes('127.0.0.1', 4, 'x')]).toEqual([127, 0, 0, 1]);
    expect(addressBytes(new Uint8Array(16), 6, 'x').length).toBe(16);
  });

  it('refuses the wrong family with ERR_WIRE_ADDRESS_FAMILY naming the field', () => {
    expect(() => addressBytes('::1', 4, 'IPv4 source address')).toThrow(/IPv4 source address '::1' is an IPv6 address: allowed only IPv4/);
    expect(() => addressBytes(new Uint8Array(5), undefined, 'TCP pseudo-header source address')).toThrow(/5 bytes: allowed 4 \(IPv4\) or 16 \(IPv6\)/);
    try {
      addressBytes('127.0.0.1', 6, 'IPv6 destination address');
    } catch (err) {
      expect(err).toBeInstanceOf(WireError);
      expect((err as WireError).code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    }
  });
});

/** Internet checksum (RFC 1071), pseudo-headers and RFC 1624 incremental update. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  foldChecksum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  onesComplementSum,
  parseIpv4Address,
  parseIpv6Address,
  updateChecksum,
} from '../../src/wire/index.js';

describe('onesComplementSum / internetChecksum', () => {
  it('matches the worked example of RFC 1071 section 3', () => {
    // 00 01 f2 03 f4 f5 f6 f7: sum 2ddf0, folded ddf2, checksum 220d.
    const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesComplementSum(data)).toBe(0xddf2);
    expect(internetChecksum(data)).toBe(0x220d);
  });

  it('pads an odd final byte with zero', () => {
    expect(onesComplementSum(new Uint8Array([0x12, 0x34, 0x56]))).toBe(0x1234 + 0x5600);
  });

  it('honours start, end and initial', () => {
    const data = new Uint8Array([0xff, 0xff, 0x00, 0x01, 0x00, 0x02, 0xee]);
    expect(onesComplementSum(data, 2, 6)).toBe(3);
    expect(onesComplementSum(data, 2, 6, 0xfffe)).toBe(0x0002); // 0xfffe + 3 = 0x10001 -> 0x0002
  });

  it('partial sums over even-aligned pieces add up to the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (data, cutSeed) => {
        const cut = data.length === 0 ? 0 : (cutSeed % (data.length + 1)) & ~1;
        const whole = onesComplementSum(data);
        const pieces = onesComplementSum(data, cut, data.length, onesComplementSum(data, 0, cut));
        // +0 and -0 may differ when everything sums to zero; compare modulo 0xffff.
        expect(pieces % 0xffff).toBe(whole % 0xffff);
      }),
    );
  });

  it('data containing its own checksum sums to 0xffff (checksum over it is 0)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 100 }), (raw) => {
        const data = raw.slice();
        data[0] = 0x45; // never all-zero, like every real header
        const withRoom = new Uint8Array(data.length + (data.length % 2) + 2);
        withRoom.set(data);
        const at = withRoom.length - 2;
        const checksum = internetChecksum(withRoom);
        withRoom[at] = checksum >>> 8;
        withRoom[at + 1] = checksum & 0xff;
        expect(onesComplementSum(withRoom)).toBe(0xffff);
        expect(internetChecksum(withRoom)).toBe(0);
      }),
    );
  });

  it('foldChecksum folds repeated carries', () => {
    expect(foldChecksum(0x1fffe)).toBe(0xffff);
    expect(foldChecksum(0x2fffd)).toBe(0xffff);
    expect(foldChecksum(0x12345678)).toBe(0x68ac);
  });
});

describe('pseudo-header sums', () => {
  it('IPv4: sum of addresses, protocol and length', () => {
    const sum = ipv4PseudoHeaderSum(parseIpv4Address('127.0.0.1'), parseIpv4Address('127.0.0.1'), 6, 332);
    expect(sum).toBe(foldChecksum(0x7f00 + 0x0001 + 0x7f00 + 0x0001 + 6 + 332));
  });

  it('IPv6: 32-bit length and next header', () => {
    const one = parseIpv6Address('::1');
    expect(ipv6PseudoHeaderSum(one, one, 58, 0x12345)).toBe(foldChecksum(1 + 1 + 0x0001 + 0x2345 + 58));
  });

  it('pseudo-header sum equals summing an explicit pseudo-header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffff }), (s, d, nh, len) => {
        const explicit = new Uint8Array(40);
        explicit.set(s, 0);
        explicit.set(d, 16);
        explicit[32] = len >>> 24;
        explicit[33] = (len >>> 16) & 0xff;
        explicit[34] = (len >>> 8) & 0xff;
        explicit[35] = len & 0xff;
        explicit[39] = nh;
        expect(ipv6PseudoHeaderSum(s, d, nh, len) % 0xffff).toBe(onesComplementSum(explicit) % 0xffff);
      }),
    );
  });
});

describe('updateChecksum (RFC 1624 eqn. 3)', () => {
  it('equals a full recompute after changing any one word', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }), (raw, indexSeed, newWord) => {
        const data = new Uint8Array(raw.length + (raw.length % 2));
        data.set(raw);
        data[0] = 0x45; // like an IPv4 header: the data never sums to zero
        const words = data.length / 2;
        const index = (indexSeed % words) * 2;
        const oldChecksum = internetChecksum(data);
        const oldWord = (data[index]! << 8) | data[index + 1]!;
        data[index] = newWord >>> 8;
        data[index + 1] = newWord & 0xff;
        const full = internetChecksum(data);
        const incremental = updateChecksum(oldChecksum, oldWord, newWord);
        if (onesComplementSum(data) === 0) {
          // All-zero data: the RFC notes eqn. 3 then gives the other zero.
          expect([0, 0xffff]).toContain(incremental);
        } else {
          expect(incremental).toBe(full);
        }
      }),
    );
  });

  it('RFC 1624 section 4 style: decrementing the TTL of a real header', () => {
    // The seed ping header: TTL 64 -> 63 changes the word 0x4001 to 0x3f01.
    const header = new Uint8Array([0x45, 0x00, 0x00, 0x54, 0x0f, 0x82, 0x40, 0x00, 0x40, 0x01, 0x2d, 0x25, 127, 0, 0, 1, 127, 0, 0, 1]);
    const next = updateChecksum(0x2d25, 0x4001, 0x3f01);
    header[8] = 63;
    header[10] = 0;
    header[11] = 0;
    expect(next).toBe(internetChecksum(header));
    expect(next).toBe(0x2e25);
  });
});

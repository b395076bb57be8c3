/** ICMP code names (nmap's reason words are the scan layer's: test/scan/reasons.test.ts). */
import { describe, expect, it } from 'vitest';
import {
  IcmpType,
  Icmpv6Type,
  buildIcmpv4Message,
  buildIcmpv6Message,
  icmpv4UnreachableCodeName,
  icmpv6UnreachableCodeName,
  parseIcmpv4Message,
  parseIcmpv6Message,
  timeExceededCodeName,
} from '../../src/wire/index.js';

describe('code names', () => {
  it('names every ICMPv4 unreachable code 0-15 (IANA)', () => {
    const names = Array.from({ length: 16 }, (_, code) => icmpv4UnreachableCodeName(code));
    expect(new Set(names).size).toBe(16);
    expect(names[3]).toBe('port-unreachable');
    expect(names[13]).toBe('communication-administratively-prohibited');
    expect(names[4]).toBe('fragmentation-needed');
    expect(icmpv4UnreachableCodeName(200)).toBe('code-200');
  });

  it('names ICMPv6 unreachable and time-exceeded codes', () => {
    expect(icmpv6UnreachableCodeName(1)).toBe('communication-administratively-prohibited');
    expect(icmpv6UnreachableCodeName(3)).toBe('address-unreachable');
    expect(icmpv6UnreachableCodeName(4)).toBe('port-unreachable');
    expect(timeExceededCodeName(4, 0)).toBe('ttl-exceeded-in-transit');
    expect(timeExceededCodeName(6, 0)).toBe('hop-limit-exceeded-in-transit');
    expect(timeExceededCodeName(6, 1)).toBe('fragment-reassembly-time-exceeded');
  });
});

describe('parsed ICMP messages', () => {
  it('carry the code name', () => {
    const v4 = parseIcmpv4Message(buildIcmpv4Message({ kind: 'destination-unreachable', code: 13, quoted: new Uint8Array(28) }));
    expect(v4.ok && v4.value).toMatchObject({ kind: 'destination-unreachable', codeName: 'communication-administratively-prohibited' });
    const mtu = parseIcmpv4Message(buildIcmpv4Message({ kind: 'destination-unreachable', code: 4, nextHopMtu: 1400 }));
    expect(mtu.ok && mtu.value).toMatchObject({ codeName: 'fragmentation-needed', nextHopMtu: 1400 });
    const ttl = parseIcmpv4Message(buildIcmpv4Message({ kind: 'time-exceeded', code: 0 }));
    expect(ttl.ok && ttl.value).toMatchObject({ kind: 'time-exceeded', codeName: 'ttl-exceeded-in-transit' });
    const v6 = parseIcmpv6Message(buildIcmpv6Message({ kind: 'destination-unreachable', code: 1 }, { source: '::1', destination: '::1' }), { source: '::1', destination: '::1' });
    expect(v6.ok && v6.value).toMatchObject({ codeName: 'communication-administratively-prohibited', checksumValid: true });
    const big = parseIcmpv6Message(buildIcmpv6Message({ kind: 'packet-too-big', mtu: 1280 }, undefined));
    expect(big.ok && big.value).toMatchObject({ kind: 'packet-too-big', mtu: 1280 });
    expect(big.ok && 'checksumValid' in big.value).toBe(false);
  });
});

describe('parseIcmpv6Message never throws', () => {
  it('returns BAD_ADDRESS for IPv4 (or mixed, or junk) pseudo-header addresses instead of throwing', () => {
    const bytes = buildIcmpv6Message({ kind: 'destination-unreachable', code: 1 }, { source: '::1', destination: '::1' });
    for (const pseudo of [
      { source: '198.18.0.1', destination: '198.18.0.2' },
      { source: '::1', destination: '198.18.0.2' },
      { source: 'not an address', destination: '::1' },
    ]) {
      const result = parseIcmpv6Message(bytes, pseudo);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ layer: 'icmpv6', code: 'BAD_ADDRESS' });
    }
  });
});

/** ICMP code names and nmap reason names. */
import { describe, expect, it } from 'vitest';
import {
  IcmpType,
  Icmpv6Type,
  buildIcmpv4Message,
  buildIcmpv6Message,
  icmpReasonName,
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

describe('nmap reason names (portreasons.cc icmp_to_reason)', () => {
  it('ICMPv4 destination unreachable', () => {
    const expected: Record<number, string> = {
      0: 'net-unreach',
      1: 'host-unreach',
      2: 'proto-unreach',
      3: 'port-unreach',
      9: 'net-prohibited',
      10: 'host-prohibited',
      13: 'admin-prohibited',
    };
    for (let code = 0; code < 16; code++) {
      expect(icmpReasonName(4, IcmpType.DESTINATION_UNREACHABLE, code), `code ${code}`).toBe(expected[code] ?? 'dest-unreach');
    }
  });

  it('ICMPv6 destination unreachable', () => {
    const expected = ['no-route', 'admin-prohibited', 'beyond-scope', 'host-unreach', 'port-unreach', 'admin-prohibited', 'reject-route', 'dest-unreach'];
    expected.forEach((name, code) => expect(icmpReasonName(6, Icmpv6Type.DESTINATION_UNREACHABLE, code), `code ${code}`).toBe(name));
  });

  it('other types', () => {
    expect(icmpReasonName(4, IcmpType.TIME_EXCEEDED, 0)).toBe('time-exceeded');
    expect(icmpReasonName(4, IcmpType.ECHO_REPLY, 0)).toBe('echo-reply');
    expect(icmpReasonName(4, IcmpType.SOURCE_QUENCH, 0)).toBe('source-quench');
    expect(icmpReasonName(6, Icmpv6Type.TIME_EXCEEDED, 0)).toBe('time-exceeded');
    expect(icmpReasonName(6, Icmpv6Type.PARAMETER_PROBLEM, 0)).toBe('param-problem');
    expect(icmpReasonName(6, Icmpv6Type.ECHO_REPLY, 0)).toBe('echo-reply');
    expect(icmpReasonName(4, 42, 0)).toBe('unknown-response');
  });

  it('parsed messages carry codeName and reason', () => {
    const v4 = parseIcmpv4Message(buildIcmpv4Message({ kind: 'destination-unreachable', code: 13, quoted: new Uint8Array(28) }));
    expect(v4.ok && v4.value).toMatchObject({ kind: 'destination-unreachable', codeName: 'communication-administratively-prohibited', reason: 'admin-prohibited' });
    const mtu = parseIcmpv4Message(buildIcmpv4Message({ kind: 'destination-unreachable', code: 4, nextHopMtu: 1400 }));
    expect(mtu.ok && mtu.value).toMatchObject({ codeName: 'fragmentation-needed', reason: 'dest-unreach', nextHopMtu: 1400 });
    const ttl = parseIcmpv4Message(buildIcmpv4Message({ kind: 'time-exceeded', code: 0 }));
    expect(ttl.ok && ttl.value).toMatchObject({ kind: 'time-exceeded', codeName: 'ttl-exceeded-in-transit', reason: 'time-exceeded' });
    const v6 = parseIcmpv6Message(buildIcmpv6Message({ kind: 'destination-unreachable', code: 1 }, { source: '::1', destination: '::1' }), { source: '::1', destination: '::1' });
    expect(v6.ok && v6.value).toMatchObject({ codeName: 'communication-administratively-prohibited', reason: 'admin-prohibited', checksumValid: true });
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

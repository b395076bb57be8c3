/** nmap's reason words for ICMP replies (the scan layer's vocabulary). */
import { describe, expect, it } from 'vitest';
import { IcmpType, Icmpv6Type } from '../../src/wire/index.js';
import { icmpReason } from '../../src/scan/reasons.js';

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
      expect(icmpReason(4, IcmpType.DESTINATION_UNREACHABLE, code), `code ${code}`).toBe(expected[code] ?? 'dest-unreach');
    }
  });

  it('ICMPv6 destination unreachable', () => {
    const expected = ['no-route', 'admin-prohibited', 'beyond-scope', 'host-unreach', 'port-unreach', 'admin-prohibited', 'reject-route', 'dest-unreach'];
    expected.forEach((name, code) => expect(icmpReason(6, Icmpv6Type.DESTINATION_UNREACHABLE, code), `code ${code}`).toBe(name));
  });

  it('other types', () => {
    expect(icmpReason(4, IcmpType.TIME_EXCEEDED, 0)).toBe('time-exceeded');
    expect(icmpReason(4, IcmpType.ECHO_REPLY, 0)).toBe('echo-reply');
    expect(icmpReason(4, IcmpType.SOURCE_QUENCH, 0)).toBe('source-quench');
    expect(icmpReason(6, Icmpv6Type.TIME_EXCEEDED, 0)).toBe('time-exceeded');
    expect(icmpReason(6, Icmpv6Type.PARAMETER_PROBLEM, 0)).toBe('param-problem');
    expect(icmpReason(6, Icmpv6Type.ECHO_REPLY, 0)).toBe('echo-reply');
    expect(icmpReason(4, 42, 0)).toBe('unknown-response');
  });

});

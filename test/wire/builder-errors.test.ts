/** Builders throw WireError for programmer errors, naming the field and the allowed range. */
import { describe, expect, it } from 'vitest';
import {
  PortscoutError,
} from '../../src/errors.js';
import {
  WireError,
  buildIcmpv4Message,
  buildIcmpv6Message,
  buildIpv4Packet,
  buildIpv6Packet,
  buildTcpSegment,
  buildUdpDatagram,
  createIcmpEchoTemplate,
  createTcpProbeTemplate,
  createUdpProbeTemplate,
  parseIpv4Address,
  parseTcpOptions,
} from '../../src/wire/index.js';

function thrown(fn: () => unknown): WireError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WireError);
    expect(err).toBeInstanceOf(PortscoutError);
    return err as WireError;
  }
  throw new Error('expected a WireError');
}

const empty = new Uint8Array(0);

describe('field ranges', () => {
  it('port 70000', () => {
    const err = thrown(() => buildTcpSegment({ sourcePort: 40000, destinationPort: 70000 }, undefined));
    expect(err.code).toBe('ERR_WIRE_FIELD_RANGE');
    expect(err.message).toBe('TCP destination port 70000 is out of range: allowed 0-65535');
    expect(thrown(() => buildUdpDatagram({ sourcePort: 70000, destinationPort: 1 })).message).toBe(
      'UDP source port 70000 is out of range: allowed 0-65535',
    );
  });

  it('TTL 300 and hop limit 300', () => {
    const err = thrown(() => buildIpv4Packet({ protocol: 6, source: '198.18.0.1', destination: '198.18.0.2', ttl: 300 }, empty));
    expect(err.code).toBe('ERR_WIRE_FIELD_RANGE');
    expect(err.message).toBe('IPv4 TTL 300 is out of range: allowed 0-255');
    expect(thrown(() => buildIpv6Packet({ nextHeader: 6, source: 'fd00::1', destination: 'fd00::2', hopLimit: 300 }, empty)).message).toBe(
      'IPv6 hop limit 300 is out of range: allowed 0-255',
    );
    expect(thrown(() => createTcpProbeTemplate({ family: 4, source: '127.0.0.1', flags: 2, ttl: 300 })).message).toContain('IPv4 TTL 300');
  });

  it('negative, fractional and NaN values are out of range too', () => {
    expect(thrown(() => buildTcpSegment({ sourcePort: -1, destinationPort: 1 }, undefined)).message).toContain('TCP source port -1 is out of range');
    expect(thrown(() => buildTcpSegment({ sourcePort: 1.5, destinationPort: 1 }, undefined)).message).toContain('allowed 0-65535');
    expect(thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 1, sequence: 2 ** 32 }, undefined)).message).toBe(
      'TCP sequence number 4294967296 is out of range: allowed 0-4294967295',
    );
    expect(thrown(() => buildIpv4Packet({ protocol: Number.NaN, source: '1.1.1.1', destination: '1.1.1.1' }, empty)).message).toContain('IPv4 protocol NaN');
  });

  it('other fields name themselves', () => {
    expect(thrown(() => buildIcmpv4Message({ kind: 'echo-request', identifier: 65536, sequence: 0 })).message).toBe(
      'ICMP echo identifier 65536 is out of range: allowed 0-65535',
    );
    expect(thrown(() => buildIcmpv4Message({ kind: 'destination-unreachable', code: 256 })).message).toBe('ICMP code 256 is out of range: allowed 0-255');
    expect(thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 1, options: [{ kind: 'mss', value: 65536 }] }, undefined)).message).toBe(
      'TCP MSS option value 65536 is out of range: allowed 0-65535',
    );
    expect(thrown(() => buildIpv6Packet({ nextHeader: 6, source: '::1', destination: '::1', flowLabel: 0x100000 }, empty)).message).toBe(
      'IPv6 flow label 1048576 is out of range: allowed 0-1048575',
    );
  });

  it('too many TCP options or bad IPv4 options length', () => {
    const options = Array.from({ length: 5 }, () => ({ kind: 'timestamps' as const, value: 0, echo: 0 }));
    expect(thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 1, options }, undefined)).message).toBe(
      'TCP options length 52 is out of range: allowed 0-40',
    );
    expect(thrown(() => buildIpv4Packet({ protocol: 6, source: '1.1.1.1', destination: '1.1.1.1', options: new Uint8Array(3) }, empty)).message).toBe(
      'IPv4 options length 3 is out of range: allowed 0-40 in multiples of 4',
    );
  });

  it('template fill checks its arguments', () => {
    const t = createTcpProbeTemplate({ family: 4, source: '127.0.0.1', flags: 2 });
    expect(thrown(() => t.fill(parseIpv4Address('127.0.0.1'), 1, 70000, 0)).message).toBe('TCP destination port 70000 is out of range: allowed 0-65535');
    expect(thrown(() => t.fill(parseIpv4Address('127.0.0.1'), 1, 1, -1)).code).toBe('ERR_WIRE_FIELD_RANGE');
    expect(thrown(() => t.fill(new Uint8Array(16), 1, 1, 0)).code).toBe('ERR_WIRE_ADDRESS_FAMILY');
  });
});

describe('address families', () => {
  it('an IPv6 address given to an IPv4 builder', () => {
    const err = thrown(() => buildIpv4Packet({ protocol: 6, source: '198.18.0.1', destination: 'fd00::1' }, empty));
    expect(err.code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    expect(err.message).toBe("IPv4 destination address 'fd00::1' is an IPv6 address: allowed only IPv4 addresses (4 bytes)");
  });

  it('an IPv4 address given to an IPv6 builder, template or ICMPv6 pseudo-header', () => {
    expect(thrown(() => buildIpv6Packet({ nextHeader: 6, source: '198.18.0.1', destination: 'fd00::1' }, empty)).code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    expect(thrown(() => createUdpProbeTemplate({ family: 6, source: '127.0.0.1' })).code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    expect(thrown(() => createIcmpEchoTemplate({ family: 4, source: '::1' })).code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    expect(
      thrown(() => buildIcmpv6Message({ kind: 'echo-request', identifier: 1, sequence: 1 }, { source: '127.0.0.1', destination: '127.0.0.1' })).code,
    ).toBe('ERR_WIRE_ADDRESS_FAMILY');
  });

  it('mixed families in a TCP pseudo-header', () => {
    const err = thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 2 }, { source: '127.0.0.1', destination: '::1' }));
    expect(err.code).toBe('ERR_WIRE_ADDRESS_FAMILY');
    expect(err.message).toContain('TCP pseudo-header destination address');
  });

  it('unparsable address text', () => {
    expect(thrown(() => buildIpv4Packet({ protocol: 6, source: 'localhost', destination: '1.1.1.1' }, empty)).code).toBe('ERR_WIRE_ADDRESS_SYNTAX');
  });
});

describe('target buffers', () => {
  it('a target too small is ERR_WIRE_BUFFER_TOO_SMALL', () => {
    const err = thrown(() => buildUdpDatagram({ sourcePort: 1, destinationPort: 2 }, undefined, { target: new Uint8Array(10), offset: 4 }));
    expect(err.code).toBe('ERR_WIRE_BUFFER_TOO_SMALL');
    expect(err.message).toBe('UDP datagram needs 8 bytes at offset 4: target has 10 bytes');
  });
});

describe('TCP options a receiver could not read back', () => {
  it('an option after EOL', () => {
    const err = thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 2, options: [{ kind: 'eol' }, { kind: 'mss', value: 1460 }] }, undefined));
    expect(err.code).toBe('ERR_WIRE_FIELD_RANGE');
    expect(err.message).toBe('TCP option 1 of 2 is EOL: EOL must be the last option');
    // EOL last is fine.
    expect(buildTcpSegment({ sourcePort: 1, destinationPort: 2, options: [{ kind: 'nop' }, { kind: 'eol' }] }, undefined)).toHaveLength(24);
  });

  it('an unknown option of kind 0 or 1 (they have no length byte)', () => {
    for (const type of [0, 1]) {
      const err = thrown(() => buildTcpSegment({ sourcePort: 1, destinationPort: 2, options: [{ kind: 'unknown', type, data: new Uint8Array(2) }] }, undefined));
      expect(err.message).toMatch(new RegExp(`^TCP unknown option kind ${type} is out of range: allowed 2-255`));
    }
  });
});

describe('parseTcpOptions with bounds past the buffer', () => {
  it('clamps them and never reads beyond the bytes it has', () => {
    const r = parseTcpOptions(new Uint8Array([1, 1]), 0, 10);
    expect(r).toEqual({ ok: true, value: [{ kind: 'nop' }, { kind: 'nop' }] });
    const mss = parseTcpOptions(new Uint8Array([2, 4, 5]), -3, 40);
    expect(mss.ok).toBe(false);
    if (!mss.ok) expect(mss.error.code).toBe('BAD_OPTION');
  });
});

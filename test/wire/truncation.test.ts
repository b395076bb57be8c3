/**
 * Truncated and inconsistent input: every proper prefix of every vector is
 * refused with a length error (never an exception), and impossible length
 * fields are rejected with the layer, the code and the numbers involved.
 */
import { describe, expect, it } from 'vitest';
import {
  IpProtocol,
  buildIpv4Packet,
  buildIpv6Packet,
  buildTcpSegment,
  buildUdpDatagram,
  parseIcmpv4Message,
  parseIcmpv6Message,
  parseIpv4Packet,
  readIpv4Envelope,
  parseIpv6Packet,
  parseQuotedDatagram,
  parseTcpSegment,
  parseUdpDatagram,
  type WireResult,
} from '../../src/wire/index.js';
import { allVectors } from './support/vectors.js';

const LENGTH_ERRORS = ['TRUNCATED', 'BAD_LENGTH'];

function expectLengthError(result: WireResult<unknown>, layer: string, what: string): void {
  expect(result.ok, what).toBe(false);
  if (result.ok) return;
  expect(result.error.layer, what).toBe(layer);
  expect(LENGTH_ERRORS, what).toContain(result.error.code);
  expect(result.error.required, what).toBeGreaterThan(result.error.actual ?? -1);
  expect(result.error.message.length).toBeGreaterThan(0);
}

/** The transport bytes of a vector and the parser for them. */
function transportOf(bytes: Uint8Array, family: 4 | 6): { payload: Uint8Array; protocol: number } {
  if (family === 4) {
    const r = parseIpv4Packet(bytes);
    if (!r.ok) throw new Error(r.error.message);
    return { payload: r.value.payload, protocol: r.value.header.protocol };
  }
  const r = parseIpv6Packet(bytes);
  if (!r.ok) throw new Error(r.error.message);
  return { payload: r.value.payload, protocol: r.value.protocol };
}

describe('every truncated prefix of every vector', () => {
  for (const vector of allVectors) {
    it(`${vector.name}: IP layer`, () => {
      for (let n = 0; n < vector.bytes.length; n++) {
        const prefix = vector.bytes.slice(0, n);
        const result = vector.family === 4 ? parseIpv4Packet(prefix) : parseIpv6Packet(prefix);
        expectLengthError(result, vector.family === 4 ? 'ipv4' : 'ipv6', `prefix of ${n} bytes`);
        if (vector.family === 4) expectLengthError(readIpv4Envelope(prefix), 'ipv4', `envelope of a prefix of ${n} bytes`);
      }
    });

    it(`${vector.name}: transport layer`, () => {
      const { payload, protocol } = transportOf(vector.bytes, vector.family);
      const headerLength =
        protocol === IpProtocol.TCP ? ((payload[12] ?? 0) >>> 4) * 4 : protocol === IpProtocol.UDP ? payload.length : 8;
      // TCP: the header (with options) is required; UDP: the whole datagram by its length field; ICMP: 8 bytes.
      for (let n = 0; n < headerLength; n++) {
        const prefix = payload.slice(0, n);
        if (protocol === IpProtocol.TCP) expectLengthError(parseTcpSegment(prefix), 'tcp', `TCP prefix ${n}`);
        else if (protocol === IpProtocol.UDP) expectLengthError(parseUdpDatagram(prefix), 'udp', `UDP prefix ${n}`);
        else if (protocol === IpProtocol.ICMP) expectLengthError(parseIcmpv4Message(prefix), 'icmpv4', `ICMP prefix ${n}`);
        else expectLengthError(parseIcmpv6Message(prefix), 'icmpv6', `ICMPv6 prefix ${n}`);
      }
    });
  }

  it('quoted datagrams: prefixes shorter than the IP header are TRUNCATED, longer ones give what they hold', () => {
    for (const vector of allVectors) {
      const ipHeader = vector.family === 4 ? 20 : 40;
      for (let n = 0; n <= vector.bytes.length; n++) {
        const result = parseQuotedDatagram(vector.bytes.slice(0, n));
        if (n < ipHeader) {
          expectLengthError(result, 'quoted', `${vector.name} quote of ${n}`);
          continue;
        }
        expect(result.ok).toBe(true);
        if (!result.ok) continue;
        const transport = n - ipHeader;
        expect(result.value.transportLength).toBe(transport);
        if (result.value.protocol === IpProtocol.TCP || result.value.protocol === IpProtocol.UDP) {
          expect(result.value.sourcePort !== undefined).toBe(transport >= 4);
        }
        if (result.value.protocol === IpProtocol.TCP) expect(result.value.tcpSequence !== undefined).toBe(transport >= 8);
      }
    }
  });
});

describe('impossible length fields', () => {
  const udp = buildUdpDatagram({ sourcePort: 1, destinationPort: 2, payload: new Uint8Array(4) }, undefined);
  const ipv4 = buildIpv4Packet({ protocol: IpProtocol.UDP, source: '198.18.0.1', destination: '198.18.0.2' }, udp);

  it('IPv4 IHL below 5 is BAD_HEADER_LENGTH', () => {
    for (const ihl of [0, 1, 4]) {
      const bad = ipv4.slice();
      bad[0] = 0x40 | ihl;
      const r = parseIpv4Packet(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ layer: 'ipv4', code: 'BAD_HEADER_LENGTH', required: 20, actual: ihl * 4 });
    }
  });

  it('IPv4 IHL beyond the buffer is TRUNCATED', () => {
    const bad = ipv4.slice(0, 24);
    bad[0] = 0x4f;
    const r = parseIpv4Packet(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ layer: 'ipv4', code: 'TRUNCATED', required: 60, actual: 24 });
  });

  it('IPv4 total length shorter than the header is BAD_LENGTH, longer than the buffer TRUNCATED', () => {
    const short = buildIpv4Packet({ protocol: 17, source: '198.18.0.1', destination: '198.18.0.2', totalLength: 19 }, udp, { keepLength: true });
    const r1 = parseIpv4Packet(short);
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.error).toMatchObject({ layer: 'ipv4', code: 'BAD_LENGTH', required: 20, actual: 19 });
    const long = buildIpv4Packet({ protocol: 17, source: '198.18.0.1', destination: '198.18.0.2', totalLength: 100 }, udp, { keepLength: true });
    const r2 = parseIpv4Packet(long);
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error).toMatchObject({ layer: 'ipv4', code: 'TRUNCATED', required: 100, actual: ipv4.length });
  });

  it('IPv4 payload is limited by total length (trailing link padding dropped)', () => {
    const padded = new Uint8Array(ipv4.length + 6);
    padded.set(ipv4);
    const r = parseIpv4Packet(padded);
    expect(r.ok && r.value.payload.length).toBe(udp.length);
  });

  it('wrong IP versions are BAD_VERSION', () => {
    const v6 = ipv4.slice();
    v6[0] = 0x65;
    const r = parseIpv4Packet(v6);
    expect(!r.ok && r.error).toMatchObject({ layer: 'ipv4', code: 'BAD_VERSION', actual: 6 });
    const r6 = parseIpv6Packet(new Uint8Array(40).fill(0x45));
    expect(!r6.ok && r6.error).toMatchObject({ layer: 'ipv6', code: 'BAD_VERSION', actual: 4 });
    const rq = parseQuotedDatagram(new Uint8Array(40).fill(0x55));
    expect(!rq.ok && rq.error).toMatchObject({ layer: 'quoted', code: 'BAD_VERSION', actual: 5 });
  });

  it('IPv6 payload length beyond the buffer is TRUNCATED', () => {
    const packet = buildIpv6Packet({ nextHeader: 17, source: 'fd00::1', destination: 'fd00::2', payloadLength: 30 }, udp, { keepLength: true });
    const r = parseIpv6Packet(packet);
    expect(!r.ok && r.error).toMatchObject({ layer: 'ipv6', code: 'TRUNCATED', required: 70, actual: 52 });
  });

  it('TCP data offset below 5 is BAD_HEADER_LENGTH, beyond the buffer TRUNCATED', () => {
    for (const dataOffset of [0, 4]) {
      const bad = buildTcpSegment({ sourcePort: 1, destinationPort: 2, dataOffset }, undefined, { keepLength: true });
      const r = parseTcpSegment(bad);
      expect(!r.ok && r.error).toMatchObject({ layer: 'tcp', code: 'BAD_HEADER_LENGTH', required: 5, actual: dataOffset });
    }
    const beyond = buildTcpSegment({ sourcePort: 1, destinationPort: 2, dataOffset: 15 }, undefined, { keepLength: true });
    const r = parseTcpSegment(beyond);
    expect(!r.ok && r.error).toMatchObject({ layer: 'tcp', code: 'TRUNCATED', required: 60, actual: 20 });
  });

  it('TCP options: bad lengths are BAD_OPTION on layer tcp-option', () => {
    const cases: [number[], string][] = [
      [[1, 1, 2, 4], 'MSS running past the header'],
      [[2, 3, 5, 0], 'MSS of length 3'],
      [[3, 2, 0, 0], 'window scale of length 2'],
      [[8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'timestamps of length 9'],
      [[5, 7, 0, 0, 0, 0, 0, 0], 'SACK not 2 + 8n'],
      [[30, 1, 0, 0], 'unknown option of length 1'],
      [[1, 1, 1, 30], 'option without a length byte'],
    ];
    for (const [options, what] of cases) {
      const padded = new Uint8Array(Math.ceil(options.length / 4) * 4);
      padded.set(options);
      const segment = buildTcpSegment({ sourcePort: 1, destinationPort: 2 }, undefined);
      const bytes = new Uint8Array(20 + padded.length);
      bytes.set(segment);
      bytes.set(padded, 20);
      bytes[12] = ((20 + padded.length) / 4) << 4;
      const r = parseTcpSegment(bytes);
      expect(r.ok, what).toBe(false);
      if (!r.ok) expect(r.error, what).toMatchObject({ layer: 'tcp-option', code: 'BAD_OPTION' });
    }
  });

  it('UDP length below 8 is BAD_LENGTH, beyond the buffer TRUNCATED', () => {
    for (const length of [0, 7]) {
      const r = parseUdpDatagram(buildUdpDatagram({ sourcePort: 1, destinationPort: 2, length }, undefined, { keepLength: true }));
      expect(!r.ok && r.error).toMatchObject({ layer: 'udp', code: 'BAD_LENGTH', required: 8, actual: length });
    }
    const r = parseUdpDatagram(buildUdpDatagram({ sourcePort: 1, destinationPort: 2, length: 9 }, undefined, { keepLength: true }));
    expect(!r.ok && r.error).toMatchObject({ layer: 'udp', code: 'TRUNCATED', required: 9, actual: 8 });
  });

  it('IPv6 extension header running past the payload is TRUNCATED', () => {
    // Hop-by-hop header claiming 16 bytes inside an 8-byte payload.
    const ext = new Uint8Array([17, 1, 0, 0, 0, 0, 0, 0]);
    const r = parseIpv6Packet(buildIpv6Packet({ nextHeader: IpProtocol.HOPOPT, source: '::1', destination: '::1' }, ext));
    expect(!r.ok && r.error).toMatchObject({ layer: 'ipv6', code: 'TRUNCATED', required: 56, actual: 48 });
  });

  it('quoted IPv4 header with IHL below 5 is BAD_HEADER_LENGTH', () => {
    const quote = ipv4.slice();
    quote[0] = 0x43;
    const r = parseQuotedDatagram(quote);
    expect(!r.ok && r.error).toMatchObject({ layer: 'quoted', code: 'BAD_HEADER_LENGTH' });
  });
});

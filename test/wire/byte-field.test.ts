/**
 * Header layouts as named byte ranges: each layout tiles its header exactly
 * (no gap, no overlap), and the builders put every value where its field says.
 */
import { describe, expect, it } from 'vitest';
import {
  ICMP_HEADER_LENGTH,
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IcmpField,
  IpProtocol,
  Ipv4Field,
  Ipv6Field,
  TCP_HEADER_LENGTH,
  TcpField,
  TcpFlags,
  UDP_HEADER_LENGTH,
  UdpField,
  buildIpv4Packet,
  buildTcpSegment,
  buildUdpDatagram,
  byteField,
  formatIpv4Address,
  readUint16,
  readUint32,
  type ByteField,
} from '../../src/wire/index.js';

/** Asserts that `fields`, in order, cover `[from, to)` one after the other. */
function expectTiling(fields: readonly ByteField[], from: number, to: number): void {
  let at = from;
  for (const field of fields) {
    expect(field.start).toBe(at);
    expect(field.end).toBeGreaterThan(field.start);
    at = field.end;
  }
  expect(at).toBe(to);
}

describe('byteField', () => {
  it('is a frozen half-open range', () => {
    const field = byteField(4, 8);
    expect(field).toEqual({ start: 4, end: 8 });
    expect(Object.isFrozen(field)).toBe(true);
  });
});

describe('layouts', () => {
  it.each([
    ['TcpField', TcpField, TCP_HEADER_LENGTH],
    ['UdpField', UdpField, UDP_HEADER_LENGTH],
    ['Ipv4Field', Ipv4Field, IPV4_HEADER_LENGTH],
    ['Ipv6Field', Ipv6Field, IPV6_HEADER_LENGTH],
  ] as const)('%s tiles its fixed header exactly', (_name, layout, length) => {
    expect(Object.isFrozen(layout)).toBe(true);
    expectTiling(Object.values(layout), 0, length);
  });

  it('IcmpField: type, code, checksum and rest tile the header; identifier and sequence tile rest', () => {
    expect(Object.isFrozen(IcmpField)).toBe(true);
    expectTiling([IcmpField.TYPE, IcmpField.CODE, IcmpField.CHECKSUM, IcmpField.REST], 0, ICMP_HEADER_LENGTH);
    expectTiling([IcmpField.IDENTIFIER, IcmpField.SEQUENCE], IcmpField.REST.start, IcmpField.REST.end);
  });
});

describe('builders write each value at its field', () => {
  it('TCP', () => {
    const segment = buildTcpSegment(
      {
        sourcePort: 40001,
        destinationPort: 443,
        sequence: 0x12345678,
        acknowledgment: 0x9abcdef0,
        flags: TcpFlags.SYN | TcpFlags.ACK,
        window: 65160,
        checksum: 0xbeef,
        urgentPointer: 7,
      },
      undefined,
    );
    expect(readUint16(segment, TcpField.SOURCE_PORT.start)).toBe(40001);
    expect(readUint16(segment, TcpField.DESTINATION_PORT.start)).toBe(443);
    expect(readUint32(segment, TcpField.SEQUENCE.start)).toBe(0x12345678);
    expect(readUint32(segment, TcpField.ACKNOWLEDGMENT.start)).toBe(0x9abcdef0);
    expect(readUint16(segment, TcpField.DATA_OFFSET_FLAGS.start)).toBe((5 << 12) | TcpFlags.SYN | TcpFlags.ACK);
    expect(readUint16(segment, TcpField.WINDOW.start)).toBe(65160);
    expect(readUint16(segment, TcpField.CHECKSUM.start)).toBe(0xbeef);
    expect(readUint16(segment, TcpField.URGENT_POINTER.start)).toBe(7);
  });

  it('UDP', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const datagram = buildUdpDatagram({ sourcePort: 40002, destinationPort: 53, checksum: 0xbeef, payload }, undefined);
    expect(readUint16(datagram, UdpField.SOURCE_PORT.start)).toBe(40002);
    expect(readUint16(datagram, UdpField.DESTINATION_PORT.start)).toBe(53);
    expect(readUint16(datagram, UdpField.LENGTH.start)).toBe(UDP_HEADER_LENGTH + payload.length);
    expect(readUint16(datagram, UdpField.CHECKSUM.start)).toBe(0xbeef);
  });

  it('IPv4', () => {
    const payload = new Uint8Array(8);
    const packet = buildIpv4Packet(
      { protocol: IpProtocol.UDP, source: '198.18.0.1', destination: '198.18.0.2', ttl: 37, identification: 0x4242, dontFragment: true, dscp: 46, ecn: 1 },
      payload,
    );
    expect(packet[Ipv4Field.VERSION_IHL.start]).toBe(0x45);
    expect(packet[Ipv4Field.DSCP_ECN.start]).toBe((46 << 2) | 1);
    expect(readUint16(packet, Ipv4Field.TOTAL_LENGTH.start)).toBe(IPV4_HEADER_LENGTH + payload.length);
    expect(readUint16(packet, Ipv4Field.IDENTIFICATION.start)).toBe(0x4242);
    expect(readUint16(packet, Ipv4Field.FLAGS_FRAGMENT.start)).toBe(0x4000);
    expect(packet[Ipv4Field.TTL.start]).toBe(37);
    expect(packet[Ipv4Field.PROTOCOL.start]).toBe(IpProtocol.UDP);
    expect(readUint16(packet, Ipv4Field.CHECKSUM.start)).not.toBe(0);
    expect(formatIpv4Address(packet.subarray(Ipv4Field.SOURCE.start, Ipv4Field.SOURCE.end))).toBe('198.18.0.1');
    expect(formatIpv4Address(packet.subarray(Ipv4Field.DESTINATION.start, Ipv4Field.DESTINATION.end))).toBe('198.18.0.2');
  });
});

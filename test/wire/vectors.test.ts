/**
 * Known-byte vectors: the two captures printed in the seed document and
 * loopback captures made for this project (see support/vectors.ts for the
 * origin of each). Parsing must give the captured fields, checksum
 * verification must agree with Wireshark/tshark, and rebuilding from the
 * parsed fields must give the captured bytes (with a correct checksum where
 * the capture carried a loopback partial sum).
 */
import { describe, expect, it } from 'vitest';
import {
  IpProtocol,
  TcpFlags,
  buildIcmpv4Message,
  buildIcmpv6Message,
  buildIpv4Packet,
  buildIpv6Packet,
  buildTcpSegment,
  buildUdpDatagram,
  internetChecksum,
  ipv4HeaderChecksumValid,
  parseIcmpv4Message,
  parseIcmpv6Message,
  parseIpv4Packet,
  parseIpv6Packet,
  parseQuotedDatagram,
  parseTcpSegment,
  parseUdpDatagram,
  readUint16,
  tcpFlagsToString,
  toHex,
  verifyIcmpv6Checksum,
  verifyTcpChecksum,
  verifyUdpChecksum,
  type WireResult,
} from '../../src/wire/index.js';
import {
  allVectors,
  capturedIcmpPortUnreachable,
  capturedIcmpv6EchoReply,
  capturedIcmpv6EchoRequest,
  capturedIcmpv6PortUnreachable,
  capturedTcp6Rst,
  capturedTcp6Syn,
  capturedUdp4,
  capturedUdp6,
  seedPing,
  seedTcp,
  seedTcpPayloadText,
} from './support/vectors.js';

function unwrap<T>(result: WireResult<T>): T {
  if (!result.ok) throw new Error(`unexpected parse failure: ${result.error.message}`);
  return result.value;
}

/** Builds into a buffer pre-filled with 0xa5 (smoltcp style): a byte the builder forgets stays 0xa5. */
function guarded(length: number): { target: Uint8Array; offset: number } {
  return { target: new Uint8Array(length).fill(0xa5), offset: 0 };
}

describe('seed vector: loopback ICMP echo request', () => {
  const packet = unwrap(parseIpv4Packet(seedPing.bytes));

  it('parses the IPv4 header as captured and its checksum 0x2d25 verifies', () => {
    expect(packet.header).toMatchObject({
      version: 4,
      headerLength: 20,
      totalLength: 84,
      identification: 0x0f82,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.ICMP,
      checksum: 0x2d25,
      source: '127.0.0.1',
      destination: '127.0.0.1',
    });
    expect(ipv4HeaderChecksumValid(seedPing.bytes)).toBe(true);
    expect(internetChecksum(seedPing.bytes, 0, 20)).toBe(0);
  });

  it('parses the echo request and its checksum 0x41c5 verifies', () => {
    const icmp = unwrap(parseIcmpv4Message(packet.payload));
    expect(icmp.kind).toBe('echo-request');
    if (icmp.kind !== 'echo-request') return;
    expect(icmp.identifier).toBe(0x024f);
    expect(icmp.sequence).toBe(1);
    expect(icmp.checksum).toBe(0x41c5);
    expect(icmp.checksumValid).toBe(true);
    expect(icmp.data.length).toBe(56);
    expect(icmp.data[8]).toBe(0x08);
  });

  it('rebuilds the exact captured bytes from the parsed fields', () => {
    const icmp = unwrap(parseIcmpv4Message(packet.payload));
    const icmpBytes = buildIcmpv4Message(icmp, guarded(packet.payload.length));
    const rebuilt = buildIpv4Packet(packet.header, icmpBytes, guarded(seedPing.bytes.length));
    expect(toHex(rebuilt)).toBe(toHex(seedPing.bytes));
  });
});

describe('seed vector: loopback TCP PSH+ACK with timestamps', () => {
  const packet = unwrap(parseIpv4Packet(seedTcp.bytes));
  const segment = unwrap(parseTcpSegment(packet.payload));

  it('parses IPv4 and verifies its checksum 0xcb14', () => {
    expect(packet.header).toMatchObject({ totalLength: 352, identification: 0x7081, ttl: 64, protocol: IpProtocol.TCP, checksum: 0xcb14 });
    expect(ipv4HeaderChecksumValid(seedTcp.bytes)).toBe(true);
  });

  it('parses the TCP header, options and the 300-byte payload', () => {
    expect(segment).toMatchObject({
      sourcePort: 47710,
      destinationPort: 12345,
      sequence: 0x09d170b2,
      acknowledgment: 0xe9c6d7ad,
      dataOffset: 8,
      flags: TcpFlags.PSH | TcpFlags.ACK,
      window: 342,
      checksum: 0xff54,
      urgentPointer: 0,
    });
    expect(tcpFlagsToString(segment.flags)).toBe('PA');
    expect(segment.options).toEqual([{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', value: 0x1a7c9a84, echo: 0x1a7bca01 }]);
    expect(new TextDecoder().decode(segment.payload)).toBe(seedTcpPayloadText);
  });

  it('reports the offloaded partial checksum 0xff54 as wrong', () => {
    expect(verifyTcpChecksum(packet.payload, '127.0.0.1', '127.0.0.1')).toBe(false);
  });

  it('rebuilding the segment gives the correct checksum 0xd270 (as Wireshark computes)', () => {
    const rebuilt = buildTcpSegment(segment, { source: packet.header.source, destination: packet.header.destination }, guarded(packet.payload.length));
    expect(readUint16(rebuilt, 16)).toBe(0xd270);
    expect(verifyTcpChecksum(rebuilt, '127.0.0.1', '127.0.0.1')).toBe(true);
    const expected = packet.payload.slice();
    expected[16] = 0xd2;
    expected[17] = 0x70;
    expect(toHex(rebuilt)).toBe(toHex(expected));
  });

  it('keepChecksum rebuilds the captured bytes exactly', () => {
    const rebuilt = buildTcpSegment(segment, { source: '127.0.0.1', destination: '127.0.0.1' }, { keepChecksum: true });
    expect(toHex(rebuilt)).toBe(toHex(packet.payload));
  });
});

describe('captured loopback vectors', () => {
  it('IPv4 UDP: fields, partial checksum reported wrong, rebuild fixes it', () => {
    const packet = unwrap(parseIpv4Packet(capturedUdp4.bytes));
    expect(ipv4HeaderChecksumValid(capturedUdp4.bytes)).toBe(true);
    const udp = unwrap(parseUdpDatagram(packet.payload));
    expect(udp).toMatchObject({ sourcePort: 47012, destinationPort: 47013, length: 27, checksum: 0xfe2e });
    expect(new TextDecoder().decode(udp.payload)).toBe('portscout-udp-probe');
    expect(verifyUdpChecksum(packet.payload, '127.0.0.1', '127.0.0.1')).toBe(false);
    const rebuilt = buildUdpDatagram(udp, { source: '127.0.0.1', destination: '127.0.0.1' });
    expect(verifyUdpChecksum(rebuilt, '127.0.0.1', '127.0.0.1')).toBe(true);
    expect(toHex(rebuilt.subarray(8))).toBe(toHex(udp.payload));
  });

  it('IPv4 ICMP port unreachable: code name, quoted UDP datagram', () => {
    const packet = unwrap(parseIpv4Packet(capturedIcmpPortUnreachable.bytes));
    expect(packet.header).toMatchObject({ dscp: 0x30, ecn: 0, ttl: 64, protocol: IpProtocol.ICMP, dontFragment: false });
    expect(ipv4HeaderChecksumValid(capturedIcmpPortUnreachable.bytes)).toBe(true);
    const icmp = unwrap(parseIcmpv4Message(packet.payload));
    expect(icmp).toMatchObject({ kind: 'destination-unreachable', type: 3, code: 3, checksum: 0x2b17, checksumValid: true });
    if (icmp.kind !== 'destination-unreachable') return;
    expect(icmp.codeName).toBe('port-unreachable');
    expect(toHex(icmp.quoted)).toBe(toHex(capturedUdp4.bytes));
    const quoted = unwrap(parseQuotedDatagram(icmp.quoted));
    expect(quoted).toMatchObject({
      family: 4,
      source: '127.0.0.1',
      destination: '127.0.0.1',
      protocol: IpProtocol.UDP,
      ttl: 64,
      sourcePort: 47012,
      destinationPort: 47013,
    });
    const rebuilt = buildIpv4Packet(packet.header, buildIcmpv4Message(icmp), guarded(capturedIcmpPortUnreachable.bytes.length));
    expect(toHex(rebuilt)).toBe(toHex(capturedIcmpPortUnreachable.bytes));
  });

  it('IPv6 UDP: fields and partial checksum reported wrong', () => {
    const packet = unwrap(parseIpv6Packet(capturedUdp6.bytes));
    expect(packet.header).toMatchObject({ version: 6, trafficClass: 0, flowLabel: 0x3cce4, payloadLength: 22, nextHeader: 17, hopLimit: 64, source: '::1', destination: '::1' });
    expect(packet.protocol).toBe(IpProtocol.UDP);
    expect(packet.extensionHeaders).toEqual([]);
    const udp = unwrap(parseUdpDatagram(packet.payload));
    expect(udp).toMatchObject({ sourcePort: 47014, destinationPort: 47013, length: 22, checksum: 0x0029 });
    expect(verifyUdpChecksum(packet.payload, '::1', '::1')).toBe(false);
    expect(verifyUdpChecksum(buildUdpDatagram(udp, { source: '::1', destination: '::1' }), '::1', '::1')).toBe(true);
    const rebuilt = buildIpv6Packet(packet.header, buildUdpDatagram(udp, undefined), guarded(capturedUdp6.bytes.length));
    expect(toHex(rebuilt)).toBe(toHex(capturedUdp6.bytes));
  });

  it('ICMPv6 port unreachable: checksum valid with the pseudo-header, quoted datagram', () => {
    const packet = unwrap(parseIpv6Packet(capturedIcmpv6PortUnreachable.bytes));
    const pseudo = { source: packet.header.source, destination: packet.header.destination };
    const icmp = unwrap(parseIcmpv6Message(packet.payload, pseudo));
    expect(icmp).toMatchObject({ kind: 'destination-unreachable', type: 1, code: 4, checksum: 0x3129, checksumValid: true });
    if (icmp.kind !== 'destination-unreachable') return;
    expect(icmp.codeName).toBe('port-unreachable');
    expect(verifyIcmpv6Checksum(packet.payload, '::1', '::1')).toBe(true);
    const quoted = unwrap(parseQuotedDatagram(icmp.quoted));
    expect(quoted).toMatchObject({ family: 6, source: '::1', destination: '::1', protocol: IpProtocol.UDP, ttl: 64, sourcePort: 47014, destinationPort: 47013 });
    const rebuilt = buildIpv6Packet(packet.header, buildIcmpv6Message(icmp, pseudo), guarded(capturedIcmpv6PortUnreachable.bytes.length));
    expect(toHex(rebuilt)).toBe(toHex(capturedIcmpv6PortUnreachable.bytes));
  });

  it('IPv6 TCP SYN: all five option kinds in Linux order', () => {
    const packet = unwrap(parseIpv6Packet(capturedTcp6Syn.bytes));
    const syn = unwrap(parseTcpSegment(packet.payload));
    expect(syn).toMatchObject({ sourcePort: 47010, destinationPort: 47011, sequence: 0xaeafce68, acknowledgment: 0, dataOffset: 10, window: 65476, checksum: 0x0030 });
    expect(tcpFlagsToString(syn.flags)).toBe('S');
    expect(syn.options).toEqual([
      { kind: 'mss', value: 65476 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', value: 0x24330298, echo: 0 },
      { kind: 'nop' },
      { kind: 'window-scale', shift: 10 },
    ]);
    expect(verifyTcpChecksum(packet.payload, '::1', '::1')).toBe(false);
    const fixed = buildTcpSegment(syn, { source: '::1', destination: '::1' }, guarded(packet.payload.length));
    expect(verifyTcpChecksum(fixed, '::1', '::1')).toBe(true);
    const kept = buildTcpSegment(syn, undefined, guarded(packet.payload.length));
    expect(toHex(buildIpv6Packet(packet.header, kept))).toBe(toHex(capturedTcp6Syn.bytes));
  });

  it('IPv6 TCP RST+ACK answers the SYN (ack = seq + 1)', () => {
    const rst = unwrap(parseTcpSegment(unwrap(parseIpv6Packet(capturedTcp6Rst.bytes)).payload));
    expect(tcpFlagsToString(rst.flags)).toBe('RA');
    expect(rst).toMatchObject({ sourcePort: 47011, destinationPort: 47010, sequence: 0, acknowledgment: 0xaeafce69, window: 0, options: [] });
  });

  it('ICMPv6 echo request and reply: identifier, sequence, data, checksums', () => {
    for (const [vector, kind] of [
      [capturedIcmpv6EchoRequest, 'echo-request'],
      [capturedIcmpv6EchoReply, 'echo-reply'],
    ] as const) {
      const packet = unwrap(parseIpv6Packet(vector.bytes));
      expect(packet.protocol).toBe(IpProtocol.ICMPV6);
      const pseudo = { source: packet.header.source, destination: packet.header.destination };
      const icmp = unwrap(parseIcmpv6Message(packet.payload, pseudo));
      expect(icmp).toMatchObject({ kind, identifier: 0x5053, sequence: 1, checksumValid: true });
      if (icmp.kind !== kind) return;
      expect(new TextDecoder().decode(icmp.data)).toBe('portscout');
      const rebuilt = buildIcmpv6Message({ kind, identifier: icmp.identifier, sequence: icmp.sequence, data: icmp.data }, pseudo, guarded(packet.payload.length));
      expect(toHex(rebuilt)).toBe(toHex(packet.payload));
    }
  });

  it('every vector: our checksum verdicts agree with tshark', () => {
    for (const vector of allVectors) {
      if (vector.family === 4) {
        const packet = unwrap(parseIpv4Packet(vector.bytes));
        expect(ipv4HeaderChecksumValid(vector.bytes), vector.name).toBe(vector.checksums.ip);
        const { source, destination, protocol } = packet.header;
        const valid =
          protocol === IpProtocol.TCP
            ? verifyTcpChecksum(packet.payload, source, destination)
            : protocol === IpProtocol.UDP
              ? verifyUdpChecksum(packet.payload, source, destination)
              : unwrap(parseIcmpv4Message(packet.payload)).checksumValid;
        expect(valid, vector.name).toBe(vector.checksums.transport);
      } else {
        const packet = unwrap(parseIpv6Packet(vector.bytes));
        const { source, destination } = packet.header;
        const valid =
          packet.protocol === IpProtocol.TCP
            ? verifyTcpChecksum(packet.payload, source, destination)
            : packet.protocol === IpProtocol.UDP
              ? verifyUdpChecksum(packet.payload, source, destination)
              : verifyIcmpv6Checksum(packet.payload, source, destination);
        expect(valid, vector.name).toBe(vector.checksums.transport);
      }
    }
  });
});

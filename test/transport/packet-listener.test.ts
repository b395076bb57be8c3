import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { acquireListener, dispatch, type RawReply } from '../../src/transport/packet-listener.js';
import { IpProtocol, TcpFlags, buildIcmpv4Message, buildIpv4Packet, buildTcpSegment, buildUdpDatagram } from '../../src/wire/index.js';

// Leases open raw sockets only on their first send, so routing can be tested without root.
const US = '198.18.0.1';
const THEM = '198.18.1.10';

function ipv4(protocol: number, payload: Uint8Array, source = THEM, destination = US): Uint8Array {
  return buildIpv4Packet({ source, destination, protocol, ttl: 61 }, payload);
}

describe('packet listener demultiplexer', () => {
  it('routes TCP replies by the port they are addressed to, with the TTL and a copy of the segment', () => {
    const got: RawReply[] = [];
    const other: RawReply[] = [];
    const lease = acquireListener(['tcp', 'icmp'], { onReply: (r) => got.push(r) });
    const lease2 = acquireListener(['tcp', 'icmp'], { onReply: (r) => other.push(r) });
    try {
      const segment = buildTcpSegment({ sourcePort: 80, destinationPort: lease.portBase + 3, flags: TcpFlags.SYN | TcpFlags.ACK }, { source: THEM, destination: US });
      const packet = ipv4(IpProtocol.TCP, segment);
      expect(lease.portBase).not.toBe(lease2.portBase);
      dispatch(4, 'tcp', packet, THEM);
      expect(got).toHaveLength(1);
      expect(other).toHaveLength(0);
      const reply = got[0]!;
      expect(reply.ttl).toBe(61);
      expect(reply.source).toBe(THEM);
      expect(Array.from(reply.payload)).toEqual(Array.from(segment));
      packet.fill(0);
      expect(Array.from(reply.payload)).toEqual(Array.from(segment));
    } finally {
      lease.release();
      lease2.release();
    }
  });

  it('keeps replies intact when the receive buffer is a reused Buffer (as raw-socket hands it over)', () => {
    const got: RawReply[] = [];
    const lease = acquireListener(['tcp', 'udp', 'icmp'], { onReply: (r) => got.push(r) });
    try {
      const receiveBuffer = Buffer.alloc(2048);
      const receive = (packet: Uint8Array): void => {
        receiveBuffer.set(packet);
        dispatch(4, packet[9] === IpProtocol.ICMP ? 'icmp' : 'tcp', receiveBuffer.subarray(0, packet.length), THEM);
      };
      const synAck = buildTcpSegment({ sourcePort: 22, destinationPort: lease.portBase, flags: TcpFlags.SYN | TcpFlags.ACK, sequence: 7 }, { source: THEM, destination: US });
      const probe = ipv4(IpProtocol.UDP, buildUdpDatagram({ sourcePort: lease.portBase + 1, destinationPort: 53 }, { source: US, destination: THEM }), US, THEM);
      const unreachable = buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: probe.subarray(0, 28) });
      receive(ipv4(IpProtocol.TCP, synAck));
      receive(ipv4(IpProtocol.ICMP, unreachable));
      // The next datagram overwrites the shared buffer; what was delivered must not change.
      receiveBuffer.fill(0xa5);
      expect(got).toHaveLength(2);
      expect(Array.from(got[0]!.payload)).toEqual(Array.from(synAck));
      expect(Array.from(got[1]!.payload)).toEqual(Array.from(unreachable));
      expect(got[1]!.quoted).toMatchObject({ sourcePort: lease.portBase + 1, destinationPort: 53, destination: THEM });
      const icmp = got[1]!.icmp as { quoted: Uint8Array };
      expect(Array.from(icmp.quoted)).toEqual(Array.from(probe.subarray(0, 28)));
    } finally {
      lease.release();
    }
  });

  it('routes an ICMP error by the source port of the datagram it quotes', () => {
    const got: RawReply[] = [];
    const lease = acquireListener(['udp', 'icmp'], { onReply: (r) => got.push(r) });
    try {
      const probe = ipv4(IpProtocol.UDP, buildUdpDatagram({ sourcePort: lease.portBase + 9, destinationPort: 161 }, { source: US, destination: THEM }), US, THEM);
      const error = buildIcmpv4Message({ kind: 'destination-unreachable', code: 13, quoted: probe.subarray(0, 28) });
      dispatch(4, 'icmp', ipv4(IpProtocol.ICMP, error), THEM);
      expect(got).toHaveLength(1);
      expect(got[0]?.quoted).toMatchObject({ protocol: IpProtocol.UDP, sourcePort: lease.portBase + 9, destinationPort: 161, destination: THEM });
      // An error quoting a port nobody owns is other traffic: ignored.
      const foreign = ipv4(IpProtocol.UDP, buildUdpDatagram({ sourcePort: 5000, destinationPort: 161 }, { source: US, destination: THEM }), US, THEM);
      dispatch(4, 'icmp', ipv4(IpProtocol.ICMP, buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: foreign.subarray(0, 28) })), THEM);
      expect(got).toHaveLength(1);
    } finally {
      lease.release();
    }
  });

  it('counts malformed packets and never throws on hostile bytes', () => {
    const lease = acquireListener(['tcp', 'udp', 'icmp'], { onReply: () => {} });
    try {
      const before = lease.counters.malformed;
      dispatch(4, 'tcp', new Uint8Array([0x45, 0, 0]), THEM);
      expect(lease.counters.malformed).toBe(before + 1);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom<4 | 6>(4, 6), fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const), (bytes, family, protocol) => {
          dispatch(family, protocol, bytes, family === 4 ? THEM : 'fd00::10');
        }),
        { numRuns: 3000 },
      );
    } finally {
      lease.release();
    }
  });

  it('gives every running scan its own block of ports and identifiers, and frees them on release', () => {
    const leases = Array.from({ length: 5 }, () => acquireListener(['tcp'], { onReply: () => {} }));
    const bases = new Set(leases.map((l) => l.portBase));
    const ids = new Set(leases.map((l) => l.icmpIdBase));
    expect(bases.size).toBe(5);
    expect(ids.size).toBe(5);
    for (const l of leases) l.release();
    const again = acquireListener(['tcp'], { onReply: () => {} });
    again.release();
    expect(() => again.send(4, 'tcp', new Uint8Array(20), THEM, () => {})).toThrow(expect.objectContaining({ code: 'ERR_LISTENER_RELEASED' }));
  });
});


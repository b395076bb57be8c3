/**
 * Known-byte packet vectors for the wire tests, each with where it came from.
 *
 * Captured vectors were recorded on the loopback interface of a Linux 6.x
 * host with `tshark -i lo` (link type Ethernet; the 14-byte fake Ethernet
 * header is removed here) while a Python script sent the traffic to
 * 127.0.0.1 / ::1. tshark's verdicts (with ip/tcp/udp checksum checking on)
 * are recorded in `tshark`. Loopback TCP and UDP carry an offloaded partial
 * checksum (CHECKSUM_PARTIAL), so those are "Bad" in a capture even though
 * the kernel never finishes them on lo.
 */
import { fromHex } from '../../../src/wire/index.js';

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (!bytes) throw new Error(`bad hex in test vector: ${text}`);
  return bytes;
}

/** A captured or published packet starting at its IP header. */
export interface PacketVector {
  readonly name: string;
  /** Where the bytes come from. */
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly family: 4 | 6;
  /** tshark's checksum verdicts for this packet (true = Good, false = Bad). */
  readonly checksums: { readonly ip?: boolean; readonly transport?: boolean };
}

/**
 * Seed document (/work/shared/seeds/003_c4cc72b64b1b73d7.txt, "pings[0]"): a
 * loopback `ping 127.0.0.1` echo request as captured, IP checksum 0x2d25.
 */
export const seedPing: PacketVector = {
  name: 'seed: IPv4 ICMP echo request 127.0.0.1 -> 127.0.0.1',
  source: 'seed document 003, pings[0] (a captured loopback ping)',
  family: 4,
  checksums: { ip: true, transport: true },
  bytes: hex(
    '45 00 00 54 0f 82 40 00 40 01 2d 25 7f 00 00 01 7f 00 00 01 08 00 41 c5 ' +
      '02 4f 00 01 cd ef 0f 5c de 9b 0d 00 08 09 0a 0b 0c 0d 0e 0f 10 11 ' +
      '12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 ' +
      '28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37',
  ),
};

/** The 300-byte payload of the seed TCP segment. */
export const seedTcpPayloadText = "hi I'm data what's your name? ".repeat(10);

/**
 * Seed document figure 12 (frame 4 of a Wireshark capture): loopback TCP
 * 127.0.0.1:47710 -> 127.0.0.1:12345, PSH+ACK, NOP NOP timestamps, 300 bytes
 * of data. The IP checksum 0xcb14 verifies; the TCP checksum 0xff54 is a
 * loopback partial sum; Wireshark computes the correct one as 0xd270.
 */
export const seedTcp: PacketVector = {
  name: 'seed: IPv4 TCP PSH+ACK with timestamps and 300 bytes of data',
  source: 'seed document 003, figure 12 (Wireshark capture of loopback TCP)',
  family: 4,
  checksums: { ip: true, transport: false },
  bytes: (() => {
    const ip = hex('45 00 01 60 70 81 40 00 40 06 cb 14 7f 00 00 01 7f 00 00 01');
    const tcp = hex('ba 5e 30 39 09 d1 70 b2 e9 c6 d7 ad 80 18 01 56 ff 54 00 00 01 01 08 0a 1a 7c 9a 84 1a 7b ca 01');
    const data = new TextEncoder().encode(seedTcpPayloadText);
    const out = new Uint8Array(ip.length + tcp.length + data.length);
    out.set(ip);
    out.set(tcp, ip.length);
    out.set(data, ip.length + tcp.length);
    return out;
  })(),
};

/** Captured: UDP 127.0.0.1:47012 -> 127.0.0.1:47013 (closed), payload 'portscout-udp-probe'. */
export const capturedUdp4: PacketVector = {
  name: 'capture: IPv4 UDP to a closed port',
  source: 'tshark -i lo capture of Python sendto(127.0.0.1:47013); UDP checksum 0xfe2e is a loopback partial sum (tshark: Bad)',
  family: 4,
  checksums: { ip: true, transport: false },
  bytes: hex(
    '45 00 00 2f eb 31 40 00 40 11 51 8a 7f 00 00 01 7f 00 00 01 b7 a4 b7 a5 00 1b fe 2e 70 6f 72 74 ' +
      '73 63 6f 75 74 2d 75 64 70 2d 70 72 6f 62 65',
  ),
};

/** Captured: the kernel's ICMP port unreachable for {@link capturedUdp4}, quoting all of it. */
export const capturedIcmpPortUnreachable: PacketVector = {
  name: 'capture: IPv4 ICMP port unreachable quoting the UDP datagram',
  source: 'tshark -i lo capture, the Linux reply to capturedUdp4 (tshark: IP Good, ICMP Good)',
  family: 4,
  checksums: { ip: true, transport: true },
  bytes: hex(
    '45 c0 00 4b f5 f2 00 00 40 01 85 fd 7f 00 00 01 7f 00 00 01 03 03 2b 17 00 00 00 00 45 00 00 2f ' +
      'eb 31 40 00 40 11 51 8a 7f 00 00 01 7f 00 00 01 b7 a4 b7 a5 00 1b fe 2e 70 6f 72 74 73 63 6f 75 ' +
      '74 2d 75 64 70 2d 70 72 6f 62 65',
  ),
};

/** Captured: UDP [::1]:47014 -> [::1]:47013 (closed), payload 'portscout-udp6'. */
export const capturedUdp6: PacketVector = {
  name: 'capture: IPv6 UDP to a closed port',
  source: 'tshark -i lo capture of Python sendto([::1]:47013); checksum 0x0029 is a loopback partial sum (tshark: Bad)',
  family: 6,
  checksums: { transport: false },
  bytes: hex(
    '60 03 cc e4 00 16 11 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 b7 a6 b7 a5 00 16 00 29 70 6f 72 74 73 63 6f 75 74 2d 75 64 70 36',
  ),
};

/** Captured: ICMPv6 destination unreachable, code 4 (port unreachable), quoting {@link capturedUdp6}. */
export const capturedIcmpv6PortUnreachable: PacketVector = {
  name: 'capture: ICMPv6 port unreachable quoting the UDP datagram',
  source: 'tshark -i lo capture, the Linux reply to capturedUdp6 (tshark: ICMPv6 checksum Good)',
  family: 6,
  checksums: { transport: true },
  bytes: hex(
    '60 06 ba 0a 00 46 3a 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 01 04 31 29 00 00 00 00 60 03 cc e4 00 16 11 40 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 b7 a6 b7 a5 00 16 00 29 ' +
      '70 6f 72 74 73 63 6f 75 74 2d 75 64 70 36',
  ),
};

/** Captured: Linux TCP SYN [::1]:47010 -> [::1]:47011 with MSS, SACK-permitted, timestamps, NOP, window scale. */
export const capturedTcp6Syn: PacketVector = {
  name: 'capture: IPv6 TCP SYN with MSS, SACK-permitted, timestamps and window scale',
  source: 'tshark -i lo capture of Python connect([::1]:47011); checksum 0x0030 is a loopback partial sum (tshark: Bad)',
  family: 6,
  checksums: { transport: false },
  bytes: hex(
    '60 07 78 16 00 28 06 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 b7 a2 b7 a3 ae af ce 68 00 00 00 00 a0 02 ff c4 00 30 00 00 02 04 ff c4 ' +
      '04 02 08 0a 24 33 02 98 00 00 00 00 01 03 03 0a',
  ),
};

/** Captured: the RST+ACK answering {@link capturedTcp6Syn} (closed port). */
export const capturedTcp6Rst: PacketVector = {
  name: 'capture: IPv6 TCP RST+ACK from a closed port',
  source: 'tshark -i lo capture, the Linux reply to capturedTcp6Syn; checksum 0x001c partial (tshark: Bad)',
  family: 6,
  checksums: { transport: false },
  bytes: hex(
    '60 01 40 6d 00 14 06 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 b7 a3 b7 a2 00 00 00 00 ae af ce 69 50 14 00 00 00 1c 00 00',
  ),
};

/** Captured: ICMPv6 echo request to ::1, identifier 0x5053, sequence 1, data 'portscout'. */
export const capturedIcmpv6EchoRequest: PacketVector = {
  name: 'capture: ICMPv6 echo request',
  source: 'tshark -i lo capture of a Python raw ICMPv6 socket send to ::1 (kernel-computed checksum; tshark: Good)',
  family: 6,
  checksums: { transport: true },
  bytes: hex(
    '60 07 1c f8 00 11 3a 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 80 00 f5 a0 50 53 00 01 70 6f 72 74 73 63 6f 75 74',
  ),
};

/** Captured: the kernel's ICMPv6 echo reply to {@link capturedIcmpv6EchoRequest}. */
export const capturedIcmpv6EchoReply: PacketVector = {
  name: 'capture: ICMPv6 echo reply',
  source: 'tshark -i lo capture, the Linux reply to capturedIcmpv6EchoRequest (tshark: Good)',
  family: 6,
  checksums: { transport: true },
  bytes: hex(
    '60 06 a6 d1 00 11 3a 40 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 ' +
      '00 00 00 00 00 00 00 01 81 00 f4 a0 50 53 00 01 70 6f 72 74 73 63 6f 75 74',
  ),
};

/** Every packet vector. */
export const allVectors: readonly PacketVector[] = [
  seedPing,
  seedTcp,
  capturedUdp4,
  capturedIcmpPortUnreachable,
  capturedUdp6,
  capturedIcmpv6PortUnreachable,
  capturedTcp6Syn,
  capturedTcp6Rst,
  capturedIcmpv6EchoRequest,
  capturedIcmpv6EchoReply,
];

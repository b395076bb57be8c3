/**
 * Cross-check with a real dissector: packets built by the library are
 * written to a pcap (LINKTYPE_RAW, IPv4 and IPv6 mixed) and dissected by
 * tshark with checksum validation on. tshark must decode every field as
 * built and report every checksum as Good (checksum.status 1; Wireshark's
 * enum is 0 Bad, 1 Good, 2 Unverified).
 *
 * The packets are only written to a file; nothing is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  IpProtocol,
  TcpFlags,
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
  parseIpv6Address,
} from '../../src/wire/index.js';
import { encodePcap } from './support/pcap-writer.js';
import { TSHARK, tsharkAvailable, tsharkFields } from './support/tshark.js';

const S4 = '198.18.0.1';
const D4 = '198.18.0.2';
const S6 = 'fd00::1';
const D6 = 'fd00::2';
const text = (s: string) => new TextEncoder().encode(s);

// 1. IPv4 TCP SYN with every option kind (template path).
const synTemplate = createTcpProbeTemplate({
  family: 4,
  source: S4,
  flags: TcpFlags.SYN | TcpFlags.ECE | TcpFlags.CWR,
  ttl: 51,
  window: 29200,
  identification: 0xbeef,
  options: [
    { kind: 'mss', value: 1460 },
    { kind: 'sack-permitted' },
    { kind: 'timestamps', value: 123456789, echo: 0 },
    { kind: 'nop' },
    { kind: 'window-scale', shift: 7 },
  ],
});
const tcpSyn4 = synTemplate.fill(parseIpv4Address(D4), 40000, 80, 0x01020304).slice();

// 2. IPv4 TCP ACK+PSH with SACK blocks and data (full builders).
const tcpAck4 = buildIpv4Packet(
  { protocol: IpProtocol.TCP, source: S4, destination: D4, ttl: 64, dontFragment: true, dscp: 10 },
  buildTcpSegment(
    {
      sourcePort: 40001,
      destinationPort: 443,
      sequence: 1000,
      acknowledgment: 2000,
      flags: TcpFlags.ACK | TcpFlags.PSH,
      window: 501,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: 3000, right: 3100 }, { left: 4000, right: 4200 }] }],
      payload: text('hello'),
    },
    { source: S4, destination: D4 },
  ),
);

// 3. IPv4 UDP (template path).
const udp4 = createUdpProbeTemplate({ family: 4, source: S4, ttl: 40 }).fill(parseIpv4Address(D4), 40002, 53, text('portscout')).slice();

// 4. IPv4 ICMP echo request (template path).
const echo4 = createIcmpEchoTemplate({ family: 4, source: S4, data: text('abcdefgh') }).fill(parseIpv4Address(D4), 0x1234, 7).slice();

// 5. IPv4 ICMP port unreachable from D4 quoting the UDP datagram (full builders).
const unreachable4 = buildIpv4Packet(
  { protocol: IpProtocol.ICMP, source: D4, destination: S4, ttl: 64, dscp: 0x30 },
  buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: udp4 }),
);

// 6. IPv6 TCP SYN+ACK with options (full builders).
const tcp6 = buildIpv6Packet(
  { nextHeader: IpProtocol.TCP, source: D6, destination: S6, hopLimit: 63, flowLabel: 0x12345, trafficClass: 0x20 },
  buildTcpSegment(
    {
      sourcePort: 22,
      destinationPort: 40003,
      sequence: 0xfffffff0,
      acknowledgment: 0x01020305,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      window: 65160,
      options: [{ kind: 'mss', value: 1440 }, { kind: 'sack-permitted' }, { kind: 'nop' }, { kind: 'window-scale', shift: 9 }],
    },
    { source: D6, destination: S6 },
  ),
);

// 7. IPv6 ICMPv6 echo request (template with IPv6 header).
const echo6 = createIcmpEchoTemplate({ family: 6, source: S6, includeIpHeader: true, ttl: 64, data: text('ping6') })
  .fill(parseIpv6Address(D6), 0x4321, 9)
  .slice();

// 8. IPv6 UDP (template with IPv6 header) and 9. the ICMPv6 port unreachable quoting it.
const udp6 = createUdpProbeTemplate({ family: 6, source: S6, includeIpHeader: true }).fill(parseIpv6Address(D6), 40004, 161, text('snmp?')).slice();
const unreachable6 = buildIpv6Packet(
  { nextHeader: IpProtocol.ICMPV6, source: D6, destination: S6 },
  buildIcmpv6Message({ kind: 'destination-unreachable', code: 4, quoted: udp6 }, { source: D6, destination: S6 }),
);

const packets = [tcpSyn4, tcpAck4, udp4, echo4, unreachable4, tcp6, echo6, udp6, unreachable6];

const FIELDS = [
  'ip.src',
  'ip.dst',
  'ip.ttl',
  'ip.id',
  'ip.dsfield',
  'ip.flags.df',
  'ip.checksum.status',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.hlim',
  'ipv6.flow',
  'ipv6.tclass',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.window_size_value',
  'tcp.hdr_len',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.sack_perm',
  'tcp.options.timestamp.tsval',
  'tcp.options.timestamp.tsecr',
  'tcp.options.sack_le',
  'tcp.options.sack_re',
  'tcp.payload',
  'tcp.checksum.status',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'udp.checksum.status',
  'icmp.type',
  'icmp.code',
  'icmp.ident',
  'icmp.seq',
  'icmp.checksum.status',
  'icmpv6.type',
  'icmpv6.code',
  'icmpv6.echo.identifier',
  'icmpv6.echo.sequence_number',
  'icmpv6.checksum.status',
];

const GOOD = '1';

describe('tshark decodes library-built packets and finds every checksum Good', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portscout-wire-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`tshark is installed at ${TSHARK}`, () => {
    // Fails clearly instead of skipping: this cross-check is part of the test suite.
    expect(tsharkAvailable(), `tshark not found at ${TSHARK}; install the tshark package`).toBe(true);
  });

  const dissect = (() => {
    let cached: Record<string, string[]>[] | undefined;
    return () => {
      if (!cached) {
        const file = join(dir, 'built.pcap');
        writeFileSync(file, encodePcap(packets));
        cached = tsharkFields(file, FIELDS);
      }
      return cached;
    };
  })();

  it('decodes one record per packet', () => {
    expect(dissect()).toHaveLength(packets.length);
  });

  it('IPv4 TCP SYN from the template: header fields, all option kinds, checksums', () => {
    const p = dissect()[0]!;
    expect(p['ip.src']).toEqual([S4]);
    expect(p['ip.dst']).toEqual([D4]);
    expect(p['ip.ttl']).toEqual(['51']);
    expect(p['ip.id']).toEqual(['0xbeef']);
    expect(p['ip.checksum.status']).toEqual([GOOD]);
    expect(p['tcp.srcport']).toEqual(['40000']);
    expect(p['tcp.dstport']).toEqual(['80']);
    expect(p['tcp.seq_raw']).toEqual([String(0x01020304)]);
    expect(p['tcp.flags']).toEqual(['0x00c2']);
    expect(p['tcp.window_size_value']).toEqual(['29200']);
    expect(p['tcp.hdr_len']).toEqual(['40']);
    expect(p['tcp.options.mss_val']).toEqual(['1460']);
    expect(p['tcp.options.sack_perm']?.length).toBe(1);
    expect(p['tcp.options.timestamp.tsval']).toEqual(['123456789']);
    expect(p['tcp.options.timestamp.tsecr']).toEqual(['0']);
    expect(p['tcp.options.wscale.shift']).toEqual(['7']);
    expect(p['tcp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv4 TCP with SACK blocks and data', () => {
    const p = dissect()[1]!;
    expect(p['ip.flags.df']).toEqual(['1']);
    expect(p['ip.dsfield']).toEqual(['0x28']);
    expect(p['ip.checksum.status']).toEqual([GOOD]);
    expect(p['tcp.seq_raw']).toEqual(['1000']);
    expect(p['tcp.ack_raw']).toEqual(['2000']);
    expect(p['tcp.flags']).toEqual(['0x0018']);
    expect(p['tcp.options.sack_le']).toEqual(['3000', '4000']);
    expect(p['tcp.options.sack_re']).toEqual(['3100', '4200']);
    expect(p['tcp.payload']).toEqual(['68656c6c6f']);
    expect(p['tcp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv4 UDP from the template', () => {
    const p = dissect()[2]!;
    expect(p['ip.ttl']).toEqual(['40']);
    expect(p['ip.checksum.status']).toEqual([GOOD]);
    expect(p['udp.srcport']).toEqual(['40002']);
    expect(p['udp.dstport']).toEqual(['53']);
    expect(p['udp.length']).toEqual(['17']);
    expect(p['udp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv4 ICMP echo request from the template', () => {
    const p = dissect()[3]!;
    expect(p['ip.checksum.status']).toEqual([GOOD]);
    expect(p['icmp.type']).toEqual(['8']);
    expect(p['icmp.code']).toEqual(['0']);
    expect(p['icmp.ident']?.[0]).toBe(String(0x1234));
    expect(p['icmp.seq']?.[0]).toBe('7');
    expect(p['icmp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv4 ICMP port unreachable quoting the UDP datagram: outer and inner headers', () => {
    const p = dissect()[4]!;
    expect(p['ip.src']).toEqual([D4, S4]);
    expect(p['ip.dst']).toEqual([S4, D4]);
    expect(p['ip.checksum.status']).toEqual([GOOD, GOOD]);
    expect(p['icmp.type']).toEqual(['3']);
    expect(p['icmp.code']).toEqual(['3']);
    expect(p['icmp.checksum.status']).toEqual([GOOD]);
    expect(p['udp.srcport']).toEqual(['40002']);
    expect(p['udp.dstport']).toEqual(['53']);
    expect(p['udp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv6 TCP SYN+ACK with options', () => {
    const p = dissect()[5]!;
    expect(p['ipv6.src']).toEqual([D6]);
    expect(p['ipv6.dst']).toEqual([S6]);
    expect(p['ipv6.hlim']).toEqual(['63']);
    expect(Number(p['ipv6.flow']?.[0])).toBe(0x12345);
    expect(Number(p['ipv6.tclass']?.[0])).toBe(0x20);
    expect(p['tcp.seq_raw']).toEqual([String(0xfffffff0)]);
    expect(p['tcp.ack_raw']).toEqual([String(0x01020305)]);
    expect(p['tcp.flags']).toEqual(['0x0012']);
    expect(p['tcp.options.mss_val']).toEqual(['1440']);
    expect(p['tcp.options.wscale.shift']).toEqual(['9']);
    expect(p['tcp.checksum.status']).toEqual([GOOD]);
  });

  it('IPv6 ICMPv6 echo request from the template', () => {
    const p = dissect()[6]!;
    expect(p['ipv6.src']).toEqual([S6]);
    expect(p['icmpv6.type']).toEqual(['128']);
    expect(p['icmpv6.echo.identifier']).toEqual(['0x4321']);
    expect(p['icmpv6.echo.sequence_number']).toEqual(['9']);
    expect(p['icmpv6.checksum.status']).toEqual([GOOD]);
  });

  it('IPv6 UDP and the ICMPv6 port unreachable quoting it', () => {
    const udp = dissect()[7]!;
    expect(udp['udp.srcport']).toEqual(['40004']);
    expect(udp['udp.dstport']).toEqual(['161']);
    expect(udp['udp.checksum.status']).toEqual([GOOD]);
    const p = dissect()[8]!;
    expect(p['ipv6.src']).toEqual([D6, S6]);
    expect(p['icmpv6.type']).toEqual(['1']);
    expect(p['icmpv6.code']).toEqual(['4']);
    expect(p['icmpv6.checksum.status']).toEqual([GOOD]);
    expect(p['udp.dstport']).toEqual(['161']);
    expect(p['udp.checksum.status']).toEqual([GOOD]);
  });
});

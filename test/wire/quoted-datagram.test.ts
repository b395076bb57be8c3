/** The datagram quoted in ICMP errors, parsed leniently; IPv6 extension headers. */
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
  createIcmpEchoTemplate,
  createTcpProbeTemplate,
  parseIcmpv4Message,
  parseIpv4Address,
  parseIpv6Address,
  parseIpv6Packet,
  parseQuotedDatagram,
  parseTcpSegment,
} from '../../src/wire/index.js';

describe('parseQuotedDatagram', () => {
  const syn = createTcpProbeTemplate({ family: 4, source: '198.18.0.1', flags: TcpFlags.SYN, ttl: 37, identification: 4242 })
    .fill(parseIpv4Address('198.18.0.2'), 40001, 443, 0xdeadbeef)
    .slice();

  it('an IPv4 TCP probe quoted with 8 transport bytes (RFC 792 minimum) gives ports and sequence', () => {
    const icmp = parseIcmpv4Message(buildIcmpv4Message({ kind: 'destination-unreachable', code: 13, quoted: syn.subarray(0, 28) }));
    expect(icmp.ok).toBe(true);
    if (!icmp.ok || icmp.value.kind !== 'destination-unreachable') return;
    const q = parseQuotedDatagram(icmp.value.quoted);
    expect(q.ok && q.value).toEqual({
      family: 4,
      source: '198.18.0.1',
      destination: '198.18.0.2',
      protocol: IpProtocol.TCP,
      ttl: 37,
      identification: 4242,
      sourcePort: 40001,
      destinationPort: 443,
      tcpSequence: 0xdeadbeef,
      transportLength: 8,
    });
  });

  it('a full quote also gives acknowledgment and flags', () => {
    const q = parseQuotedDatagram(syn);
    expect(q.ok && q.value).toMatchObject({ tcpAcknowledgment: 0, tcpFlags: TcpFlags.SYN, transportLength: syn.length - 20 });
  });

  it('a quote cut inside the ports gives only addresses and protocol', () => {
    const q = parseQuotedDatagram(syn.subarray(0, 23));
    expect(q.ok && q.value).toEqual({ family: 4, source: '198.18.0.1', destination: '198.18.0.2', protocol: 6, ttl: 37, identification: 4242, transportLength: 3 });
  });

  it('quoted total length is not trusted (routers rewrite it)', () => {
    const lying = syn.slice();
    lying[2] = 0;
    lying[3] = 20;
    const q = parseQuotedDatagram(lying);
    expect(q.ok && q.value.destinationPort).toBe(443);
  });

  it('non-first IPv4 fragments carry no transport header', () => {
    const fragment = buildIpv4Packet({ protocol: 17, source: '198.18.0.1', destination: '198.18.0.2', fragmentOffset: 3 }, new Uint8Array(8).fill(7));
    const q = parseQuotedDatagram(fragment);
    expect(q.ok && q.value.sourcePort).toBeUndefined();
  });

  it('quoted ICMP echo requests give identifier and sequence (IPv4 and IPv6)', () => {
    const ping = createIcmpEchoTemplate({ family: 4, source: '198.18.0.1' }).fill(parseIpv4Address('198.18.0.9'), 0x1234, 77);
    expect(parseQuotedDatagram(ping)).toMatchObject({ ok: true, value: { protocol: 1, icmpType: 8, icmpCode: 0, icmpIdentifier: 0x1234, icmpSequence: 77 } });
    const ping6 = createIcmpEchoTemplate({ family: 6, source: 'fd00::1', includeIpHeader: true }).fill(parseIpv6Address('fd00::9'), 0x4321, 78);
    expect(parseQuotedDatagram(ping6)).toMatchObject({
      ok: true,
      value: { family: 6, source: 'fd00::1', destination: 'fd00::9', protocol: 58, icmpType: 128, icmpIdentifier: 0x4321, icmpSequence: 78 },
    });
    // An echo reply's identifier is reported too; other ICMP types are not read as echo.
    const unreachable = buildIpv4Packet({ protocol: 1, source: '198.18.0.1', destination: '198.18.0.2' }, buildIcmpv4Message({ kind: 'destination-unreachable', code: 3 }));
    const q = parseQuotedDatagram(unreachable);
    expect(q.ok && q.value).toMatchObject({ icmpType: 3, icmpCode: 3 });
    expect(q.ok && q.value.icmpIdentifier).toBeUndefined();
  });

  it('IPv6 quote with extension headers finds the UDP ports behind them', () => {
    const udp = buildUdpDatagram({ sourcePort: 5353, destinationPort: 53 }, { source: 'fd00::1', destination: 'fd00::2' });
    const destOpts = new Uint8Array([IpProtocol.UDP, 0, 1, 4, 0, 0, 0, 0]); // PadN
    const hopByHop = new Uint8Array([IpProtocol.IPV6_OPTS, 0, 1, 4, 0, 0, 0, 0]);
    const payload = new Uint8Array([...hopByHop, ...destOpts, ...udp]);
    const packet = buildIpv6Packet({ nextHeader: IpProtocol.HOPOPT, source: 'fd00::1', destination: 'fd00::2', hopLimit: 3 }, payload);
    const q = parseQuotedDatagram(packet);
    expect(q.ok && q.value).toMatchObject({ family: 6, protocol: IpProtocol.UDP, ttl: 3, sourcePort: 5353, destinationPort: 53, transportLength: 8 });
    // Cut inside the second extension header: protocol is what the quote got to, no ports.
    const cut = parseQuotedDatagram(packet.subarray(0, 49));
    expect(cut.ok && cut.value).toMatchObject({ protocol: IpProtocol.IPV6_OPTS });
    expect(cut.ok && cut.value.sourcePort).toBeUndefined();
  });

  it('an ICMPv6 error quoting a TCP probe', () => {
    const segment = buildTcpSegment({ sourcePort: 40000, destinationPort: 22, sequence: 99, flags: TcpFlags.SYN }, { source: 'fd00::1', destination: 'fd00::2' });
    const probe = buildIpv6Packet({ nextHeader: 6, source: 'fd00::1', destination: 'fd00::2' }, segment);
    const error = buildIcmpv6Message({ kind: 'time-exceeded', code: 0, quoted: probe }, { source: 'fd00::ff', destination: 'fd00::1' });
    const q = parseQuotedDatagram(error.subarray(8));
    expect(q.ok && q.value).toMatchObject({ family: 6, protocol: 6, sourcePort: 40000, destinationPort: 22, tcpSequence: 99 });
  });
});

describe('IPv6 extension headers', () => {
  const tcp = buildTcpSegment({ sourcePort: 1, destinationPort: 2, flags: TcpFlags.RST }, { source: 'fd00::1', destination: 'fd00::2' });

  it('skips hop-by-hop, routing, fragment and destination options to the upper layer', () => {
    const hop = [IpProtocol.IPV6_ROUTE, 0, 1, 4, 0, 0, 0, 0];
    const routing = [IpProtocol.IPV6_FRAG, 2, 0, 0, 0, 0, 0, 0, ...new Array<number>(16).fill(0)]; // 24 bytes (Hdr Ext Len 2)
    const fragment = [IpProtocol.IPV6_OPTS, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]; // offset 0, M=0, id 0x12345678
    const dest = [IpProtocol.TCP, 0, 1, 4, 0, 0, 0, 0];
    const payload = new Uint8Array([...hop, ...routing, ...fragment, ...dest, ...tcp]);
    const r = parseIpv6Packet(buildIpv6Packet({ nextHeader: IpProtocol.HOPOPT, source: 'fd00::1', destination: 'fd00::2' }, payload));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.protocol).toBe(IpProtocol.TCP);
    expect(r.value.extensionHeaders).toEqual([
      { type: 0, length: 8 },
      { type: 43, length: 24 },
      { type: 44, length: 8 },
      { type: 60, length: 8 },
    ]);
    expect(r.value.fragment).toEqual({ offset: 0, moreFragments: false, identification: 0x12345678 });
    expect(r.value.ipPayload.length).toBe(payload.length);
    const seg = parseTcpSegment(r.value.payload);
    expect(seg.ok && seg.value.flags).toBe(TcpFlags.RST);
  });

  it('no next header (59) gives protocol 59 and an empty payload', () => {
    const r = parseIpv6Packet(buildIpv6Packet({ nextHeader: IpProtocol.IPV6_NONXT, source: '::1', destination: '::1' }, new Uint8Array(0)));
    expect(r.ok && r.value).toMatchObject({ protocol: 59, extensionHeaders: [] });
    expect(r.ok && r.value.payload.length).toBe(0);
  });
});

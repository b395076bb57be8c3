/**
 * A hostile target for the lab (fault 12 of the one-engine issue): run inside
 * a target namespace, it answers every IPv4 probe from the scanner to its
 * ports with crafted packets that must decide nothing:
 *   - TCP SYN: a SYN-ACK with a bad checksum, a SYN-ACK acknowledging the
 *     wrong number, a reset to the wrong source port, an ICMP
 *     port-unreachable quoting a probe with another sequence number, an ICMP
 *     admin-prohibited with a bad ICMP checksum, and a truncated segment;
 *   - UDP: a datagram from the next port to the probe's source port, and a
 *     port-unreachable with a bad ICMP checksum.
 * Its packets carry TTL 99, so the lab's firewall rules can drop the
 * kernel's own answers (TTL 64) on the junk-only ports and keep these.
 *
 *   ip netns exec <t1> node --import tsx test/support/hostile-target.ts '<json>'
 * with json { scanner, tcpPorts: [from, to][], udpPorts: [from, to][], lifetimeMs }.
 * It prints "ready" when its sockets are open, counts what it sent on SIGTERM
 * ({"sent": n}), and exits by itself after lifetimeMs at the latest.
 */
import { createRequire } from 'node:module';
import {
  IpProtocol,
  TcpFlags,
  buildIcmpv4Message,
  buildIpv4Packet,
  buildTcpSegment,
  buildUdpDatagram,
  parseIpv4Packet,
  parseTcpSegment,
  parseUdpDatagram,
} from '../../src/wire/index.js';
import type { RawSocketModule } from '../../src/transport/raw-socket-loader.js';

const request = JSON.parse(process.argv[2] ?? '{}') as { scanner: string; tcpPorts: [number, number][]; udpPorts: [number, number][]; lifetimeMs: number };
const raw = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
const TTL = 99;
const within = (ranges: [number, number][], port: number): boolean => ranges.some(([from, to]) => port >= from && port <= to);

const tcp = raw.createSocket({ protocol: raw.Protocol.TCP });
const udp = raw.createSocket({ protocol: raw.Protocol.UDP });
// Every packet leaves through one socket with our own IP header.
tcp.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
let sent = 0;

function send(from: string, to: string, protocol: number, payload: Uint8Array): void {
  const packet = buildIpv4Packet({ protocol, source: from, destination: to, ttl: TTL }, payload);
  tcp.send(Buffer.from(packet), 0, packet.length, to, () => undefined);
  sent++;
}

function breakChecksum(message: Uint8Array, at: number): Uint8Array {
  const out = message.slice();
  out[at] = (out[at] as number) ^ 0x5a;
  return out;
}

/** The first 28 bytes of the probe, as an ICMP error quotes it. */
const quote = (ipPacket: Uint8Array): Uint8Array => ipPacket.slice(0, 28);

tcp.on('message', (buffer: Buffer) => {
  const ip = parseIpv4Packet(buffer);
  if (!ip.ok || ip.value.header.source !== request.scanner || ip.value.header.ttl === TTL) return;
  const segment = parseTcpSegment(ip.value.payload);
  if (!segment.ok || segment.value.flags !== TcpFlags.SYN || !within(request.tcpPorts, segment.value.destinationPort)) return;
  const { source: scanner, destination: us } = ip.value.header;
  const { sourcePort, destinationPort, sequence } = segment.value;
  const pseudo = { source: us, destination: scanner };
  const reply = (init: { acknowledgment: number; flags: number; to?: number }): Uint8Array =>
    buildTcpSegment({ sourcePort: destinationPort, destinationPort: init.to ?? sourcePort, sequence: 777, acknowledgment: init.acknowledgment, flags: init.flags, window: 29200 }, pseudo);
  const right = (sequence + 1) >>> 0;
  send(us, scanner, IpProtocol.TCP, breakChecksum(reply({ acknowledgment: right, flags: TcpFlags.SYN | TcpFlags.ACK }), 16));
  send(us, scanner, IpProtocol.TCP, reply({ acknowledgment: (sequence + 7) >>> 0, flags: TcpFlags.SYN | TcpFlags.ACK }));
  send(us, scanner, IpProtocol.TCP, reply({ acknowledgment: right, flags: TcpFlags.RST | TcpFlags.ACK, to: sourcePort ^ 1 }));
  const forged = ip.value.payload.slice();
  forged[4] = (forged[4] as number) ^ 0xff;
  const forgedPacket = buildIpv4Packet({ protocol: IpProtocol.TCP, source: scanner, destination: us, ttl: 64 }, forged);
  send(us, scanner, IpProtocol.ICMP, buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: quote(forgedPacket) }));
  send(us, scanner, IpProtocol.ICMP, breakChecksum(buildIcmpv4Message({ kind: 'destination-unreachable', code: 13, quoted: quote(buffer) }), 2));
  send(us, scanner, IpProtocol.TCP, reply({ acknowledgment: right, flags: TcpFlags.SYN | TcpFlags.ACK }).subarray(0, 12));
});

udp.on('message', (buffer: Buffer) => {
  const ip = parseIpv4Packet(buffer);
  if (!ip.ok || ip.value.header.source !== request.scanner || ip.value.header.ttl === TTL) return;
  const datagram = parseUdpDatagram(ip.value.payload);
  if (!datagram.ok || !within(request.udpPorts, datagram.value.destinationPort)) return;
  const { source: scanner, destination: us } = ip.value.header;
  const { sourcePort, destinationPort } = datagram.value;
  const next = (destinationPort % 65535) + 1;
  send(us, scanner, IpProtocol.UDP, buildUdpDatagram({ sourcePort: next, destinationPort: sourcePort, payload: new TextEncoder().encode('not you') }, { source: us, destination: scanner }));
  send(us, scanner, IpProtocol.ICMP, breakChecksum(buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: quote(buffer) }), 2));
});

const stop = (): void => {
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
  tcp.close();
  udp.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
setTimeout(stop, request.lifetimeMs).unref();
process.stdout.write('ready\n');

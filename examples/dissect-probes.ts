/**
 * Builds two probes with portscout's wire layer and prints their bytes and
 * their dissection:
 * - a TCP SYN 127.0.0.1:40000 -> 127.0.0.1:80 with an MSS option,
 * - an ICMP echo request 127.0.0.1 -> 127.0.0.1.
 *
 * Nothing is sent. Run with `npx tsx examples/dissect-probes.ts` (`npm run example`).
 */
import {
  IpProtocol,
  TcpFlags,
  buildIcmpv4Message,
  buildIpv4Packet,
  buildTcpSegment,
  ipv4HeaderChecksumValid,
  parseIcmpv4Message,
  parseIpv4Packet,
  parseTcpSegment,
  tcpFlagsToString,
  toHex,
  verifyTcpChecksum,
  type TcpOption,
} from '../src/index.js';

const source = '127.0.0.1';
const destination = '127.0.0.1';

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    lines.push(`  ${offset.toString(16).padStart(4, '0')}  ${toHex(bytes.subarray(offset, offset + 16))}`);
  }
  return lines.join('\n');
}

function describeOption(option: TcpOption): string {
  switch (option.kind) {
    case 'mss':
      return `MSS ${option.value}`;
    case 'window-scale':
      return `window scale ${option.shift}`;
    case 'timestamps':
      return `timestamps ${option.value}/${option.echo}`;
    case 'sack':
      return `SACK ${option.blocks.map((b) => `${b.left}-${b.right}`).join(',')}`;
    case 'unknown':
      return `kind ${option.type} (${option.data.length} bytes)`;
    default:
      return option.kind;
  }
}

function dissect(title: string, packet: Uint8Array): void {
  console.log(`\n${title} (${packet.length} bytes)`);
  console.log(hexDump(packet));
  const ip = parseIpv4Packet(packet);
  if (!ip.ok) {
    console.log(`  not an IPv4 packet: ${ip.error.message}`);
    return;
  }
  const h = ip.value.header;
  console.log(
    `  IPv4  ${h.source} -> ${h.destination}  ttl ${h.ttl}  id 0x${h.identification.toString(16)}  ` +
      `length ${h.totalLength}  protocol ${h.protocol}  checksum 0x${h.checksum.toString(16)} ` +
      `(${ipv4HeaderChecksumValid(packet) ? 'valid' : 'WRONG'})`,
  );
  if (h.protocol === IpProtocol.TCP) {
    const tcp = parseTcpSegment(ip.value.payload);
    if (!tcp.ok) {
      console.log(`  TCP   malformed: ${tcp.error.message}`);
      return;
    }
    const t = tcp.value;
    const checksumOk = verifyTcpChecksum(ip.value.payload, h.source, h.destination);
    console.log(
      `  TCP   ${t.sourcePort} -> ${t.destinationPort}  flags ${tcpFlagsToString(t.flags) || '-'}  seq ${t.sequence}  ack ${t.acknowledgment}  ` +
        `window ${t.window}  checksum 0x${t.checksum.toString(16)} (${checksumOk ? 'valid' : 'WRONG'})`,
    );
    console.log(`        options: ${t.options.map(describeOption).join(', ') || 'none'}; payload ${t.payload.length} bytes`);
  } else if (h.protocol === IpProtocol.ICMP) {
    const icmp = parseIcmpv4Message(ip.value.payload);
    if (!icmp.ok) {
      console.log(`  ICMP  malformed: ${icmp.error.message}`);
      return;
    }
    const m = icmp.value;
    const detail = m.kind === 'echo-request' || m.kind === 'echo-reply' ? `  id 0x${m.identifier.toString(16)}  seq ${m.sequence}  data ${m.data.length} bytes` : '';
    console.log(`  ICMP  ${m.kind} (type ${m.type}, code ${m.code})${detail}  checksum 0x${m.checksum.toString(16)} (${m.checksumValid ? 'valid' : 'WRONG'})`);
  }
}

const syn = buildIpv4Packet(
  { protocol: IpProtocol.TCP, source, destination, ttl: 64, identification: 0x1c46 },
  buildTcpSegment(
    { sourcePort: 40000, destinationPort: 80, sequence: 0x5eed0001, flags: TcpFlags.SYN, window: 1024, options: [{ kind: 'mss', value: 1460 }] },
    { source, destination },
  ),
);

const data = Uint8Array.from({ length: 16 }, (_, i) => 0x61 + i); // 'abcdefghijklmnop'
const ping = buildIpv4Packet(
  { protocol: IpProtocol.ICMP, source, destination, ttl: 64, identification: 0x1c47, dontFragment: true },
  buildIcmpv4Message({ kind: 'echo-request', identifier: 0x7073, sequence: 1, data }),
);

console.log('portscout wire layer: two probes, built and dissected');
dissect('TCP SYN 127.0.0.1:40000 -> 127.0.0.1:80', syn);
dissect('ICMP echo request 127.0.0.1 -> 127.0.0.1', ping);

/**
 * Wire-layer benchmark: packets per second on one core for
 * - building SYN probes with a template (patch + incremental checksum),
 * - building the same SYN probes with the full builders (for comparison),
 * - parsing TCP replies: IPv4 header + TCP header of a SYN-ACK with options.
 *
 * Run with `npx tsx bench/wire.ts` (or `npm run bench:wire`). Nothing is sent.
 * Targets: >= 2 million SYN probes built and >= 2 million replies parsed per second.
 */
import {
  IPV4_HEADER_LENGTH,
  IpProtocol,
  TcpField,
  TcpFlags,
  buildIpv4Packet,
  buildTcpSegment,
  createTcpProbeTemplate,
  parseIpv4Packet,
  parseTcpSegment,
  type TcpOption,
} from '../src/wire/index.js';

/** The TCP checksum of an IPv4 packet without IP options: a byte that differs per probe. */
const TCP_CHECKSUM_AT = IPV4_HEADER_LENGTH + TcpField.CHECKSUM.start;
const SYN_OPTIONS: readonly TcpOption[] = [{ kind: 'mss', value: 1460 }];
const SOURCE = '198.18.0.1';
const DESTINATIONS = Array.from({ length: 256 }, (_, i) => new Uint8Array([198, 18, 1, i]));

interface Result {
  readonly name: string;
  readonly packets: number;
  readonly seconds: number;
}

function measure(name: string, packets: number, run: (count: number) => number): Result {
  run(Math.min(packets, 200_000)); // warm up the JIT
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    sink += run(packets);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, seconds);
  }
  if (sink === 42.5) console.log('unreachable'); // keeps results alive
  return { name, packets, seconds: best };
}

function synTemplate(count: number): number {
  const template = createTcpProbeTemplate({ family: 4, source: SOURCE, flags: TcpFlags.SYN, options: SYN_OPTIONS, window: 1024 });
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const packet = template.fill(DESTINATIONS[i & 255]!, 40000 + (i & 1023), 1 + (i % 1000), (i * 2654435761) >>> 0);
    sink += packet[TCP_CHECKSUM_AT]!;
  }
  return sink;
}

function synFullBuilders(count: number): number {
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const destination = DESTINATIONS[i & 255]!;
    const segment = buildTcpSegment(
      { sourcePort: 40000 + (i & 1023), destinationPort: 1 + (i % 1000), sequence: (i * 2654435761) >>> 0, flags: TcpFlags.SYN, window: 1024, options: SYN_OPTIONS },
      { source: SOURCE, destination },
    );
    const packet = buildIpv4Packet({ protocol: IpProtocol.TCP, source: SOURCE, destination }, segment);
    sink += packet[TCP_CHECKSUM_AT]!;
  }
  return sink;
}

/** 1024 distinct SYN-ACK replies as a Linux server sends them (MSS, SACK-permitted, timestamps, NOP, window scale). */
const REPLIES = Array.from({ length: 1024 }, (_, i) => {
  const source = DESTINATIONS[i & 255]!;
  const segment = buildTcpSegment(
    {
      sourcePort: 1 + (i % 1000),
      destinationPort: 40000 + (i & 1023),
      sequence: (i * 40503) >>> 0,
      acknowledgment: ((i * 2654435761) >>> 0) + 1,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      window: 65160,
      options: [
        { kind: 'mss', value: 1460 },
        { kind: 'sack-permitted' },
        { kind: 'timestamps', value: i, echo: 0 },
        { kind: 'nop' },
        { kind: 'window-scale', shift: 7 },
      ],
    },
    { source, destination: SOURCE },
  );
  return buildIpv4Packet({ protocol: IpProtocol.TCP, source, destination: SOURCE, ttl: 64, dontFragment: true }, segment);
});

function parseReplies(count: number): number {
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const ip = parseIpv4Packet(REPLIES[i & 1023]!);
    if (!ip.ok) throw new Error(ip.error.message);
    const tcp = parseTcpSegment(ip.value.payload);
    if (!tcp.ok) throw new Error(tcp.error.message);
    sink += tcp.value.acknowledgment + tcp.value.options.length + ip.value.header.source.length;
  }
  return sink;
}

const results = [
  measure('SYN probe, template fill (IPv4 + TCP, MSS option)', 2_000_000, synTemplate),
  measure('SYN probe, full builders (buildTcpSegment + buildIpv4Packet)', 500_000, synFullBuilders),
  measure('SYN-ACK reply parse (parseIpv4Packet + parseTcpSegment, 5 options)', 2_000_000, parseReplies),
];

console.log(`portscout wire benchmark, Node ${process.version}, one core, best of 5 rounds`);
for (const r of results) {
  const pps = r.packets / r.seconds;
  console.log(`${r.name.padEnd(72)} ${(pps / 1e6).toFixed(2).padStart(6)} M packets/s  (${r.packets} in ${(r.seconds * 1000).toFixed(1)} ms, ${((r.seconds / r.packets) * 1e9).toFixed(0)} ns each)`);
}
const template = results[0]!;
const parse = results[2]!;
const target = 2e6;
console.log(
  `targets (>= 2.00 M/s): template build ${template.packets / template.seconds >= target ? 'met' : 'NOT met'}, reply parse ${parse.packets / parse.seconds >= target ? 'met' : 'NOT met'}`,
);

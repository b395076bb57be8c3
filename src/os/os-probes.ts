/**
 * nmap's second-generation OS detection probes, as the Nmap book's chapter
 * "TCP/IP Fingerprinting Methods Supported by Nmap" documents them: six SYNs
 * to an open port (SEQ/OPS/WIN/T1), the ECN probe, T2-T7 to the open and
 * the closed port, two ICMP echo requests (IE) and a UDP datagram to a
 * closed port (U1). Each TCP probe has its own window, flags and options;
 * the builders here turn them into IPv4 packets (header included) for the
 * raw socket.
 *
 * @module
 */
import { IpProtocol, TcpFlags, buildIcmpv4Message, buildIpv4Packet, buildTcpSegment, buildUdpDatagram, readUint16, type TcpOption } from '../wire/index.js';

/** Which port of the target a TCP probe goes to. */
export type OsProbePort = 'open' | 'closed';

/**
 * One TCP probe of the set.
 *
 * @example
 * ```ts
 * OS_TCP_PROBES.find((p) => p.name === 'T5')?.window; // 31337
 * ```
 */
export interface OsTcpProbe {
  /** `SEQ1`-`SEQ6`, `ECN`, `T2`-`T7`. */
  readonly name: string;
  readonly port: OsProbePort;
  readonly window: number;
  /** TCP flags, including the reserved bit the ECN probe sets (0x800 in the 12-bit field). */
  readonly flags: number;
  readonly urgentPointer: number;
  readonly dontFragment: boolean;
  readonly options: readonly TcpOption[];
}

const TS: TcpOption = { kind: 'timestamps', value: 0xffffffff, echo: 0 };
const NOP: TcpOption = { kind: 'nop' };
const EOL: TcpOption = { kind: 'eol' };
const SACK: TcpOption = { kind: 'sack-permitted' };
const mss = (value: number): TcpOption => ({ kind: 'mss', value });
const ws = (shift: number): TcpOption => ({ kind: 'window-scale', shift });
const T_OPTIONS: readonly TcpOption[] = [ws(10), NOP, mss(265), TS, SACK];

/** The reserved bit just before CWR, which the ECN probe sets. */
const RESERVED_BIT = 0x800;

const syn = (name: string, window: number, options: readonly TcpOption[]): OsTcpProbe => ({
  name,
  port: 'open',
  window,
  flags: TcpFlags.SYN,
  urgentPointer: 0,
  dontFragment: false,
  options,
});

/**
 * The six SEQ probes (SYNs 100 ms apart; their replies also give OPS, WIN and T1).
 *
 * @example
 * ```ts
 * OS_SEQ_PROBES.length; // 6
 * ```
 */
export const OS_SEQ_PROBES: readonly OsTcpProbe[] = [
  syn('SEQ1', 1, [ws(10), NOP, mss(1460), TS, SACK]),
  syn('SEQ2', 63, [mss(1400), ws(0), SACK, TS, EOL]),
  syn('SEQ3', 4, [TS, NOP, NOP, ws(5), NOP, mss(640)]),
  syn('SEQ4', 4, [SACK, TS, ws(10), EOL]),
  syn('SEQ5', 16, [mss(536), SACK, TS, ws(10), EOL]),
  syn('SEQ6', 512, [mss(265), SACK, TS]),
];

/**
 * The ECN probe and T2-T7, in the order nmap sends them.
 *
 * @example
 * ```ts
 * OS_TCP_PROBES.map((p) => p.name); // ['ECN', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7']
 * ```
 */
export const OS_TCP_PROBES: readonly OsTcpProbe[] = [
  {
    name: 'ECN',
    port: 'open',
    window: 3,
    flags: RESERVED_BIT | TcpFlags.CWR | TcpFlags.ECE | TcpFlags.SYN,
    urgentPointer: 0xf7f5,
    dontFragment: false,
    options: [ws(10), NOP, mss(1460), SACK, NOP, NOP],
  },
  { name: 'T2', port: 'open', window: 128, flags: 0, urgentPointer: 0, dontFragment: true, options: T_OPTIONS },
  { name: 'T3', port: 'open', window: 256, flags: TcpFlags.SYN | TcpFlags.FIN | TcpFlags.URG | TcpFlags.PSH, urgentPointer: 0, dontFragment: false, options: T_OPTIONS },
  { name: 'T4', port: 'open', window: 1024, flags: TcpFlags.ACK, urgentPointer: 0, dontFragment: true, options: T_OPTIONS },
  { name: 'T5', port: 'closed', window: 31337, flags: TcpFlags.SYN, urgentPointer: 0, dontFragment: false, options: T_OPTIONS },
  { name: 'T6', port: 'closed', window: 32768, flags: TcpFlags.ACK, urgentPointer: 0, dontFragment: true, options: T_OPTIONS },
  { name: 'T7', port: 'closed', window: 65535, flags: TcpFlags.FIN | TcpFlags.PSH | TcpFlags.URG, urgentPointer: 0, dontFragment: false, options: [ws(15), NOP, mss(265), TS, SACK] },
];

/**
 * The two ICMP echo requests: IP TOS, DF, ICMP code, data length; the
 * second's identifier and sequence are the first's plus one.
 *
 * @example
 * ```ts
 * OS_ECHO_PROBES[0]!.code; // 9
 * ```
 */
export const OS_ECHO_PROBES: readonly { readonly tos: number; readonly dontFragment: boolean; readonly code: number; readonly dataLength: number }[] = [
  { tos: 0, dontFragment: true, code: 9, dataLength: 120 },
  { tos: 4, dontFragment: false, code: 0, dataLength: 150 },
];

/** The first IE probe's ICMP sequence number (the second's is one more). */
export const IE_SEQUENCE = 295;
/** U1's IP identification, which a well-behaved target quotes back (RID=G). */
export const U1_IP_ID = 0x1042;
/** U1's payload byte ('C'), repeated {@link U1_DATA_LENGTH} times. */
export const U1_PATTERN_BYTE = 0x43;
/** U1's payload length. */
export const U1_DATA_LENGTH = 300;
/** U1's IP total length (RIPL=G when quoted unchanged). */
export const U1_TOTAL_LENGTH = 20 + 8 + U1_DATA_LENGTH;

/** A TTL for a TCP or ICMP probe, as nmap picks it: 37-59. */
export function probeTtl(random: () => number = Math.random): number {
  return 37 + Math.floor(random() * 23);
}

/**
 * U1's TTL, as nmap picks it from the clock: 51-64. The distance is this
 * minus the TTL quoted in the port unreachable, plus one.
 */
export function udpProbeTtl(nowSeconds: number = Math.floor(Date.now() / 1000)): number {
  return (nowSeconds % 14) + 51;
}

/** Addresses and IP fields shared by the builders. */
export interface OsPacketAddressing {
  readonly source: string;
  readonly destination: string;
  readonly ttl: number;
  readonly identification: number;
}

/**
 * A TCP probe as an IPv4 packet.
 *
 * @example
 * ```ts
 * const packet = buildOsTcpProbe(OS_SEQ_PROBES[0]!, { source, destination, ttl: 50, identification: 1234 }, { sourcePort: 40000, destinationPort: 22, sequence: 1, acknowledgment: 2 });
 * ```
 */
export function buildOsTcpProbe(
  probe: OsTcpProbe,
  ip: OsPacketAddressing,
  tcp: { readonly sourcePort: number; readonly destinationPort: number; readonly sequence: number; readonly acknowledgment: number },
): Uint8Array {
  const segment = buildTcpSegment(
    { ...tcp, flags: probe.flags, window: probe.window, urgentPointer: probe.urgentPointer, options: probe.options },
    { source: ip.source, destination: ip.destination },
  );
  return buildIpv4Packet({ protocol: IpProtocol.TCP, source: ip.source, destination: ip.destination, ttl: ip.ttl, identification: ip.identification, dontFragment: probe.dontFragment }, segment);
}

/**
 * An IE probe as an IPv4 packet.
 *
 * @example
 * ```ts
 * buildOsEchoProbe(0, { source, destination, ttl: 50, identification: 77 }, 0x4242);
 * ```
 */
export function buildOsEchoProbe(index: 0 | 1, ip: OsPacketAddressing, identifier: number): Uint8Array {
  const spec = OS_ECHO_PROBES[index]!;
  const message = buildIcmpv4Message({ kind: 'echo-request', code: spec.code, identifier: identifier + index, sequence: IE_SEQUENCE + index, data: new Uint8Array(spec.dataLength) });
  return buildIpv4Packet(
    { protocol: IpProtocol.ICMP, source: ip.source, destination: ip.destination, ttl: ip.ttl, identification: ip.identification, dontFragment: spec.dontFragment, dscp: spec.tos >> 2, ecn: spec.tos & 3 },
    message,
  );
}

/**
 * The U1 probe as an IPv4 packet, and its UDP checksum (RUCK compares the
 * quoted one with it).
 *
 * @example
 * ```ts
 * const { packet, checksum } = buildOsUdpProbe({ source, destination, ttl: udpProbeTtl(), identification: U1_IP_ID }, 40020, 41234);
 * ```
 */
export function buildOsUdpProbe(ip: OsPacketAddressing, sourcePort: number, destinationPort: number): { packet: Uint8Array; checksum: number } {
  const datagram = buildUdpDatagram({ sourcePort, destinationPort, payload: new Uint8Array(U1_DATA_LENGTH).fill(U1_PATTERN_BYTE) }, { source: ip.source, destination: ip.destination });
  const packet = buildIpv4Packet({ protocol: IpProtocol.UDP, source: ip.source, destination: ip.destination, ttl: ip.ttl, identification: ip.identification }, datagram);
  return { packet, checksum: readUint16(datagram, 6) };
}

/**
 * Probe templates: the scanners' hot path. A template builds its packet once
 * with the full builders and precomputes the checksum sums of everything
 * that never changes; `fill` then patches only the per-probe fields
 * (destination address, ports, sequence number or echo identifier) and
 * finishes the checksums from the precomputed partial sums.
 *
 * `fill` returns a view of the template's internal buffer: send or copy it
 * before the next `fill` on the same template.
 *
 * @module
 */
import { writeUint16, writeUint32 } from './bytes.js';
import { foldChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { checkFieldRange } from './value-range.js';
import { IcmpField, buildIcmpv4Message } from './icmpv4.js';
import { buildIcmpv6Message } from './icmpv6.js';
import { addressBytes } from './ip-address.js';
import { IpProtocol } from './ip-protocol.js';
import { IPV4_HEADER_LENGTH, Ipv4Field, writeIpv4Header } from './ipv4.js';
import { IPV6_HEADER_LENGTH, Ipv6Field, writeIpv6Header } from './ipv6.js';
import { TcpField, buildTcpSegment } from './tcp.js';
import type { TcpOption } from './tcp-option.js';
import { UDP_HEADER_LENGTH, UdpField } from './udp.js';
import { WireError } from './wire-error.js';

/**
 * Options shared by all templates.
 *
 * @example
 * ```ts
 * const options: ProbeTemplateOptions = { family: 4, source: '198.18.0.1', ttl: 64 };
 * ```
 */
export interface ProbeTemplateOptions {
  /** Address family of the probes. */
  readonly family: 4 | 6;
  /** Source address (of `family`); it is part of every checksum. */
  readonly source: string | Uint8Array;
  /** IPv4 TTL / IPv6 hop limit of the IP header (when included). Default 64. */
  readonly ttl?: number;
  /**
   * Whether the packet starts with an IP header. Default: true for IPv4
   * (sent with IP_HDRINCL), false for IPv6 (the kernel adds the header).
   */
  readonly includeIpHeader?: boolean;
  /** IPv4 identification of every probe. Default 0 (Linux then picks one). */
  readonly identification?: number;
}

const EMPTY = new Uint8Array(0);

function zeroAddress(family: 4 | 6): Uint8Array {
  return new Uint8Array(family === 4 ? 4 : 16);
}

/** Where `fill` patches the destination address: in the IP header, or -1 without one (then it is only summed). */
function destinationOffset(family: 4 | 6, includeIp: boolean): number {
  if (!includeIp) return -1;
  return family === 4 ? Ipv4Field.DESTINATION.start : Ipv6Field.DESTINATION.start;
}

/** Copies `address` into `out` at `offset` and returns the sum of its 16-bit words. */
function patchAddress(out: Uint8Array, offset: number, address: Uint8Array, size: number): number {
  if (address.length !== size) {
    throw new WireError(
      'ERR_WIRE_ADDRESS_FAMILY',
      `probe destination address has ${address.length} bytes: allowed ${size} (IPv${size === 4 ? 4 : 6})`,
    );
  }
  let sum = 0;
  for (let i = 0; i < size; i += 2) {
    const hi = address[i]!;
    const lo = address[i + 1]!;
    out[offset + i] = hi;
    out[offset + i + 1] = lo;
    sum += (hi << 8) | lo;
  }
  return sum;
}

function checkPort(field: string, port: number): void {
  if ((port & 0xffff) !== port) checkFieldRange(field, port, 0xffff);
}

function checkUint32(field: string, value: number): void {
  if (value >>> 0 !== value) checkFieldRange(field, value, 0xffffffff);
}

function writeIpHeader(
  out: Uint8Array,
  options: ProbeTemplateOptions,
  source: Uint8Array,
  protocol: number,
  transportLength: number,
): void {
  if (options.family === 4) {
    writeIpv4Header(
      out,
      {
        protocol,
        source,
        destination: zeroAddress(4),
        ttl: options.ttl ?? 64,
        identification: options.identification ?? 0,
      },
      transportLength,
      { keepChecksum: true },
    );
  } else {
    writeIpv6Header(out, { nextHeader: protocol, source, destination: zeroAddress(6), hopLimit: options.ttl ?? 64 }, transportLength);
  }
}

/**
 * A TCP probe template made by {@link createTcpProbeTemplate}.
 *
 * @example
 * ```ts
 * const packet = template.fill(parseIpv4Address('127.0.0.1'), 40000, 80, 0x12345678);
 * socket.send(packet); // before the next fill
 * ```
 */
export interface TcpProbeTemplate {
  readonly family: 4 | 6;
  /** Bytes in every filled packet. */
  readonly length: number;
  /** Whether filled packets start with an IP header. */
  readonly includesIpHeader: boolean;
  /**
   * Patches destination (4 or 16 bytes), ports, sequence and acknowledgment
   * (default 0) and the checksums; returns the internal buffer.
   */
  fill(destination: Uint8Array, sourcePort: number, destinationPort: number, sequence: number, acknowledgment?: number): Uint8Array;
}

/**
 * Options of {@link createTcpProbeTemplate}.
 *
 * @example
 * ```ts
 * const options: TcpProbeTemplateOptions = { family: 6, source: 'fd00::1', flags: TcpFlags.SYN, options: [{ kind: 'mss', value: 1440 }] };
 * ```
 */
export interface TcpProbeTemplateOptions extends ProbeTemplateOptions {
  /** TCP flags of every probe (see `TcpFlags`). */
  readonly flags: number;
  /** TCP window. Default 1024. */
  readonly window?: number;
  /** TCP options of every probe. */
  readonly options?: readonly TcpOption[];
}

/**
 * Creates a TCP probe template: the IP header (IPv4 by default) and the TCP
 * header with fixed flags, window and options are built once; `fill`
 * patches the per-probe fields. Output is byte-identical to
 * `buildIpv4Packet` + `buildTcpSegment` with the same fields.
 *
 * @example
 * ```ts
 * const syn = createTcpProbeTemplate({ family: 4, source: '127.0.0.1', flags: TcpFlags.SYN, options: [{ kind: 'mss', value: 1460 }] });
 * const packet = syn.fill(parseIpv4Address('127.0.0.1'), 40000, 80, 1);
 * ```
 */
export function createTcpProbeTemplate(options: TcpProbeTemplateOptions): TcpProbeTemplate {
  const family = options.family;
  const addressSize = family === 4 ? 4 : 16;
  const source = addressBytes(options.source, family, `TCP probe source address`);
  const includeIp = options.includeIpHeader ?? family === 4;
  const segment = buildTcpSegment(
    { sourcePort: 0, destinationPort: 0, flags: options.flags, window: options.window ?? 1024, options: options.options ?? [] },
    undefined,
  );
  const ipLength = includeIp ? (family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) : 0;
  const buffer = new Uint8Array(ipLength + segment.length);
  if (includeIp) writeIpHeader(buffer, options, source, IpProtocol.TCP, segment.length);
  buffer.set(segment, ipLength);
  // With zero destination, ports, sequence, acknowledgment and checksum the sums cover only fixed fields.
  const ipBase = family === 4 && includeIp ? onesComplementSum(buffer, 0, IPV4_HEADER_LENGTH) : 0;
  const tcpBase = onesComplementSum(segment, 0, segment.length, pseudoHeaderSum(source, zeroAddress(family), IpProtocol.TCP, segment.length));
  const destinationAt = destinationOffset(family, includeIp);
  const scratch = new Uint8Array(16);
  const t = ipLength;
  return {
    family,
    length: buffer.length,
    includesIpHeader: includeIp,
    fill(destination, sourcePort, destinationPort, sequence, acknowledgment = 0) {
      checkPort('TCP source port', sourcePort);
      checkPort('TCP destination port', destinationPort);
      checkUint32('TCP sequence number', sequence);
      checkUint32('TCP acknowledgment number', acknowledgment);
      const addressSum = patchAddress(destinationAt >= 0 ? buffer : scratch, destinationAt >= 0 ? destinationAt : 0, destination, addressSize);
      if (family === 4 && includeIp) writeUint16(buffer, Ipv4Field.CHECKSUM.start, ~foldChecksum(ipBase + addressSum) & 0xffff);
      writeUint16(buffer, t + TcpField.SOURCE_PORT.start, sourcePort);
      writeUint16(buffer, t + TcpField.DESTINATION_PORT.start, destinationPort);
      writeUint32(buffer, t + TcpField.SEQUENCE.start, sequence);
      writeUint32(buffer, t + TcpField.ACKNOWLEDGMENT.start, acknowledgment);
      const sum =
        tcpBase + addressSum + sourcePort + destinationPort + (sequence >>> 16) + (sequence & 0xffff) + (acknowledgment >>> 16) + (acknowledgment & 0xffff);
      writeUint16(buffer, t + TcpField.CHECKSUM.start, ~foldChecksum(sum) & 0xffff);
      return buffer;
    },
  };
}

/**
 * A UDP probe template made by {@link createUdpProbeTemplate}.
 *
 * @example
 * ```ts
 * const packet = template.fill(parseIpv4Address('127.0.0.1'), 40000, 53, dnsQuery);
 * ```
 */
export interface UdpProbeTemplate {
  readonly family: 4 | 6;
  /** Bytes before the payload (IP header, if included, and UDP header). */
  readonly headerLength: number;
  readonly includesIpHeader: boolean;
  /** Patches destination, ports, payload, lengths and checksums; returns a view of the internal buffer. */
  fill(destination: Uint8Array, sourcePort: number, destinationPort: number, payload: Uint8Array): Uint8Array;
}

/**
 * Creates a UDP probe template. The payload varies per probe, so its sum is
 * computed on each `fill`; the headers' fixed parts are summed once. Output
 * is byte-identical to the full builders.
 *
 * @example
 * ```ts
 * const udp = createUdpProbeTemplate({ family: 4, source: '127.0.0.1' });
 * const packet = udp.fill(parseIpv4Address('127.0.0.1'), 40000, 53, new Uint8Array(0));
 * ```
 */
export function createUdpProbeTemplate(options: ProbeTemplateOptions): UdpProbeTemplate {
  const family = options.family;
  const addressSize = family === 4 ? 4 : 16;
  const source = addressBytes(options.source, family, 'UDP probe source address');
  const includeIp = options.includeIpHeader ?? family === 4;
  const ipLength = includeIp ? (family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) : 0;
  const headerLength = ipLength + UDP_HEADER_LENGTH;
  const header = new Uint8Array(headerLength);
  // Lengths are written as 0 here and added per fill.
  if (includeIp) writeIpHeader(header, options, source, IpProtocol.UDP, 0);
  if (includeIp && family === 4) writeUint16(header, Ipv4Field.TOTAL_LENGTH.start, 0);
  if (includeIp && family === 6) writeUint16(header, Ipv6Field.PAYLOAD_LENGTH.start, 0);
  const ipBase = family === 4 && includeIp ? onesComplementSum(header, 0, IPV4_HEADER_LENGTH) : 0;
  const udpBase = pseudoHeaderSum(source, zeroAddress(family), IpProtocol.UDP, 0);
  const destinationAt = destinationOffset(family, includeIp);
  const scratch = new Uint8Array(16);
  let buffer = new Uint8Array(headerLength + 512);
  buffer.set(header);
  const u = ipLength;
  return {
    family,
    headerLength,
    includesIpHeader: includeIp,
    fill(destination, sourcePort, destinationPort, payload = EMPTY) {
      checkPort('UDP source port', sourcePort);
      checkPort('UDP destination port', destinationPort);
      const udpLength = UDP_HEADER_LENGTH + payload.length;
      if (ipLength + udpLength > 0xffff) checkFieldRange('UDP probe packet length', ipLength + udpLength, 0xffff);
      if (buffer.length < headerLength + payload.length) {
        const bigger = new Uint8Array(headerLength + payload.length);
        bigger.set(buffer.subarray(0, headerLength));
        buffer = bigger;
      }
      const addressSum = patchAddress(destinationAt >= 0 ? buffer : scratch, destinationAt >= 0 ? destinationAt : 0, destination, addressSize);
      if (includeIp && family === 4) {
        const totalLength = ipLength + udpLength;
        writeUint16(buffer, Ipv4Field.TOTAL_LENGTH.start, totalLength);
        writeUint16(buffer, Ipv4Field.CHECKSUM.start, ~foldChecksum(ipBase + addressSum + totalLength) & 0xffff);
      } else if (includeIp) {
        writeUint16(buffer, Ipv6Field.PAYLOAD_LENGTH.start, udpLength);
      }
      writeUint16(buffer, u + UdpField.SOURCE_PORT.start, sourcePort);
      writeUint16(buffer, u + UdpField.DESTINATION_PORT.start, destinationPort);
      writeUint16(buffer, u + UdpField.LENGTH.start, udpLength);
      buffer.set(payload, headerLength);
      // The UDP length appears twice: in the pseudo-header and in the header.
      const sum = onesComplementSum(payload, 0, payload.length, udpBase + addressSum + sourcePort + destinationPort + udpLength + udpLength);
      const checksum = ~sum & 0xffff;
      writeUint16(buffer, u + UdpField.CHECKSUM.start, checksum === 0 ? 0xffff : checksum);
      return buffer.subarray(0, headerLength + payload.length);
    },
  };
}

/**
 * An ICMP / ICMPv6 echo-request template made by {@link createIcmpEchoTemplate}.
 *
 * @example
 * ```ts
 * const packet = template.fill(parseIpv4Address('127.0.0.1'), 0x1234, 1);
 * ```
 */
export interface IcmpEchoTemplate {
  readonly family: 4 | 6;
  readonly length: number;
  readonly includesIpHeader: boolean;
  /** Patches destination, identifier, sequence and checksums; returns the internal buffer. */
  fill(destination: Uint8Array, identifier: number, sequence: number): Uint8Array;
}

/**
 * Options of {@link createIcmpEchoTemplate}.
 *
 * @example
 * ```ts
 * const options: IcmpEchoTemplateOptions = { family: 4, source: '198.18.0.1', data: new Uint8Array(56) };
 * ```
 */
export interface IcmpEchoTemplateOptions extends ProbeTemplateOptions {
  /** Echo data carried by every request. Default: none. */
  readonly data?: Uint8Array;
}

/**
 * Creates an echo-request template: ICMP type 8 for IPv4, ICMPv6 type 128
 * (checksum over the IPv6 pseudo-header) for IPv6. Output is byte-identical
 * to the full builders.
 *
 * @example
 * ```ts
 * const ping = createIcmpEchoTemplate({ family: 6, source: '::1' });
 * const packet = ping.fill(parseIpv6Address('::1'), 7, 1);
 * ```
 */
export function createIcmpEchoTemplate(options: IcmpEchoTemplateOptions): IcmpEchoTemplate {
  const family = options.family;
  const addressSize = family === 4 ? 4 : 16;
  const source = addressBytes(options.source, family, 'ICMP echo source address');
  const includeIp = options.includeIpHeader ?? family === 4;
  const init = { kind: 'echo-request', identifier: 0, sequence: 0, data: options.data ?? EMPTY } as const;
  const message = family === 4 ? buildIcmpv4Message(init, { keepChecksum: true }) : buildIcmpv6Message(init, undefined);
  const protocol = family === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6;
  const ipLength = includeIp ? (family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) : 0;
  const buffer = new Uint8Array(ipLength + message.length);
  if (includeIp) writeIpHeader(buffer, options, source, protocol, message.length);
  buffer.set(message, ipLength);
  const ipBase = family === 4 && includeIp ? onesComplementSum(buffer, 0, IPV4_HEADER_LENGTH) : 0;
  const icmpBase = onesComplementSum(
    message,
    0,
    message.length,
    family === 6 ? pseudoHeaderSum(source, zeroAddress(6), IpProtocol.ICMPV6, message.length) : 0,
  );
  const destinationAt = destinationOffset(family, includeIp);
  const scratch = new Uint8Array(16);
  const m = ipLength;
  return {
    family,
    length: buffer.length,
    includesIpHeader: includeIp,
    fill(destination, identifier, sequence) {
      checkPort('ICMP echo identifier', identifier);
      checkPort('ICMP echo sequence', sequence);
      const addressSum = patchAddress(destinationAt >= 0 ? buffer : scratch, destinationAt >= 0 ? destinationAt : 0, destination, addressSize);
      if (family === 4 && includeIp) writeUint16(buffer, Ipv4Field.CHECKSUM.start, ~foldChecksum(ipBase + addressSum) & 0xffff);
      writeUint16(buffer, m + IcmpField.IDENTIFIER.start, identifier);
      writeUint16(buffer, m + IcmpField.SEQUENCE.start, sequence);
      const sum = icmpBase + identifier + sequence + (family === 6 ? addressSum : 0);
      writeUint16(buffer, m + IcmpField.CHECKSUM.start, ~foldChecksum(sum) & 0xffff);
      return buffer;
    },
  };
}

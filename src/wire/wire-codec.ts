/**
 * Every packet format as one uniform codec object (dns-packet style):
 * `encodingLength`, `build`, `parse`, and `toValue` to turn a parse result
 * back into builder input. Tests use one round-trip helper for all of them;
 * applications can use the named functions instead.
 *
 * @module
 */
import type { BuildTarget } from './build-options.js';
import { buildIcmpv4Message, icmpv4MessageLength, parseIcmpv4Message, type Icmpv4Message, type Icmpv4MessageInit } from './icmpv4.js';
import { buildIcmpv6Message, icmpv6MessageLength, parseIcmpv6Message, type Icmpv6Message, type Icmpv6MessageInit } from './icmpv6.js';
import { buildIpv4Packet, ipv4PacketLength, parseIpv4Packet, type Ipv4HeaderInit, type Ipv4Packet } from './ipv4.js';
import { buildIpv6Packet, ipv6PacketLength, parseIpv6Packet, type Ipv6HeaderInit, type Ipv6Packet } from './ipv6.js';
import type { PseudoHeaderAddresses } from './pseudo-header.js';
import { buildTcpSegment, parseTcpSegment, tcpSegmentLength, type TcpSegment, type TcpSegmentInit } from './tcp.js';
import { buildUdpDatagram, parseUdpDatagram, udpDatagramLength, type UdpDatagram, type UdpDatagramInit } from './udp.js';
import type { WireLayer, WireResult } from './wire-error.js';

/**
 * A packet format: `build(value)` writes `encodingLength(value)` bytes,
 * `parse` reads them back, `toValue(parse(build(v)))` rebuilds the same bytes.
 *
 * @example
 * ```ts
 * function roundTrip<V, P>(codec: WireCodec<V, P>, value: V): boolean {
 *   const bytes = codec.build(value);
 *   const parsed = codec.parse(bytes);
 *   return parsed.ok && equalBytes(codec.build(codec.toValue(parsed.value)), bytes);
 * }
 * ```
 */
export interface WireCodec<TValue, TParsed> {
  readonly layer: WireLayer;
  encodingLength(value: TValue): number;
  build(value: TValue, target?: BuildTarget): Uint8Array;
  parse(bytes: Uint8Array): WireResult<TParsed>;
  toValue(parsed: TParsed): TValue;
}

/**
 * Builder input of {@link ipv4PacketCodec}.
 *
 * @example
 * ```ts
 * const value: Ipv4PacketValue = { header: { protocol: 17, source: '198.18.0.1', destination: '198.18.0.2' }, payload: udpBytes };
 * ```
 */
export interface Ipv4PacketValue {
  readonly header: Ipv4HeaderInit;
  readonly payload: Uint8Array;
}

/**
 * IPv4 packets as a {@link WireCodec}.
 *
 * @example
 * ```ts
 * const bytes = ipv4PacketCodec.build({ header: { protocol: 1, source: '127.0.0.1', destination: '127.0.0.1' }, payload });
 * ```
 */
export const ipv4PacketCodec: WireCodec<Ipv4PacketValue, Ipv4Packet> = {
  layer: 'ipv4',
  encodingLength: (value) => ipv4PacketLength(value.header, value.payload),
  build: (value, target) => buildIpv4Packet(value.header, value.payload, target),
  parse: parseIpv4Packet,
  toValue: (parsed) => ({ header: parsed.header, payload: parsed.payload }),
};

/**
 * Builder input of {@link ipv6PacketCodec}; `payload` includes any extension headers.
 *
 * @example
 * ```ts
 * const value: Ipv6PacketValue = { header: { nextHeader: 58, source: '::1', destination: '::1' }, payload: icmpv6Bytes };
 * ```
 */
export interface Ipv6PacketValue {
  readonly header: Ipv6HeaderInit;
  readonly payload: Uint8Array;
}

/**
 * IPv6 packets as a {@link WireCodec}.
 *
 * @example
 * ```ts
 * const parsed = ipv6PacketCodec.parse(bytes);
 * ```
 */
export const ipv6PacketCodec: WireCodec<Ipv6PacketValue, Ipv6Packet> = {
  layer: 'ipv6',
  encodingLength: (value) => ipv6PacketLength(value.payload),
  build: (value, target) => buildIpv6Packet(value.header, value.payload, target),
  parse: parseIpv6Packet,
  toValue: (parsed) => ({ header: parsed.header, payload: parsed.ipPayload }),
};

/**
 * Builder input of {@link tcpSegmentCodec}: with `pseudo` the checksum is computed.
 *
 * @example
 * ```ts
 * const value: TcpSegmentValue = { segment: { sourcePort: 1, destinationPort: 2 }, pseudo: { source: '::1', destination: '::1' } };
 * ```
 */
export interface TcpSegmentValue {
  readonly segment: TcpSegmentInit;
  readonly pseudo?: PseudoHeaderAddresses;
}

/**
 * TCP segments as a {@link WireCodec}. `toValue` keeps the parsed checksum.
 *
 * @example
 * ```ts
 * tcpSegmentCodec.encodingLength({ segment: { sourcePort: 1, destinationPort: 2 } }); // 20
 * ```
 */
export const tcpSegmentCodec: WireCodec<TcpSegmentValue, TcpSegment> = {
  layer: 'tcp',
  encodingLength: (value) => tcpSegmentLength(value.segment),
  build: (value, target) => buildTcpSegment(value.segment, value.pseudo, target),
  parse: parseTcpSegment,
  toValue: (parsed) => ({ segment: parsed }),
};

/**
 * Builder input of {@link udpDatagramCodec}.
 *
 * @example
 * ```ts
 * const value: UdpDatagramValue = { datagram: { sourcePort: 1, destinationPort: 53 }, pseudo: { source: '127.0.0.1', destination: '127.0.0.1' } };
 * ```
 */
export interface UdpDatagramValue {
  readonly datagram: UdpDatagramInit;
  readonly pseudo?: PseudoHeaderAddresses;
}

/**
 * UDP datagrams as a {@link WireCodec}. `toValue` keeps the parsed checksum.
 *
 * @example
 * ```ts
 * const bytes = udpDatagramCodec.build({ datagram: { sourcePort: 1, destinationPort: 53 } });
 * ```
 */
export const udpDatagramCodec: WireCodec<UdpDatagramValue, UdpDatagram> = {
  layer: 'udp',
  encodingLength: (value) => udpDatagramLength(value.datagram),
  build: (value, target) => buildUdpDatagram(value.datagram, value.pseudo, target),
  parse: parseUdpDatagram,
  toValue: (parsed) => ({ datagram: parsed }),
};

/**
 * ICMPv4 messages as a {@link WireCodec} (the value is the message init).
 *
 * @example
 * ```ts
 * const bytes = icmpv4MessageCodec.build({ kind: 'echo-request', identifier: 1, sequence: 1 });
 * ```
 */
export const icmpv4MessageCodec: WireCodec<Icmpv4MessageInit, Icmpv4Message> = {
  layer: 'icmpv4',
  encodingLength: icmpv4MessageLength,
  build: (value, target) => buildIcmpv4Message(value, target),
  parse: parseIcmpv4Message,
  toValue: (parsed) => parsed,
};

/**
 * Builder input of {@link icmpv6MessageCodec}: with `pseudo` the checksum is computed.
 *
 * @example
 * ```ts
 * const value: Icmpv6MessageValue = { message: { kind: 'echo-request', identifier: 1, sequence: 1 }, pseudo: { source: '::1', destination: '::1' } };
 * ```
 */
export interface Icmpv6MessageValue {
  readonly message: Icmpv6MessageInit;
  readonly pseudo?: PseudoHeaderAddresses;
}

/**
 * ICMPv6 messages as a {@link WireCodec}. `toValue` keeps the parsed checksum.
 *
 * @example
 * ```ts
 * const parsed = icmpv6MessageCodec.parse(bytes);
 * ```
 */
export const icmpv6MessageCodec: WireCodec<Icmpv6MessageValue, Icmpv6Message> = {
  layer: 'icmpv6',
  encodingLength: (value) => icmpv6MessageLength(value.message),
  build: (value, target) => buildIcmpv6Message(value.message, value.pseudo, target),
  parse: (bytes) => parseIcmpv6Message(bytes),
  toValue: (parsed) => ({ message: parsed }),
};

/**
 * The pure packet layer: builders and dissectors for IPv4, IPv6, ICMP, ICMPv6,
 * TCP and UDP, and the Internet checksum. No I/O, no timers.
 *
 * ## Contract
 *
 * - **Bytes.** Every buffer is a `Uint8Array`; multi-byte fields are
 *   big-endian. No `Buffer`, no `DataView` per packet, no Node module: this
 *   entry point runs in any JavaScript runtime.
 * - **Parsers** (`parse*`) take bytes straight from the network. They never
 *   throw and never read past the end of the array they are given. They
 *   return a {@link WireResult}: `{ ok: true, value }` or `{ ok: false, error }`
 *   where the {@link WireParseError} names the `layer`, a `code`
 *   (`TRUNCATED`, `BAD_LENGTH`, `BAD_VERSION`, `BAD_HEADER_LENGTH`,
 *   `BAD_OPTION`) and what was `required` and what was `actual`.
 *   Byte arrays in parse results are views of the input (no copy): copy
 *   them if the input buffer is reused.
 * - **Parsed objects** are plain readonly data; addresses are canonical text
 *   (`'198.18.0.1'`, `'fd00::1'`, RFC 5952). A parsed object can be passed
 *   back to the matching builder.
 * - **Builders** (`build*`) compute lengths and checksums unless told to keep
 *   the given values (`keepLength`, `keepChecksum`), so tests can craft broken
 *   packets. They can write into a caller's buffer (`target`, `offset`).
 *   They throw only for programmer errors: a {@link WireError} with a stable
 *   `code` (`ERR_WIRE_FIELD_RANGE`, `ERR_WIRE_ADDRESS_FAMILY`,
 *   `ERR_WIRE_ADDRESS_SYNTAX`, `ERR_WIRE_BUFFER_TOO_SMALL`) whose message names
 *   the field and the allowed range, e.g.
 *   `TCP destination port 70000 is out of range: allowed 0-65535`.
 * - **Checksums**: {@link onesComplementSum} returns folded, uncomplemented
 *   partial sums that add up; {@link internetChecksum} the final value;
 *   {@link updateChecksum} the RFC 1624 incremental update.
 * - **Templates** (`create*Template`) are the scanners' hot path: the packet
 *   is built once, `fill` patches only the per-probe fields and finishes the
 *   checksums from precomputed partial sums. `fill` returns the template's
 *   internal buffer: send or copy it before the next `fill`.
 * - **Codecs**: each format is also a {@link WireCodec} (`encodingLength`,
 *   `build`, `parse`, `toValue`) for uniform round-trip testing.
 *
 * @example
 * ```ts
 * import { buildTcpSegment, parseIpv4Packet, parseTcpSegment, TcpFlags } from 'portscout/wire';
 * const syn = buildTcpSegment({ sourcePort: 40000, destinationPort: 80, flags: TcpFlags.SYN }, { source: '127.0.0.1', destination: '127.0.0.1' });
 * const ip = parseIpv4Packet(received);
 * if (ip.ok) console.log(parseTcpSegment(ip.value.payload));
 * ```
 *
 * @module portscout/wire
 */
export { WireError, wireFail, wireOk } from './wire-error.js';
export type { WireErrorCode, WireLayer, WireParseError, WireParseErrorCode, WireResult } from './wire-error.js';
export { fromHex, readUint16, readUint32, toHex } from './bytes.js';
export { byteField } from './byte-field.js';
export type { ByteField } from './byte-field.js';
export { addressBytes, formatIpv4Address, formatIpv6Address, ipAddressFamily, parseIpv4Address, parseIpv6Address } from './ip-address.js';
export {
  foldChecksum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  onesComplementSum,
  pseudoHeaderSum,
  updateChecksum,
} from './checksum.js';
export { IpProtocol } from './ip-protocol.js';
export type { IpProtocolNumber } from './ip-protocol.js';
export type { BuildOptions, BuildTarget } from './build-options.js';
export type { PseudoHeaderAddresses } from './pseudo-header.js';
export { IPV4_HEADER_LENGTH, Ipv4Field, buildIpv4Packet, ipv4HeaderChecksumValid, ipv4PacketLength, parseIpv4Packet, readIpv4Envelope } from './ipv4.js';
export type { Ipv4Envelope, Ipv4Header, Ipv4HeaderInit, Ipv4Packet } from './ipv4.js';
export { IPV6_HEADER_LENGTH, Ipv6Field, buildIpv6Packet, ipv6PacketLength, parseIpv6Packet } from './ipv6.js';
export type { Ipv6ExtensionHeader, Ipv6Fragment, Ipv6Header, Ipv6HeaderInit, Ipv6Packet } from './ipv6.js';
export { TCP_MAX_OPTIONS_LENGTH, TcpOptionKind, parseTcpOptions, tcpOptionString, tcpOptionsLength } from './tcp-option.js';
export type { TcpOption, TcpSackBlock } from './tcp-option.js';
export { TCP_HEADER_LENGTH, TcpField, TcpFlags, buildTcpSegment, parseTcpSegment, tcpFlagsToString, tcpSegmentLength, verifyTcpChecksum } from './tcp.js';
export type { TcpSegment, TcpSegmentInit } from './tcp.js';
export { UDP_HEADER_LENGTH, UdpField, buildUdpDatagram, parseUdpDatagram, udpDatagramLength, verifyUdpChecksum } from './udp.js';
export type { UdpDatagram, UdpDatagramInit } from './udp.js';
export {
  IcmpType,
  Icmpv6Type,
  icmpv4UnreachableCodeName,
  icmpv6UnreachableCodeName,
  timeExceededCodeName,
} from './icmp-names.js';
export { ICMP_HEADER_LENGTH, IcmpField, buildIcmpv4Message, icmpv4MessageLength, parseIcmpv4Message } from './icmpv4.js';
export type { Icmpv4Common, Icmpv4Message, Icmpv4MessageInit } from './icmpv4.js';
export { buildIcmpv6Message, icmpv6MessageLength, parseIcmpv6Message, verifyIcmpv6Checksum } from './icmpv6.js';
export type { Icmpv6Common, Icmpv6Message, Icmpv6MessageInit } from './icmpv6.js';
export { parseQuotedDatagram } from './quoted-datagram.js';
export type { QuotedDatagram } from './quoted-datagram.js';
export { createIcmpEchoTemplate, createTcpProbeTemplate, createUdpProbeTemplate } from './probe-template.js';
export type {
  IcmpEchoTemplate,
  IcmpEchoTemplateOptions,
  ProbeTemplateOptions,
  TcpProbeTemplate,
  TcpProbeTemplateOptions,
  UdpProbeTemplate,
} from './probe-template.js';
export {
  icmpv4MessageCodec,
  icmpv6MessageCodec,
  ipv4PacketCodec,
  ipv6PacketCodec,
  tcpSegmentCodec,
  udpDatagramCodec,
} from './wire-codec.js';
export type { Icmpv6MessageValue, Ipv4PacketValue, Ipv6PacketValue, TcpSegmentValue, UdpDatagramValue, WireCodec } from './wire-codec.js';

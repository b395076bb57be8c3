/**
 * IPv6 header (RFC 8200): parse (skipping extension headers to find the
 * upper-layer protocol) and build.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { byteField } from './byte-field.js';
import { readUint16, readUint32, writeUint16 } from './bytes.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { addressBytes, formatIpv6Address } from './ip-address.js';
import { IpProtocol } from './ip-protocol.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * Length of the fixed IPv6 header.
 *
 * @example
 * ```ts
 * const upper = packet.subarray(IPV6_HEADER_LENGTH); // when there are no extension headers
 * ```
 */
export const IPV6_HEADER_LENGTH = 40;

/**
 * The fixed IPv6 header's fields as byte ranges (RFC 8200 section 3).
 * `VERSION_CLASS_FLOW` is the 32-bit word of version (4 bits), traffic class
 * (8 bits) and flow label (20 bits). Extension headers or the upper-layer
 * header start at `DESTINATION.end`.
 *
 * @example
 * ```ts
 * packet[Ipv6Field.HOP_LIMIT.start]; // the hop limit
 * packet.subarray(Ipv6Field.SOURCE.start, Ipv6Field.SOURCE.end); // the 16 source address bytes
 * ```
 */
export const Ipv6Field = Object.freeze({
  VERSION_CLASS_FLOW: byteField(0, 4),
  PAYLOAD_LENGTH: byteField(4, 6),
  NEXT_HEADER: byteField(6, 7),
  HOP_LIMIT: byteField(7, 8),
  SOURCE: byteField(8, 24),
  DESTINATION: byteField(24, 40),
});

/**
 * A parsed fixed IPv6 header. Addresses are RFC 5952 text.
 *
 * @example
 * ```ts
 * const r = parseIpv6Packet(bytes);
 * if (r.ok) console.log(r.value.header.hopLimit, r.value.header.source);
 * ```
 */
export interface Ipv6Header {
  readonly version: 6;
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly payloadLength: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: string;
  readonly destination: string;
}

/**
 * What {@link buildIpv6Packet} needs. `hopLimit` defaults to 64, traffic class
 * and flow label to 0; `payloadLength` is only used with `keepLength`;
 * `version` (default 6) lets tests craft bad versions. A parsed header is a valid init.
 *
 * @example
 * ```ts
 * const init: Ipv6HeaderInit = { nextHeader: IpProtocol.TCP, source: 'fd00::1', destination: 'fd00::2' };
 * ```
 */
export interface Ipv6HeaderInit {
  readonly version?: number;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  readonly payloadLength?: number;
  readonly nextHeader: number;
  readonly hopLimit?: number;
  readonly source: string | Uint8Array;
  readonly destination: string | Uint8Array;
}

/**
 * One extension header skipped by {@link parseIpv6Packet}: its type (the
 * next-header value that announced it) and its length in bytes.
 *
 * @example
 * ```ts
 * for (const ext of packet.extensionHeaders) console.log(ext.type, ext.length);
 * ```
 */
export interface Ipv6ExtensionHeader {
  readonly type: number;
  readonly length: number;
}

/**
 * The fragment header of a fragmented packet. When `offset` is not 0 the
 * payload is a later fragment and does not start with the upper-layer header.
 *
 * @example
 * ```ts
 * if (packet.fragment && packet.fragment.offset !== 0) return; // not the first fragment
 * ```
 */
export interface Ipv6Fragment {
  readonly offset: number;
  readonly moreFragments: boolean;
  readonly identification: number;
}

/**
 * A parsed IPv6 packet. `protocol` is the upper-layer protocol found after
 * the extension headers and `payload` its bytes; `ipPayload` is everything
 * after the fixed header (extension headers included), limited by
 * `payloadLength`. Views of the input.
 *
 * @example
 * ```ts
 * const r = parseIpv6Packet(bytes);
 * if (r.ok && r.value.protocol === IpProtocol.ICMPV6) parseIcmpv6Message(r.value.payload);
 * ```
 */
export interface Ipv6Packet {
  readonly header: Ipv6Header;
  readonly protocol: number;
  readonly payload: Uint8Array;
  readonly ipPayload: Uint8Array;
  readonly extensionHeaders: readonly Ipv6ExtensionHeader[];
  readonly fragment?: Ipv6Fragment;
}

/**
 * Parses an IPv6 packet and walks the hop-by-hop, routing, fragment,
 * destination-options and authentication extension headers. Never throws:
 * short buffers give `TRUNCATED`, version other than 6 `BAD_VERSION`, an
 * extension header running past the payload `TRUNCATED`.
 *
 * @example
 * ```ts
 * const r = parseIpv6Packet(bytes);
 * if (r.ok) console.log(r.value.protocol, r.value.payload.length);
 * ```
 */
export function parseIpv6Packet(bytes: Uint8Array): WireResult<Ipv6Packet> {
  const length = bytes.length;
  if (length < IPV6_HEADER_LENGTH) {
    return wireFail('ipv6', 'TRUNCATED', `IPv6 header needs ${IPV6_HEADER_LENGTH} bytes, got ${length}`, IPV6_HEADER_LENGTH, length);
  }
  const word0 = readUint32(bytes, Ipv6Field.VERSION_CLASS_FLOW.start);
  const version = word0 >>> 28;
  if (version !== 6) return wireFail('ipv6', 'BAD_VERSION', `IPv6 version field is ${version}, expected 6`, 6, version);
  const payloadLength = readUint16(bytes, Ipv6Field.PAYLOAD_LENGTH.start);
  const end = IPV6_HEADER_LENGTH + payloadLength;
  if (end > length) {
    return wireFail('ipv6', 'TRUNCATED', `IPv6 packet is ${end} bytes by its payload length but only ${length} bytes are present`, end, length);
  }
  const header: Ipv6Header = {
    version: 6,
    trafficClass: (word0 >>> 20) & 0xff,
    flowLabel: word0 & 0xfffff,
    payloadLength,
    nextHeader: bytes[Ipv6Field.NEXT_HEADER.start]!,
    hopLimit: bytes[Ipv6Field.HOP_LIMIT.start]!,
    source: formatIpv6Address(bytes, Ipv6Field.SOURCE.start),
    destination: formatIpv6Address(bytes, Ipv6Field.DESTINATION.start),
  };
  const extensionHeaders: Ipv6ExtensionHeader[] = [];
  let fragment: Ipv6Fragment | undefined;
  let protocol = header.nextHeader;
  let offset = IPV6_HEADER_LENGTH;
  for (;;) {
    let extLength: number;
    if (protocol === IpProtocol.HOPOPT || protocol === IpProtocol.IPV6_ROUTE || protocol === IpProtocol.IPV6_OPTS) {
      if (offset + 2 > end) return truncatedExtension(protocol, offset + 2, end);
      extLength = (bytes[offset + 1]! + 1) * 8;
    } else if (protocol === IpProtocol.IPV6_FRAG) {
      extLength = 8;
      if (offset + 8 > end) return truncatedExtension(protocol, offset + 8, end);
      const offsetFlags = readUint16(bytes, offset + 2);
      fragment = { offset: offsetFlags >>> 3, moreFragments: (offsetFlags & 1) !== 0, identification: readUint32(bytes, offset + 4) };
    } else if (protocol === IpProtocol.AH) {
      if (offset + 2 > end) return truncatedExtension(protocol, offset + 2, end);
      extLength = (bytes[offset + 1]! + 2) * 4;
    } else {
      break;
    }
    if (offset + extLength > end) return truncatedExtension(protocol, offset + extLength, end);
    extensionHeaders.push({ type: protocol, length: extLength });
    protocol = bytes[offset]!;
    offset += extLength;
  }
  const packet: Ipv6Packet = {
    header,
    protocol,
    payload: bytes.subarray(offset, end),
    ipPayload: bytes.subarray(IPV6_HEADER_LENGTH, end),
    extensionHeaders,
    ...(fragment ? { fragment } : {}),
  };
  return { ok: true, value: packet };
}

function truncatedExtension(type: number, required: number, actual: number): WireResult<never> {
  return wireFail('ipv6', 'TRUNCATED', `IPv6 extension header ${type} needs ${required} bytes of the packet, which has ${actual}`, required, actual);
}

/**
 * The number of bytes {@link buildIpv6Packet} writes.
 *
 * @example
 * ```ts
 * ipv6PacketLength(new Uint8Array(20)); // 60
 * ```
 */
export function ipv6PacketLength(payload: Uint8Array): number {
  return IPV6_HEADER_LENGTH + payload.length;
}

/**
 * Writes the fixed IPv6 header of `init` into `out` (for a payload of
 * `payloadLength` bytes). Used by the builder and by the probe templates.
 *
 * @example
 * ```ts
 * writeIpv6Header(new Uint8Array(40), { nextHeader: 58, source: '::1', destination: '::1' }, 8);
 * ```
 */
export function writeIpv6Header(out: Uint8Array, init: Ipv6HeaderInit, payloadLength: number, options?: BuildOptions): void {
  const source = addressBytes(init.source, 6, 'IPv6 source address');
  const destination = addressBytes(init.destination, 6, 'IPv6 destination address');
  const version = optionalField('IPv6 version', init.version, 15, 6);
  const trafficClass = optionalField('IPv6 traffic class', init.trafficClass, 0xff, 0);
  const flowLabel = optionalField('IPv6 flow label', init.flowLabel, 0xfffff, 0);
  const length =
    options?.keepLength && init.payloadLength !== undefined
      ? checkFieldRange('IPv6 payload length', init.payloadLength, 0xffff)
      : checkFieldRange('IPv6 payload length', payloadLength, 0xffff);
  out[Ipv6Field.VERSION_CLASS_FLOW.start] = (version << 4) | (trafficClass >>> 4);
  out[Ipv6Field.VERSION_CLASS_FLOW.start + 1] = ((trafficClass & 0x0f) << 4) | (flowLabel >>> 16);
  writeUint16(out, Ipv6Field.VERSION_CLASS_FLOW.start + 2, flowLabel & 0xffff);
  writeUint16(out, Ipv6Field.PAYLOAD_LENGTH.start, length);
  out[Ipv6Field.NEXT_HEADER.start] = checkFieldRange('IPv6 next header', init.nextHeader, 255);
  out[Ipv6Field.HOP_LIMIT.start] = optionalField('IPv6 hop limit', init.hopLimit, 255, 64);
  out.set(source, Ipv6Field.SOURCE.start);
  out.set(destination, Ipv6Field.DESTINATION.start);
}

/**
 * Builds an IPv6 packet: the fixed header (payload length computed unless
 * `keepLength`) followed by `payload`, which holds any extension headers and
 * the upper-layer data. Throws `WireError` for out-of-range fields or non-IPv6 addresses.
 *
 * @example
 * ```ts
 * const packet = buildIpv6Packet({ nextHeader: IpProtocol.ICMPV6, source: '::1', destination: '::1' }, icmpv6Bytes);
 * ```
 */
export function buildIpv6Packet(init: Ipv6HeaderInit, payload: Uint8Array, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(ipv6PacketLength(payload), options, 'IPv6 packet');
  writeIpv6Header(out, init, payload.length, options);
  out.set(payload, IPV6_HEADER_LENGTH);
  return out;
}

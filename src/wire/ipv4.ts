/**
 * IPv4 header (RFC 791): parse and build.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { byteField } from './byte-field.js';
import { readUint16, writeUint16 } from './bytes.js';
import { internetChecksum, onesComplementSum } from './checksum.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { addressBytes, formatIpv4Address } from './ip-address.js';
import { WireError, wireFail, type WireResult } from './wire-error.js';

/**
 * Length of an IPv4 header without options.
 *
 * @example
 * ```ts
 * const tcp = packet.subarray(IPV4_HEADER_LENGTH); // when there are no IP options
 * ```
 */
export const IPV4_HEADER_LENGTH = 20;

/**
 * The fixed IPv4 header's fields as byte ranges (RFC 791 section 3.1).
 * `VERSION_IHL` holds the version (high 4 bits) and the header length in
 * 32-bit words; `DSCP_ECN` the DSCP (high 6 bits) and ECN; `FLAGS_FRAGMENT`
 * the 3 flag bits and the 13-bit fragment offset. Options start at
 * `DESTINATION.end`.
 *
 * @example
 * ```ts
 * packet[Ipv4Field.TTL.start]; // the TTL
 * packet.subarray(Ipv4Field.SOURCE.start, Ipv4Field.SOURCE.end); // the 4 source address bytes
 * ```
 */
export const Ipv4Field = Object.freeze({
  VERSION_IHL: byteField(0, 1),
  DSCP_ECN: byteField(1, 2),
  TOTAL_LENGTH: byteField(2, 4),
  IDENTIFICATION: byteField(4, 6),
  FLAGS_FRAGMENT: byteField(6, 8),
  TTL: byteField(8, 9),
  PROTOCOL: byteField(9, 10),
  CHECKSUM: byteField(10, 12),
  SOURCE: byteField(12, 16),
  DESTINATION: byteField(16, 20),
});

/**
 * A parsed IPv4 header. `headerLength` is in bytes (IHL * 4); addresses are
 * dotted-quad text; `options` is the raw option bytes (a view of the input).
 *
 * @example
 * ```ts
 * const r = parseIpv4Packet(bytes);
 * if (r.ok) console.log(r.value.header.ttl, r.value.header.source);
 * ```
 */
export interface Ipv4Header {
  readonly version: 4;
  readonly headerLength: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly totalLength: number;
  readonly identification: number;
  /** The reserved ("evil", RFC 3514) flag bit; set only by crafted packets. */
  readonly reservedFlag: boolean;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly source: string;
  readonly destination: string;
  readonly options: Uint8Array;
}

/**
 * What {@link buildIpv4Packet} needs. Omitted fields default to 0 / false,
 * `ttl` to 64; a parsed {@link Ipv4Header} is a valid init.
 * `headerLength`, `totalLength` and `checksum` are only used with
 * `keepLength` / `keepChecksum`; `version` (default 4) lets tests craft bad
 * versions. `options` must be a multiple of 4 bytes (at most 40).
 *
 * @example
 * ```ts
 * const init: Ipv4HeaderInit = { protocol: IpProtocol.UDP, source: '198.18.0.1', destination: '198.18.0.2', ttl: 64 };
 * ```
 */
export interface Ipv4HeaderInit {
  readonly version?: number;
  readonly headerLength?: number;
  readonly dscp?: number;
  readonly ecn?: number;
  readonly totalLength?: number;
  readonly identification?: number;
  readonly reservedFlag?: boolean;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  readonly fragmentOffset?: number;
  readonly ttl?: number;
  readonly protocol: number;
  readonly checksum?: number;
  readonly source: string | Uint8Array;
  readonly destination: string | Uint8Array;
  readonly options?: Uint8Array;
}

/**
 * A parsed IPv4 packet: its header and the payload, limited by `totalLength`
 * (link-layer padding after the packet is dropped). `payload` is a view of the input.
 *
 * @example
 * ```ts
 * const { header, payload } = unwrap(parseIpv4Packet(bytes));
 * ```
 */
export interface Ipv4Packet {
  readonly header: Ipv4Header;
  readonly payload: Uint8Array;
}

/**
 * What a receiver needs to route an IPv4 packet, read by {@link readIpv4Envelope}:
 * where the payload lies, and the TTL and protocol. No address text, no views.
 *
 * @example
 * ```ts
 * const envelope: Ipv4Envelope = { headerLength: 20, totalLength: 40, ttl: 64, protocol: 6 };
 * ```
 */
export interface Ipv4Envelope {
  /** IHL x 4: where the payload starts. */
  readonly headerLength: number;
  /** Where the payload ends (link-layer padding after it is not part of the packet). */
  readonly totalLength: number;
  readonly ttl: number;
  readonly protocol: number;
}

/**
 * Validates an IPv4 header exactly as {@link parseIpv4Packet} does and reads
 * only the {@link Ipv4Envelope}: for receive paths that handle 100,000 packets
 * a second and need neither the address text nor the other fields. The
 * source address is the input's bytes at `Ipv4Field.SOURCE` (12 to 15), the
 * destination at `Ipv4Field.DESTINATION` (16 to 19).
 * Never throws; the errors are those of {@link parseIpv4Packet}.
 *
 * @example
 * ```ts
 * const r = readIpv4Envelope(bytes);
 * if (r.ok && r.value.protocol === IpProtocol.TCP) parseTcpSegment(bytes.subarray(r.value.headerLength, r.value.totalLength));
 * ```
 */
export function readIpv4Envelope(bytes: Uint8Array): WireResult<Ipv4Envelope> {
  const length = bytes.length;
  if (length < IPV4_HEADER_LENGTH) {
    return wireFail('ipv4', 'TRUNCATED', `IPv4 header needs ${IPV4_HEADER_LENGTH} bytes, got ${length}`, IPV4_HEADER_LENGTH, length);
  }
  const b0 = bytes[Ipv4Field.VERSION_IHL.start]!;
  const version = b0 >>> 4;
  if (version !== 4) return wireFail('ipv4', 'BAD_VERSION', `IPv4 version field is ${version}, expected 4`, 4, version);
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH) {
    return wireFail('ipv4', 'BAD_HEADER_LENGTH', `IPv4 header length ${headerLength} is below the minimum of 20`, 20, headerLength);
  }
  if (headerLength > length) {
    return wireFail('ipv4', 'TRUNCATED', `IPv4 header length is ${headerLength} bytes but only ${length} bytes are present`, headerLength, length);
  }
  const totalLength = readUint16(bytes, Ipv4Field.TOTAL_LENGTH.start);
  if (totalLength < headerLength) {
    return wireFail('ipv4', 'BAD_LENGTH', `IPv4 total length ${totalLength} is shorter than its header (${headerLength})`, headerLength, totalLength);
  }
  if (totalLength > length) {
    return wireFail('ipv4', 'TRUNCATED', `IPv4 total length is ${totalLength} bytes but only ${length} bytes are present`, totalLength, length);
  }
  return { ok: true, value: { headerLength, totalLength, ttl: bytes[Ipv4Field.TTL.start]!, protocol: bytes[Ipv4Field.PROTOCOL.start]! } };
}

/**
 * Parses an IPv4 packet. Never throws: a buffer shorter than the header or
 * than `totalLength` gives `TRUNCATED`; version other than 4 `BAD_VERSION`;
 * IHL below 5 `BAD_HEADER_LENGTH`; `totalLength` below the header `BAD_LENGTH`.
 * The checksum is reported, not verified (see {@link ipv4HeaderChecksumValid}).
 *
 * @example
 * ```ts
 * const r = parseIpv4Packet(bytes);
 * if (r.ok && r.value.header.protocol === IpProtocol.TCP) parseTcpSegment(r.value.payload);
 * ```
 */
export function parseIpv4Packet(bytes: Uint8Array): WireResult<Ipv4Packet> {
  const envelope = readIpv4Envelope(bytes);
  if (!envelope.ok) return envelope;
  const { headerLength, totalLength, ttl, protocol } = envelope.value;
  const b1 = bytes[Ipv4Field.DSCP_ECN.start]!;
  const flagsFragment = readUint16(bytes, Ipv4Field.FLAGS_FRAGMENT.start);
  const header: Ipv4Header = {
    version: 4,
    headerLength,
    dscp: b1 >>> 2,
    ecn: b1 & 0x03,
    totalLength,
    identification: readUint16(bytes, Ipv4Field.IDENTIFICATION.start),
    reservedFlag: (flagsFragment & 0x8000) !== 0,
    dontFragment: (flagsFragment & 0x4000) !== 0,
    moreFragments: (flagsFragment & 0x2000) !== 0,
    fragmentOffset: flagsFragment & 0x1fff,
    ttl,
    protocol,
    checksum: readUint16(bytes, Ipv4Field.CHECKSUM.start),
    source: formatIpv4Address(bytes, Ipv4Field.SOURCE.start),
    destination: formatIpv4Address(bytes, Ipv4Field.DESTINATION.start),
    options: bytes.subarray(IPV4_HEADER_LENGTH, headerLength),
  };
  return { ok: true, value: { header, payload: bytes.subarray(headerLength, totalLength) } };
}

/**
 * Whether the IPv4 header at the start of `bytes` has a correct header
 * checksum. False when the header is truncated or its IHL is invalid.
 *
 * @example
 * ```ts
 * ipv4HeaderChecksumValid(capturedPacket); // true for a packet as sent on the wire
 * ```
 */
export function ipv4HeaderChecksumValid(bytes: Uint8Array): boolean {
  if (bytes.length < IPV4_HEADER_LENGTH) return false;
  const headerLength = (bytes[Ipv4Field.VERSION_IHL.start]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH || headerLength > bytes.length) return false;
  return onesComplementSum(bytes, 0, headerLength) === 0xffff;
}

/**
 * The number of bytes {@link buildIpv4Packet} writes for `init` and `payload`.
 *
 * @example
 * ```ts
 * ipv4PacketLength({ protocol: 17, source: '198.18.0.1', destination: '198.18.0.2' }, new Uint8Array(8)); // 28
 * ```
 */
export function ipv4PacketLength(init: Ipv4HeaderInit, payload: Uint8Array): number {
  return IPV4_HEADER_LENGTH + (init.options?.length ?? 0) + payload.length;
}

/**
 * Writes the IPv4 header fields of `init` into `out` (header only; the
 * payload is the caller's) and returns the header length. Used by the
 * builder and by the probe templates.
 *
 * @example
 * ```ts
 * const header = new Uint8Array(20);
 * writeIpv4Header(header, { protocol: 6, source: '198.18.0.1', destination: '198.18.0.2' }, 40);
 * ```
 */
export function writeIpv4Header(out: Uint8Array, init: Ipv4HeaderInit, payloadLength: number, options?: BuildOptions): number {
  const optionBytes = init.options ?? new Uint8Array(0);
  if (optionBytes.length % 4 !== 0 || optionBytes.length > 40) {
    throw new WireError(
      'ERR_WIRE_FIELD_RANGE',
      `IPv4 options length ${optionBytes.length} is out of range: allowed 0-40 in multiples of 4`,
    );
  }
  const source = addressBytes(init.source, 4, 'IPv4 source address');
  const destination = addressBytes(init.destination, 4, 'IPv4 destination address');
  const headerLength = IPV4_HEADER_LENGTH + optionBytes.length;
  const version = optionalField('IPv4 version', init.version, 15, 4);
  const ihl = options?.keepLength && init.headerLength !== undefined ? checkFieldRange('IPv4 header length', init.headerLength, 60) >>> 2 : headerLength >>> 2;
  const totalLength =
    options?.keepLength && init.totalLength !== undefined
      ? checkFieldRange('IPv4 total length', init.totalLength, 0xffff)
      : checkFieldRange('IPv4 total length', headerLength + payloadLength, 0xffff);
  const dscp = optionalField('IPv4 DSCP', init.dscp, 63, 0);
  const ecn = optionalField('IPv4 ECN', init.ecn, 3, 0);
  const fragmentOffset = optionalField('IPv4 fragment offset', init.fragmentOffset, 0x1fff, 0);
  out[Ipv4Field.VERSION_IHL.start] = (version << 4) | ihl;
  out[Ipv4Field.DSCP_ECN.start] = (dscp << 2) | ecn;
  writeUint16(out, Ipv4Field.TOTAL_LENGTH.start, totalLength);
  writeUint16(out, Ipv4Field.IDENTIFICATION.start, optionalField('IPv4 identification', init.identification, 0xffff, 0));
  writeUint16(out, Ipv4Field.FLAGS_FRAGMENT.start, (init.reservedFlag ? 0x8000 : 0) | (init.dontFragment ? 0x4000 : 0) | (init.moreFragments ? 0x2000 : 0) | fragmentOffset);
  out[Ipv4Field.TTL.start] = optionalField('IPv4 TTL', init.ttl, 255, 64);
  out[Ipv4Field.PROTOCOL.start] = checkFieldRange('IPv4 protocol', init.protocol, 255);
  out.set(source, Ipv4Field.SOURCE.start);
  out.set(destination, Ipv4Field.DESTINATION.start);
  out.set(optionBytes, IPV4_HEADER_LENGTH);
  if (options?.keepChecksum) {
    writeUint16(out, Ipv4Field.CHECKSUM.start, optionalField('IPv4 header checksum', init.checksum, 0xffff, 0));
  } else {
    writeUint16(out, Ipv4Field.CHECKSUM.start, 0);
    writeUint16(out, Ipv4Field.CHECKSUM.start, internetChecksum(out, 0, headerLength));
  }
  return headerLength;
}

/**
 * Builds an IPv4 packet: header (with computed total length and header
 * checksum unless `keepLength` / `keepChecksum`) followed by `payload`.
 * Throws `WireError` for out-of-range fields or non-IPv4 addresses.
 *
 * @example
 * ```ts
 * const packet = buildIpv4Packet({ protocol: IpProtocol.ICMP, source: '127.0.0.1', destination: '127.0.0.1', ttl: 64 }, icmpBytes);
 * ```
 */
export function buildIpv4Packet(init: Ipv4HeaderInit, payload: Uint8Array, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(ipv4PacketLength(init, payload), options, 'IPv4 packet');
  const headerLength = writeIpv4Header(out, init, payload.length, options);
  out.set(payload, headerLength);
  return out;
}

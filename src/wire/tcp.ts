/**
 * TCP segments (RFC 9293): flags, parse, build and checksum verification.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { byteField } from './byte-field.js';
import { readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js';
import { internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { IpProtocol } from './ip-protocol.js';
import { pseudoHeaderBytes, type PseudoHeaderAddresses } from './pseudo-header.js';
import { parseTcpOptions, tcpOptionsLength, writeTcpOptions, type TcpOption } from './tcp-option.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * Length of a TCP header without options.
 *
 * @example
 * ```ts
 * const hasOptions = segment.dataOffset * 4 > TCP_HEADER_LENGTH;
 * ```
 */
export const TCP_HEADER_LENGTH = 20;

/**
 * The fixed TCP header's fields as byte ranges (RFC 9293 section 3.1).
 * `DATA_OFFSET_FLAGS` holds the 4-bit data offset, the 4 bits of `AE` and
 * reserved, and the 8 classic flags. Options start at `URGENT_POINTER.end`.
 *
 * @example
 * ```ts
 * readUint16(segment, TcpField.DESTINATION_PORT.start); // the destination port
 * segment[TcpField.DATA_OFFSET_FLAGS.start]! >>> 4; // the data offset in 32-bit words
 * ```
 */
export const TcpField = Object.freeze({
  SOURCE_PORT: byteField(0, 2),
  DESTINATION_PORT: byteField(2, 4),
  SEQUENCE: byteField(4, 8),
  ACKNOWLEDGMENT: byteField(8, 12),
  DATA_OFFSET_FLAGS: byteField(12, 14),
  WINDOW: byteField(14, 16),
  CHECKSUM: byteField(16, 18),
  URGENT_POINTER: byteField(18, 20),
});

/**
 * TCP flag bits as they appear in `TcpSegment.flags`. `AE` (RFC 9293's
 * former NS bit) sits in the byte before the classic flags.
 *
 * @example
 * ```ts
 * const synAck = TcpFlags.SYN | TcpFlags.ACK;
 * if ((segment.flags & TcpFlags.RST) !== 0) console.log('closed');
 * ```
 */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100,
} as const;

const FLAG_LETTERS: readonly [number, string][] = [
  [TcpFlags.FIN, 'F'],
  [TcpFlags.SYN, 'S'],
  [TcpFlags.RST, 'R'],
  [TcpFlags.PSH, 'P'],
  [TcpFlags.ACK, 'A'],
  [TcpFlags.URG, 'U'],
  [TcpFlags.ECE, 'E'],
  [TcpFlags.CWR, 'C'],
];

/**
 * nmap-style flag letters in bit order (F S R P A U E C); '' when none is set.
 *
 * @example
 * ```ts
 * tcpFlagsToString(TcpFlags.SYN | TcpFlags.ACK); // 'SA'
 * tcpFlagsToString(TcpFlags.FIN | TcpFlags.PSH | TcpFlags.URG); // 'FPU'
 * ```
 */
export function tcpFlagsToString(flags: number): string {
  let out = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) out += letter;
  return out;
}

/**
 * A parsed TCP segment. `dataOffset` is in 32-bit words as on the wire;
 * `flags` holds the 8 classic flag bits plus the 4 bits before them
 * (`TcpFlags.AE` and reserved); `payload` is a view of the input.
 *
 * @example
 * ```ts
 * const r = parseTcpSegment(bytes);
 * if (r.ok && (r.value.flags & TcpFlags.SYN)) console.log(r.value.options);
 * ```
 */
export interface TcpSegment {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequence: number;
  readonly acknowledgment: number;
  readonly dataOffset: number;
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgentPointer: number;
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
}

/**
 * What {@link buildTcpSegment} needs. Omitted numbers default to 0, except
 * `window` (1024, as nmap sends). `dataOffset` and `checksum` are only used
 * with `keepLength` / `keepChecksum`. A parsed {@link TcpSegment} is a valid init.
 *
 * @example
 * ```ts
 * const syn: TcpSegmentInit = { sourcePort: 40000, destinationPort: 80, sequence: 1, flags: TcpFlags.SYN, options: [{ kind: 'mss', value: 1460 }] };
 * ```
 */
export interface TcpSegmentInit {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequence?: number;
  readonly acknowledgment?: number;
  readonly dataOffset?: number;
  readonly flags?: number;
  readonly window?: number;
  readonly checksum?: number;
  readonly urgentPointer?: number;
  readonly options?: readonly TcpOption[];
  readonly payload?: Uint8Array;
}

/**
 * Parses a TCP segment (header, options and payload). Never throws: fewer
 * than 20 bytes or a data offset past the buffer gives `TRUNCATED`, a data
 * offset below 5 `BAD_HEADER_LENGTH`, malformed options `BAD_OPTION`
 * (layer `tcp-option`). The checksum is reported, not verified.
 *
 * @example
 * ```ts
 * const r = parseTcpSegment(ipPacket.payload);
 * if (r.ok) console.log(tcpFlagsToString(r.value.flags));
 * ```
 */
export function parseTcpSegment(bytes: Uint8Array): WireResult<TcpSegment> {
  const length = bytes.length;
  if (length < TCP_HEADER_LENGTH) {
    return wireFail('tcp', 'TRUNCATED', `TCP header needs ${TCP_HEADER_LENGTH} bytes, got ${length}`, TCP_HEADER_LENGTH, length);
  }
  const b12 = bytes[TcpField.DATA_OFFSET_FLAGS.start]!;
  const dataOffset = b12 >>> 4;
  const headerLength = dataOffset * 4;
  if (dataOffset < 5) {
    return wireFail('tcp', 'BAD_HEADER_LENGTH', `TCP data offset ${dataOffset} is below the minimum of 5`, 5, dataOffset);
  }
  if (headerLength > length) {
    return wireFail('tcp', 'TRUNCATED', `TCP header length is ${headerLength} bytes but only ${length} bytes are present`, headerLength, length);
  }
  let options: readonly TcpOption[] = NO_OPTIONS;
  if (headerLength > TCP_HEADER_LENGTH) {
    const parsed = parseTcpOptions(bytes, TCP_HEADER_LENGTH, headerLength);
    if (!parsed.ok) return parsed;
    options = parsed.value;
  }
  return {
    ok: true,
    value: {
      sourcePort: readUint16(bytes, TcpField.SOURCE_PORT.start),
      destinationPort: readUint16(bytes, TcpField.DESTINATION_PORT.start),
      sequence: readUint32(bytes, TcpField.SEQUENCE.start),
      acknowledgment: readUint32(bytes, TcpField.ACKNOWLEDGMENT.start),
      dataOffset,
      flags: ((b12 & 0x0f) << 8) | bytes[TcpField.DATA_OFFSET_FLAGS.start + 1]!,
      window: readUint16(bytes, TcpField.WINDOW.start),
      checksum: readUint16(bytes, TcpField.CHECKSUM.start),
      urgentPointer: readUint16(bytes, TcpField.URGENT_POINTER.start),
      options,
      payload: bytes.subarray(headerLength),
    },
  };
}

const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);

/**
 * The number of bytes {@link buildTcpSegment} writes for `init`.
 *
 * @example
 * ```ts
 * tcpSegmentLength({ sourcePort: 1, destinationPort: 2, options: [{ kind: 'mss', value: 1460 }] }); // 24
 * ```
 */
export function tcpSegmentLength(init: TcpSegmentInit): number {
  return TCP_HEADER_LENGTH + tcpOptionsLength(init.options ?? NO_OPTIONS) + (init.payload?.length ?? 0);
}

/**
 * Builds a TCP segment. With `pseudo` the checksum is computed over the IPv4
 * or IPv6 pseudo-header (chosen by the address length); without it the
 * checksum field is `init.checksum` or 0. `keepChecksum` writes
 * `init.checksum` even when `pseudo` is given; `keepLength` writes
 * `init.dataOffset`. Throws `WireError` for out-of-range fields.
 *
 * @example
 * ```ts
 * const syn = buildTcpSegment(
 *   { sourcePort: 40000, destinationPort: 80, sequence: 1, flags: TcpFlags.SYN, options: [{ kind: 'mss', value: 1460 }] },
 *   { source: '127.0.0.1', destination: '127.0.0.1' },
 * );
 * ```
 */
export function buildTcpSegment(init: TcpSegmentInit, pseudo: PseudoHeaderAddresses | undefined, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(tcpSegmentLength(init), options, 'TCP segment');
  const optionsLength = writeTcpOptions(out, TCP_HEADER_LENGTH, init.options ?? NO_OPTIONS);
  const headerLength = TCP_HEADER_LENGTH + optionsLength;
  writeUint16(out, TcpField.SOURCE_PORT.start, checkFieldRange('TCP source port', init.sourcePort, 0xffff));
  writeUint16(out, TcpField.DESTINATION_PORT.start, checkFieldRange('TCP destination port', init.destinationPort, 0xffff));
  writeUint32(out, TcpField.SEQUENCE.start, optionalField('TCP sequence number', init.sequence, 0xffffffff, 0));
  writeUint32(out, TcpField.ACKNOWLEDGMENT.start, optionalField('TCP acknowledgment number', init.acknowledgment, 0xffffffff, 0));
  const dataOffset =
    options?.keepLength && init.dataOffset !== undefined ? checkFieldRange('TCP data offset', init.dataOffset, 15) : headerLength >>> 2;
  const flags = optionalField('TCP flags', init.flags, 0xfff, 0);
  out[TcpField.DATA_OFFSET_FLAGS.start] = (dataOffset << 4) | (flags >>> 8);
  out[TcpField.DATA_OFFSET_FLAGS.start + 1] = flags & 0xff;
  writeUint16(out, TcpField.WINDOW.start, optionalField('TCP window', init.window, 0xffff, 1024));
  writeUint16(out, TcpField.CHECKSUM.start, 0);
  writeUint16(out, TcpField.URGENT_POINTER.start, optionalField('TCP urgent pointer', init.urgentPointer, 0xffff, 0));
  if (init.payload) out.set(init.payload, headerLength);
  let checksum = optionalField('TCP checksum', init.checksum, 0xffff, 0);
  if (pseudo && !options?.keepChecksum) {
    const { source, destination } = pseudoHeaderBytes(pseudo, 'TCP');
    checksum = internetChecksum(out, 0, out.length, pseudoHeaderSum(source, destination, IpProtocol.TCP, out.length));
  }
  writeUint16(out, TcpField.CHECKSUM.start, checksum);
  return out;
}

/**
 * Whether a TCP segment's checksum is correct for the given addresses (IPv4
 * or IPv6 by length). Loopback captures with checksum offload carry only a
 * partial sum and fail this check.
 *
 * @example
 * ```ts
 * verifyTcpChecksum(ip.payload, ip.header.source, ip.header.destination); // true or false
 * ```
 */
export function verifyTcpChecksum(segment: Uint8Array, source: string | Uint8Array, destination: string | Uint8Array): boolean {
  if (segment.length < TCP_HEADER_LENGTH) return false;
  const addresses = pseudoHeaderBytes({ source, destination }, 'TCP');
  const initial = pseudoHeaderSum(addresses.source, addresses.destination, IpProtocol.TCP, segment.length);
  return onesComplementSum(segment, 0, segment.length, initial) === 0xffff;
}

/**
 * UDP datagrams (RFC 768, RFC 8200 section 8.1): parse, build and checksum
 * verification.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { byteField } from './byte-field.js';
import { readUint16, writeUint16 } from './bytes.js';
import { internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { IpProtocol } from './ip-protocol.js';
import { pseudoHeaderBytes, type PseudoHeaderAddresses } from './pseudo-header.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * Length of the UDP header.
 *
 * @example
 * ```ts
 * const payloadLength = datagram.length - UDP_HEADER_LENGTH;
 * ```
 */
export const UDP_HEADER_LENGTH = 8;

/**
 * The UDP header's fields as byte ranges (RFC 768). `LENGTH` counts the
 * header and the payload.
 *
 * @example
 * ```ts
 * readUint16(datagram, UdpField.LENGTH.start); // header + payload bytes
 * ```
 */
export const UdpField = Object.freeze({
  SOURCE_PORT: byteField(0, 2),
  DESTINATION_PORT: byteField(2, 4),
  LENGTH: byteField(4, 6),
  CHECKSUM: byteField(6, 8),
});

/**
 * A parsed UDP datagram; `payload` is a view of the input limited by `length`.
 *
 * @example
 * ```ts
 * const r = parseUdpDatagram(bytes);
 * if (r.ok) console.log(r.value.sourcePort, r.value.payload.length);
 * ```
 */
export interface UdpDatagram {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly length: number;
  readonly checksum: number;
  readonly payload: Uint8Array;
}

/**
 * What {@link buildUdpDatagram} needs. `length` and `checksum` are only used
 * with `keepLength` / `keepChecksum` (or, for `checksum`, when no
 * pseudo-header is given). A parsed {@link UdpDatagram} is a valid init.
 *
 * @example
 * ```ts
 * const init: UdpDatagramInit = { sourcePort: 40000, destinationPort: 53, payload: query };
 * ```
 */
export interface UdpDatagramInit {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly length?: number;
  readonly checksum?: number;
  readonly payload?: Uint8Array;
}

/**
 * Parses a UDP datagram. Never throws: fewer than 8 bytes or a length field
 * past the buffer gives `TRUNCATED`, a length field below 8 `BAD_LENGTH`.
 * Bytes after `length` (padding) are not part of the payload.
 *
 * @example
 * ```ts
 * const r = parseUdpDatagram(ip.payload);
 * ```
 */
export function parseUdpDatagram(bytes: Uint8Array): WireResult<UdpDatagram> {
  const size = bytes.length;
  if (size < UDP_HEADER_LENGTH) {
    return wireFail('udp', 'TRUNCATED', `UDP header needs ${UDP_HEADER_LENGTH} bytes, got ${size}`, UDP_HEADER_LENGTH, size);
  }
  const length = readUint16(bytes, UdpField.LENGTH.start);
  if (length < UDP_HEADER_LENGTH) {
    return wireFail('udp', 'BAD_LENGTH', `UDP length ${length} is below the header length of 8`, UDP_HEADER_LENGTH, length);
  }
  if (length > size) {
    return wireFail('udp', 'TRUNCATED', `UDP length is ${length} bytes but only ${size} bytes are present`, length, size);
  }
  return {
    ok: true,
    value: {
      sourcePort: readUint16(bytes, UdpField.SOURCE_PORT.start),
      destinationPort: readUint16(bytes, UdpField.DESTINATION_PORT.start),
      length,
      checksum: readUint16(bytes, UdpField.CHECKSUM.start),
      payload: bytes.subarray(UDP_HEADER_LENGTH, length),
    },
  };
}

/**
 * The number of bytes {@link buildUdpDatagram} writes for `init`.
 *
 * @example
 * ```ts
 * udpDatagramLength({ sourcePort: 1, destinationPort: 2, payload: new Uint8Array(4) }); // 12
 * ```
 */
export function udpDatagramLength(init: UdpDatagramInit): number {
  return UDP_HEADER_LENGTH + (init.payload?.length ?? 0);
}

/**
 * Builds a UDP datagram. With `pseudo` the checksum is computed over the
 * IPv4 or IPv6 pseudo-header (a computed 0 is sent as 0xffff); without it
 * the checksum is `init.checksum` or 0 ("no checksum", IPv4 only).
 * Throws `WireError` for out-of-range fields.
 *
 * @example
 * ```ts
 * const probe = buildUdpDatagram({ sourcePort: 40000, destinationPort: 53 }, { source: '127.0.0.1', destination: '127.0.0.1' });
 * ```
 */
export function buildUdpDatagram(init: UdpDatagramInit, pseudo?: PseudoHeaderAddresses, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(udpDatagramLength(init), options, 'UDP datagram');
  writeUint16(out, UdpField.SOURCE_PORT.start, checkFieldRange('UDP source port', init.sourcePort, 0xffff));
  writeUint16(out, UdpField.DESTINATION_PORT.start, checkFieldRange('UDP destination port', init.destinationPort, 0xffff));
  const length =
    options?.keepLength && init.length !== undefined
      ? checkFieldRange('UDP length', init.length, 0xffff)
      : checkFieldRange('UDP length', out.length, 0xffff);
  writeUint16(out, UdpField.LENGTH.start, length);
  writeUint16(out, UdpField.CHECKSUM.start, 0);
  if (init.payload) out.set(init.payload, UDP_HEADER_LENGTH);
  let checksum = optionalField('UDP checksum', init.checksum, 0xffff, 0);
  if (pseudo && !options?.keepChecksum) {
    const { source, destination } = pseudoHeaderBytes(pseudo, 'UDP');
    checksum = internetChecksum(out, 0, out.length, pseudoHeaderSum(source, destination, IpProtocol.UDP, out.length));
    if (checksum === 0) checksum = 0xffff;
  }
  writeUint16(out, UdpField.CHECKSUM.start, checksum);
  return out;
}

/**
 * Whether a UDP datagram's checksum is correct for the given addresses. Over
 * IPv4 a zero checksum means "not computed" and is valid; over IPv6 it is
 * invalid (the checksum is mandatory).
 *
 * @example
 * ```ts
 * verifyUdpChecksum(datagram, '127.0.0.1', '127.0.0.1');
 * ```
 */
export function verifyUdpChecksum(datagram: Uint8Array, source: string | Uint8Array, destination: string | Uint8Array): boolean {
  if (datagram.length < UDP_HEADER_LENGTH) return false;
  const addresses = pseudoHeaderBytes({ source, destination }, 'UDP');
  if (readUint16(datagram, UdpField.CHECKSUM.start) === 0) return addresses.source.length === 4;
  const length = readUint16(datagram, UdpField.LENGTH.start);
  if (length < UDP_HEADER_LENGTH || length > datagram.length) return false;
  const initial = pseudoHeaderSum(addresses.source, addresses.destination, IpProtocol.UDP, length);
  return onesComplementSum(datagram, 0, length, initial) === 0xffff;
}

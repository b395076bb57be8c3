/**
 * ICMPv4 messages (RFC 792): echo, destination unreachable, time exceeded
 * and any other type as raw bytes.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { byteField } from './byte-field.js';
import { readUint16, writeUint16 } from './bytes.js';
import { internetChecksum, onesComplementSum } from './checksum.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { IcmpType, icmpv4UnreachableCodeName, timeExceededCodeName } from './icmp-names.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * Length of an ICMP header (type, code, checksum and the 4-byte rest of header).
 *
 * @example
 * ```ts
 * const quoted = icmpBytes.subarray(ICMP_HEADER_LENGTH);
 * ```
 */
export const ICMP_HEADER_LENGTH = 8;

/**
 * The ICMP header's fields as byte ranges, the same for ICMPv4 (RFC 792) and
 * ICMPv6 (RFC 4443). `REST` is the 4-byte rest of header; echo messages
 * split it into `IDENTIFIER` and `SEQUENCE`, errors use it for an MTU or
 * leave it unused. Error messages quote the original datagram from `REST.end`.
 *
 * @example
 * ```ts
 * message[IcmpField.TYPE.start]; // the ICMP type
 * readUint16(message, IcmpField.IDENTIFIER.start); // the echo identifier
 * message.subarray(IcmpField.REST.end); // an error's quoted datagram
 * ```
 */
export const IcmpField = Object.freeze({
  TYPE: byteField(0, 1),
  CODE: byteField(1, 2),
  CHECKSUM: byteField(2, 4),
  IDENTIFIER: byteField(4, 6),
  SEQUENCE: byteField(6, 8),
  REST: byteField(4, 8),
});

/**
 * Fields every parsed ICMPv4 message has.
 *
 * @example
 * ```ts
 * const common: Icmpv4Common = { type: 0, code: 0, checksum: 0xffff, checksumValid: true };
 * ```
 */
export interface Icmpv4Common {
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  /** Whether the checksum over the whole message is correct. */
  readonly checksumValid: boolean;
}

/**
 * A parsed ICMPv4 message, discriminated on `kind`. Error messages carry
 * `quoted`, the start of the datagram that caused them (parse it with
 * `parseQuotedDatagram`), and `codeName` (IANA name); nmap's reason words are the scan layer's.
 * Byte arrays are views of the input.
 *
 * @example
 * ```ts
 * const r = parseIcmpv4Message(ip.payload);
 * if (r.ok && r.value.kind === 'destination-unreachable') console.log(r.value.codeName);
 * ```
 */
export type Icmpv4Message =
  | (Icmpv4Common & { readonly kind: 'echo-request' | 'echo-reply'; readonly identifier: number; readonly sequence: number; readonly data: Uint8Array })
  | (Icmpv4Common & {
      readonly kind: 'destination-unreachable';
      readonly codeName: string;
      readonly quoted: Uint8Array;
      /** Next-hop MTU (RFC 1191), only for code 4 (fragmentation needed). */
      readonly nextHopMtu?: number;
    })
  | (Icmpv4Common & { readonly kind: 'time-exceeded'; readonly codeName: string; readonly quoted: Uint8Array })
  | (Icmpv4Common & { readonly kind: 'other'; readonly rest: Uint8Array });

/**
 * What {@link buildIcmpv4Message} needs; a parsed {@link Icmpv4Message} is a
 * valid init. `checksum` is only used with `keepChecksum`. For `other`,
 * `rest` is everything after the checksum (padded to at least 4 bytes).
 *
 * @example
 * ```ts
 * const ping: Icmpv4MessageInit = { kind: 'echo-request', identifier: 0x1234, sequence: 1, data: new Uint8Array(56) };
 * ```
 */
export type Icmpv4MessageInit =
  | {
      readonly kind: 'echo-request' | 'echo-reply';
      readonly identifier: number;
      readonly sequence: number;
      readonly data?: Uint8Array;
      readonly code?: number;
      readonly checksum?: number;
    }
  | { readonly kind: 'destination-unreachable'; readonly code: number; readonly quoted?: Uint8Array; readonly nextHopMtu?: number; readonly checksum?: number }
  | { readonly kind: 'time-exceeded'; readonly code: number; readonly quoted?: Uint8Array; readonly checksum?: number }
  | { readonly kind: 'other'; readonly type: number; readonly code: number; readonly rest?: Uint8Array; readonly checksum?: number };

/**
 * Parses an ICMPv4 message (the IP payload). Never throws: fewer than 8
 * bytes gives `TRUNCATED`. The checksum is verified and reported in
 * `checksumValid`; a wrong checksum does not make the parse fail.
 *
 * @example
 * ```ts
 * const r = parseIcmpv4Message(ip.payload);
 * if (r.ok && r.value.kind === 'echo-reply') console.log(r.value.identifier, r.value.sequence);
 * ```
 */
export function parseIcmpv4Message(bytes: Uint8Array): WireResult<Icmpv4Message> {
  const length = bytes.length;
  if (length < ICMP_HEADER_LENGTH) {
    return wireFail('icmpv4', 'TRUNCATED', `ICMP message needs ${ICMP_HEADER_LENGTH} bytes, got ${length}`, ICMP_HEADER_LENGTH, length);
  }
  const type = bytes[IcmpField.TYPE.start]!;
  const code = bytes[IcmpField.CODE.start]!;
  const checksum = readUint16(bytes, IcmpField.CHECKSUM.start);
  const checksumValid = onesComplementSum(bytes) === 0xffff;
  let message: Icmpv4Message;
  switch (type) {
    case IcmpType.ECHO_REQUEST:
    case IcmpType.ECHO_REPLY:
      message = {
        kind: type === IcmpType.ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        type,
        code,
        checksum,
        checksumValid,
        identifier: readUint16(bytes, IcmpField.IDENTIFIER.start),
        sequence: readUint16(bytes, IcmpField.SEQUENCE.start),
        data: bytes.subarray(ICMP_HEADER_LENGTH),
      };
      break;
    case IcmpType.DESTINATION_UNREACHABLE:
      message = {
        kind: 'destination-unreachable',
        type,
        code,
        checksum,
        checksumValid,
        codeName: icmpv4UnreachableCodeName(code),
        quoted: bytes.subarray(ICMP_HEADER_LENGTH),
        ...(code === 4 ? { nextHopMtu: readUint16(bytes, IcmpField.REST.start + 2) } : {}),
      };
      break;
    case IcmpType.TIME_EXCEEDED:
      message = {
        kind: 'time-exceeded',
        type,
        code,
        checksum,
        checksumValid,
        codeName: timeExceededCodeName(4, code),
        quoted: bytes.subarray(ICMP_HEADER_LENGTH),
      };
      break;
    default:
      message = { kind: 'other', type, code, checksum, checksumValid, rest: bytes.subarray(IcmpField.REST.start) };
  }
  return { ok: true, value: message };
}

function bodyLength(init: Icmpv4MessageInit): number {
  switch (init.kind) {
    case 'echo-request':
    case 'echo-reply':
      return init.data?.length ?? 0;
    case 'destination-unreachable':
    case 'time-exceeded':
      return init.quoted?.length ?? 0;
    case 'other':
      return Math.max(4, init.rest?.length ?? 0) - 4;
  }
}

/**
 * The number of bytes {@link buildIcmpv4Message} writes for `init`.
 *
 * @example
 * ```ts
 * icmpv4MessageLength({ kind: 'echo-request', identifier: 1, sequence: 1, data: new Uint8Array(56) }); // 64
 * ```
 */
export function icmpv4MessageLength(init: Icmpv4MessageInit): number {
  return ICMP_HEADER_LENGTH + bodyLength(init);
}

/**
 * Writes the type, code and rest-of-header of an ICMPv4 or ICMPv6 message
 * and its body, leaving the checksum field zero. Shared with ICMPv6, whose
 * echo and error layouts are the same. `type` is the resolved type number.
 *
 * @example
 * ```ts
 * writeIcmpBody(out, 8, { kind: 'echo-request', identifier: 1, sequence: 2 }, 'ICMP');
 * ```
 */
export function writeIcmpBody(
  out: Uint8Array,
  type: number,
  init:
    | { readonly kind: 'echo-request' | 'echo-reply'; readonly identifier: number; readonly sequence: number; readonly data?: Uint8Array; readonly code?: number }
    | { readonly kind: 'error'; readonly code: number; readonly word: number; readonly quoted?: Uint8Array }
    | { readonly kind: 'other'; readonly code: number; readonly rest?: Uint8Array },
  protocolName: string,
): void {
  out[IcmpField.TYPE.start] = type;
  writeUint16(out, IcmpField.CHECKSUM.start, 0);
  if (init.kind === 'error') {
    out[IcmpField.CODE.start] = checkFieldRange(`${protocolName} code`, init.code, 255);
    writeUint16(out, IcmpField.REST.start, init.word >>> 16);
    writeUint16(out, IcmpField.REST.start + 2, init.word & 0xffff);
    if (init.quoted) out.set(init.quoted, ICMP_HEADER_LENGTH);
  } else if (init.kind === 'other') {
    out[IcmpField.CODE.start] = checkFieldRange(`${protocolName} code`, init.code, 255);
    out.fill(0, IcmpField.REST.start, IcmpField.REST.end);
    if (init.rest) out.set(init.rest, IcmpField.REST.start);
  } else {
    out[IcmpField.CODE.start] = optionalField(`${protocolName} code`, init.code, 255, 0);
    writeUint16(out, IcmpField.IDENTIFIER.start, checkFieldRange(`${protocolName} echo identifier`, init.identifier, 0xffff));
    writeUint16(out, IcmpField.SEQUENCE.start, checkFieldRange(`${protocolName} echo sequence`, init.sequence, 0xffff));
    if (init.data) out.set(init.data, ICMP_HEADER_LENGTH);
  }
}

/**
 * Builds an ICMPv4 message with its checksum (unless `keepChecksum`).
 * Throws `WireError` for out-of-range fields.
 *
 * @example
 * ```ts
 * const ping = buildIcmpv4Message({ kind: 'echo-request', identifier: 0x024f, sequence: 1, data });
 * const unreachable = buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: originalPacket.subarray(0, 28) });
 * ```
 */
export function buildIcmpv4Message(init: Icmpv4MessageInit, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(icmpv4MessageLength(init), options, 'ICMP message');
  switch (init.kind) {
    case 'echo-request':
    case 'echo-reply':
      writeIcmpBody(out, init.kind === 'echo-request' ? IcmpType.ECHO_REQUEST : IcmpType.ECHO_REPLY, init, 'ICMP');
      break;
    case 'destination-unreachable': {
      const mtu = init.code === 4 ? optionalField('ICMP next-hop MTU', init.nextHopMtu, 0xffff, 0) : 0;
      writeIcmpBody(out, IcmpType.DESTINATION_UNREACHABLE, { kind: 'error', code: init.code, word: mtu, ...(init.quoted ? { quoted: init.quoted } : {}) }, 'ICMP');
      break;
    }
    case 'time-exceeded':
      writeIcmpBody(out, IcmpType.TIME_EXCEEDED, { kind: 'error', code: init.code, word: 0, ...(init.quoted ? { quoted: init.quoted } : {}) }, 'ICMP');
      break;
    case 'other':
      writeIcmpBody(out, checkFieldRange('ICMP type', init.type, 255), init, 'ICMP');
      break;
  }
  const checksum = options?.keepChecksum ? optionalField('ICMP checksum', init.checksum, 0xffff, 0) : internetChecksum(out);
  writeUint16(out, IcmpField.CHECKSUM.start, checksum);
  return out;
}

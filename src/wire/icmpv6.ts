/**
 * ICMPv6 messages (RFC 4443): echo, destination unreachable, packet too big,
 * time exceeded, and other types as raw bytes. The checksum covers the IPv6
 * pseudo-header.
 *
 * @module
 */
import { outputBuffer, type BuildOptions } from './build-options.js';
import { readUint16, readUint32, writeUint16 } from './bytes.js';
import { internetChecksum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { checkFieldRange, optionalField } from './value-range.js';
import { Icmpv6Type, icmpv6UnreachableCodeName, timeExceededCodeName } from './icmp-names.js';
import { ICMP_HEADER_LENGTH, IcmpField, writeIcmpBody } from './icmpv4.js';
import { IpProtocol } from './ip-protocol.js';
import { pseudoHeaderBytes, type PseudoHeaderAddresses } from './pseudo-header.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * Fields every parsed ICMPv6 message has.
 *
 * @example
 * ```ts
 * const common: Icmpv6Common = { type: 129, code: 0, checksum: 0x1234 };
 * ```
 */
export interface Icmpv6Common {
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  /** Whether the checksum is correct; only present when the parser was given the IPv6 addresses. */
  readonly checksumValid?: boolean;
}

/**
 * A parsed ICMPv6 message, discriminated on `kind`, shaped like
 * {@link Icmpv4Message}. Byte arrays are views of the input.
 *
 * @example
 * ```ts
 * const r = parseIcmpv6Message(ip6.payload, { source: ip6.header.source, destination: ip6.header.destination });
 * if (r.ok && r.value.kind === 'echo-reply') console.log(r.value.sequence, r.value.checksumValid);
 * ```
 */
export type Icmpv6Message =
  | (Icmpv6Common & { readonly kind: 'echo-request' | 'echo-reply'; readonly identifier: number; readonly sequence: number; readonly data: Uint8Array })
  | (Icmpv6Common & { readonly kind: 'destination-unreachable'; readonly codeName: string; readonly quoted: Uint8Array })
  | (Icmpv6Common & { readonly kind: 'packet-too-big'; readonly mtu: number; readonly quoted: Uint8Array })
  | (Icmpv6Common & { readonly kind: 'time-exceeded'; readonly codeName: string; readonly quoted: Uint8Array })
  | (Icmpv6Common & { readonly kind: 'other'; readonly rest: Uint8Array });

/**
 * What {@link buildIcmpv6Message} needs; a parsed {@link Icmpv6Message} is a valid init.
 *
 * @example
 * ```ts
 * const ping: Icmpv6MessageInit = { kind: 'echo-request', identifier: 7, sequence: 1 };
 * ```
 */
export type Icmpv6MessageInit =
  | {
      readonly kind: 'echo-request' | 'echo-reply';
      readonly identifier: number;
      readonly sequence: number;
      readonly data?: Uint8Array;
      readonly code?: number;
      readonly checksum?: number;
    }
  | { readonly kind: 'destination-unreachable'; readonly code: number; readonly quoted?: Uint8Array; readonly checksum?: number }
  | { readonly kind: 'packet-too-big'; readonly code?: number; readonly mtu: number; readonly quoted?: Uint8Array; readonly checksum?: number }
  | { readonly kind: 'time-exceeded'; readonly code: number; readonly quoted?: Uint8Array; readonly checksum?: number }
  | { readonly kind: 'other'; readonly type: number; readonly code: number; readonly rest?: Uint8Array; readonly checksum?: number };

/**
 * Parses an ICMPv6 message (the upper-layer payload of an IPv6 packet).
 * Never throws: fewer than 8 bytes gives `TRUNCATED`. With `pseudo` the
 * checksum is verified into `checksumValid`.
 *
 * @example
 * ```ts
 * const r = parseIcmpv6Message(bytes, { source: '::1', destination: '::1' });
 * ```
 */
export function parseIcmpv6Message(bytes: Uint8Array, pseudo?: PseudoHeaderAddresses): WireResult<Icmpv6Message> {
  const length = bytes.length;
  if (length < ICMP_HEADER_LENGTH) {
    return wireFail('icmpv6', 'TRUNCATED', `ICMPv6 message needs ${ICMP_HEADER_LENGTH} bytes, got ${length}`, ICMP_HEADER_LENGTH, length);
  }
  const type = bytes[IcmpField.TYPE.start]!;
  const code = bytes[IcmpField.CODE.start]!;
  const checksum = readUint16(bytes, IcmpField.CHECKSUM.start);
  let checksumValid: boolean | undefined;
  if (pseudo) {
    const addresses = ipv6PseudoAddresses(pseudo);
    if (!addresses) return wireFail('icmpv6', 'BAD_ADDRESS', 'ICMPv6 pseudo-header addresses must both be IPv6 addresses');
    checksumValid = icmpv6SumValid(bytes, addresses.source, addresses.destination);
  }
  const common: Icmpv6Common = checksumValid === undefined ? { type, code, checksum } : { type, code, checksum, checksumValid };
  let message: Icmpv6Message;
  switch (type) {
    case Icmpv6Type.ECHO_REQUEST:
    case Icmpv6Type.ECHO_REPLY:
      message = {
        kind: type === Icmpv6Type.ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        ...common,
        identifier: readUint16(bytes, IcmpField.IDENTIFIER.start),
        sequence: readUint16(bytes, IcmpField.SEQUENCE.start),
        data: bytes.subarray(ICMP_HEADER_LENGTH),
      };
      break;
    case Icmpv6Type.DESTINATION_UNREACHABLE:
      message = {
        kind: 'destination-unreachable',
        ...common,
        codeName: icmpv6UnreachableCodeName(code),
        quoted: bytes.subarray(ICMP_HEADER_LENGTH),
      };
      break;
    case Icmpv6Type.PACKET_TOO_BIG:
      message = { kind: 'packet-too-big', ...common, mtu: readUint32(bytes, IcmpField.REST.start), quoted: bytes.subarray(ICMP_HEADER_LENGTH) };
      break;
    case Icmpv6Type.TIME_EXCEEDED:
      message = {
        kind: 'time-exceeded',
        ...common,
        codeName: timeExceededCodeName(6, code),
        quoted: bytes.subarray(ICMP_HEADER_LENGTH),
      };
      break;
    default:
      message = { kind: 'other', ...common, rest: bytes.subarray(IcmpField.REST.start) };
  }
  return { ok: true, value: message };
}

/** The pseudo-header's address bytes when both are IPv6; undefined otherwise (parsers never throw). */
function ipv6PseudoAddresses(pseudo: PseudoHeaderAddresses): { readonly source: Uint8Array; readonly destination: Uint8Array } | undefined {
  try {
    return pseudoHeaderBytes(pseudo, 'ICMPv6', 6);
  } catch {
    return undefined;
  }
}

function icmpv6SumValid(bytes: Uint8Array, source: Uint8Array, destination: Uint8Array): boolean {
  return onesComplementSum(bytes, 0, bytes.length, ipv6PseudoHeaderSum(source, destination, IpProtocol.ICMPV6, bytes.length)) === 0xffff;
}

function icmpv6ChecksumValid(bytes: Uint8Array, pseudo: PseudoHeaderAddresses): boolean {
  const { source, destination } = pseudoHeaderBytes(pseudo, 'ICMPv6', 6);
  return icmpv6SumValid(bytes, source, destination);
}

/**
 * Whether an ICMPv6 message's checksum is correct for the given IPv6
 * addresses. Throws `WireError` if the addresses are not IPv6 (a programmer error).
 *
 * @example
 * ```ts
 * verifyIcmpv6Checksum(message, '::1', '::1');
 * ```
 */
export function verifyIcmpv6Checksum(message: Uint8Array, source: string | Uint8Array, destination: string | Uint8Array): boolean {
  if (message.length < IcmpField.CHECKSUM.end) return false;
  return icmpv6ChecksumValid(message, { source, destination });
}

/**
 * The number of bytes {@link buildIcmpv6Message} writes for `init`.
 *
 * @example
 * ```ts
 * icmpv6MessageLength({ kind: 'echo-request', identifier: 1, sequence: 1 }); // 8
 * ```
 */
export function icmpv6MessageLength(init: Icmpv6MessageInit): number {
  switch (init.kind) {
    case 'echo-request':
    case 'echo-reply':
      return ICMP_HEADER_LENGTH + (init.data?.length ?? 0);
    case 'destination-unreachable':
    case 'packet-too-big':
    case 'time-exceeded':
      return ICMP_HEADER_LENGTH + (init.quoted?.length ?? 0);
    case 'other':
      return 4 + Math.max(4, init.rest?.length ?? 0);
  }
}

/**
 * Builds an ICMPv6 message. With `pseudo` (IPv6 addresses) the checksum is
 * computed over the pseudo-header, unless `keepChecksum`; without it the
 * checksum is `init.checksum` or 0. Throws `WireError` for out-of-range
 * fields or non-IPv6 addresses.
 *
 * @example
 * ```ts
 * const ping6 = buildIcmpv6Message({ kind: 'echo-request', identifier: 7, sequence: 1 }, { source: '::1', destination: '::1' });
 * ```
 */
export function buildIcmpv6Message(init: Icmpv6MessageInit, pseudo: PseudoHeaderAddresses | undefined, options?: BuildOptions): Uint8Array {
  const out = outputBuffer(icmpv6MessageLength(init), options, 'ICMPv6 message');
  const quoted = 'quoted' in init && init.quoted ? { quoted: init.quoted } : {};
  switch (init.kind) {
    case 'echo-request':
    case 'echo-reply':
      writeIcmpBody(out, init.kind === 'echo-request' ? Icmpv6Type.ECHO_REQUEST : Icmpv6Type.ECHO_REPLY, init, 'ICMPv6');
      break;
    case 'destination-unreachable':
      writeIcmpBody(out, Icmpv6Type.DESTINATION_UNREACHABLE, { kind: 'error', code: init.code, word: 0, ...quoted }, 'ICMPv6');
      break;
    case 'packet-too-big':
      writeIcmpBody(
        out,
        Icmpv6Type.PACKET_TOO_BIG,
        { kind: 'error', code: optionalField('ICMPv6 code', init.code, 255, 0), word: checkFieldRange('ICMPv6 MTU', init.mtu, 0xffffffff), ...quoted },
        'ICMPv6',
      );
      break;
    case 'time-exceeded':
      writeIcmpBody(out, Icmpv6Type.TIME_EXCEEDED, { kind: 'error', code: init.code, word: 0, ...quoted }, 'ICMPv6');
      break;
    case 'other':
      writeIcmpBody(out, checkFieldRange('ICMPv6 type', init.type, 255), init, 'ICMPv6');
      break;
  }
  let checksum = optionalField('ICMPv6 checksum', init.checksum, 0xffff, 0);
  if (pseudo && !options?.keepChecksum) {
    const { source, destination } = pseudoHeaderBytes(pseudo, 'ICMPv6', 6);
    checksum = internetChecksum(out, 0, out.length, ipv6PseudoHeaderSum(source, destination, IpProtocol.ICMPV6, out.length));
  }
  writeUint16(out, IcmpField.CHECKSUM.start, checksum);
  return out;
}

/**
 * The original datagram quoted inside an ICMP or ICMPv6 error, parsed
 * leniently: quotes are usually truncated (RFC 792 asks only for the IP
 * header and 8 bytes), so every field past the IP addresses is optional.
 *
 * @module
 */
import { readUint16, readUint32 } from './bytes.js';
import { IcmpType, Icmpv6Type } from './icmp-names.js';
import { IcmpField } from './icmpv4.js';
import { formatIpv4Address, formatIpv6Address } from './ip-address.js';
import { IpProtocol } from './ip-protocol.js';
import { Ipv4Field } from './ipv4.js';
import { Ipv6Field } from './ipv6.js';
import { TcpField } from './tcp.js';
import { wireFail, type WireResult } from './wire-error.js';

/**
 * What a quoted datagram reveals about the probe an ICMP error answers.
 * `protocol` is the upper-layer protocol (after IPv6 extension headers when
 * they fit in the quote); `ttl` is the IPv4 TTL or IPv6 hop limit as the
 * reporting router saw it. Ports need 4 transport bytes, the TCP sequence 8,
 * the ICMP echo identifier and sequence 8 bytes of an echo message.
 *
 * @example
 * ```ts
 * const q = parseQuotedDatagram(message.quoted);
 * if (q.ok && q.value.protocol === IpProtocol.UDP) console.log(q.value.destinationPort);
 * ```
 */
export interface QuotedDatagram {
  readonly family: 4 | 6;
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  readonly ttl?: number;
  /** IPv4 identification of the quoted datagram. */
  readonly identification?: number;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  readonly tcpSequence?: number;
  readonly tcpAcknowledgment?: number;
  readonly tcpFlags?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly icmpIdentifier?: number;
  readonly icmpSequence?: number;
  /** How many bytes of the quoted transport header and data were present. */
  readonly transportLength: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function fillTransport(out: Mutable<QuotedDatagram>, bytes: Uint8Array, start: number): void {
  const available = bytes.length - start;
  out.transportLength = Math.max(0, available);
  const protocol = out.protocol;
  if (protocol === IpProtocol.TCP || protocol === IpProtocol.UDP || protocol === IpProtocol.SCTP) {
    // UDP and SCTP put the ports where TCP does.
    if (available >= TcpField.DESTINATION_PORT.end) {
      out.sourcePort = readUint16(bytes, start + TcpField.SOURCE_PORT.start);
      out.destinationPort = readUint16(bytes, start + TcpField.DESTINATION_PORT.start);
    }
    if (protocol === IpProtocol.TCP) {
      if (available >= TcpField.SEQUENCE.end) out.tcpSequence = readUint32(bytes, start + TcpField.SEQUENCE.start);
      if (available >= TcpField.ACKNOWLEDGMENT.end) out.tcpAcknowledgment = readUint32(bytes, start + TcpField.ACKNOWLEDGMENT.start);
      if (available >= TcpField.DATA_OFFSET_FLAGS.end) {
        const flags = start + TcpField.DATA_OFFSET_FLAGS.start;
        out.tcpFlags = ((bytes[flags]! & 0x0f) << 8) | bytes[flags + 1]!;
      }
    }
  } else if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6) {
    if (available >= IcmpField.CODE.end) {
      out.icmpType = bytes[start + IcmpField.TYPE.start]!;
      out.icmpCode = bytes[start + IcmpField.CODE.start]!;
    }
    const type = out.icmpType;
    const isEcho =
      protocol === IpProtocol.ICMP
        ? type === IcmpType.ECHO_REQUEST || type === IcmpType.ECHO_REPLY
        : type === Icmpv6Type.ECHO_REQUEST || type === Icmpv6Type.ECHO_REPLY;
    if (isEcho && available >= IcmpField.SEQUENCE.end) {
      out.icmpIdentifier = readUint16(bytes, start + IcmpField.IDENTIFIER.start);
      out.icmpSequence = readUint16(bytes, start + IcmpField.SEQUENCE.start);
    }
  }
}

/**
 * Parses the datagram quoted in an ICMP error (`Icmpv4Message.quoted` or
 * `Icmpv6Message.quoted`). Lenient: lengths in the quoted header are not
 * trusted and whatever fits in the quote is reported. Never throws: a quote
 * without a whole IP header gives `TRUNCATED` (layer `quoted`), an unknown
 * version `BAD_VERSION`, an IPv4 IHL below 5 `BAD_HEADER_LENGTH`.
 *
 * @example
 * ```ts
 * const q = parseQuotedDatagram(icmp.quoted);
 * if (q.ok) console.log(q.value.destination, q.value.destinationPort, q.value.tcpSequence);
 * ```
 */
export function parseQuotedDatagram(bytes: Uint8Array): WireResult<QuotedDatagram> {
  if (bytes.length < 1) return wireFail('quoted', 'TRUNCATED', 'quoted datagram is empty', 20, 0);
  // IPv6 has its version in the same high nibble of the first byte.
  const version = bytes[Ipv4Field.VERSION_IHL.start]! >>> 4;
  if (version === 4) {
    if (bytes.length < 20) {
      return wireFail('quoted', 'TRUNCATED', `quoted IPv4 header needs 20 bytes, got ${bytes.length}`, 20, bytes.length);
    }
    const headerLength = (bytes[Ipv4Field.VERSION_IHL.start]! & 0x0f) * 4;
    if (headerLength < 20) {
      return wireFail('quoted', 'BAD_HEADER_LENGTH', `quoted IPv4 header length ${headerLength} is below the minimum of 20`, 20, headerLength);
    }
    const out: Mutable<QuotedDatagram> = {
      family: 4,
      source: formatIpv4Address(bytes, Ipv4Field.SOURCE.start),
      destination: formatIpv4Address(bytes, Ipv4Field.DESTINATION.start),
      protocol: bytes[Ipv4Field.PROTOCOL.start]!,
      ttl: bytes[Ipv4Field.TTL.start]!,
      identification: readUint16(bytes, Ipv4Field.IDENTIFICATION.start),
      transportLength: 0,
    };
    // A fragment other than the first carries no transport header.
    if ((readUint16(bytes, Ipv4Field.FLAGS_FRAGMENT.start) & 0x1fff) === 0 && headerLength <= bytes.length) fillTransport(out, bytes, headerLength);
    return { ok: true, value: out };
  }
  if (version === 6) {
    if (bytes.length < 40) {
      return wireFail('quoted', 'TRUNCATED', `quoted IPv6 header needs 40 bytes, got ${bytes.length}`, 40, bytes.length);
    }
    let protocol = bytes[Ipv6Field.NEXT_HEADER.start]!;
    let offset = 40;
    let firstFragment = true;
    // Walk extension headers as far as the quote allows; stop at the first that does not fit.
    for (;;) {
      if (protocol === IpProtocol.HOPOPT || protocol === IpProtocol.IPV6_ROUTE || protocol === IpProtocol.IPV6_OPTS) {
        if (offset + 2 > bytes.length) break;
        const next = bytes[offset]!;
        offset += (bytes[offset + 1]! + 1) * 8;
        protocol = next;
      } else if (protocol === IpProtocol.IPV6_FRAG) {
        if (offset + 8 > bytes.length) break;
        firstFragment = readUint16(bytes, offset + 2) >>> 3 === 0;
        protocol = bytes[offset]!;
        offset += 8;
      } else {
        break;
      }
    }
    const out: Mutable<QuotedDatagram> = {
      family: 6,
      source: formatIpv6Address(bytes, Ipv6Field.SOURCE.start),
      destination: formatIpv6Address(bytes, Ipv6Field.DESTINATION.start),
      protocol,
      ttl: bytes[Ipv6Field.HOP_LIMIT.start]!,
      transportLength: 0,
    };
    if (firstFragment && offset <= bytes.length) fillTransport(out, bytes, offset);
    return { ok: true, value: out };
  }
  return wireFail('quoted', 'BAD_VERSION', `quoted datagram has IP version ${version}, expected 4 or 6`, 4, version);
}

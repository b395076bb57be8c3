/**
 * The checksum of a reply, checked before it may decide anything: a TCP
 * segment, a UDP datagram (a zero checksum is "none" over IPv4), an ICMP or
 * ICMPv6 message. A reply whose checksum is wrong was corrupted or forged;
 * the raw prober counts it as malformed and the probe goes on as if it had
 * never come.
 *
 * One exception is the kernel's own: Linux hands a raw socket TCP segments and
 * UDP datagrams from senders on this machine (loopback, veth pairs into
 * network namespaces and containers) before their checksum is filled in
 * (checksum offload, `CHECKSUM_PARTIAL`): the field then holds the folded
 * pseudo-header sum, not the checksum. That form is accepted too. A random
 * corruption still passes with a chance of 2 in 65,536 rather than 1; a
 * checksum was never an authentication against a sender who computes it.
 * ICMP and ICMPv6 errors are always checksummed in full by the kernel.
 *
 * @module
 */
import {
  IpProtocol,
  TcpField,
  UdpField,
  foldChecksum,
  onesComplementSum,
  pseudoHeaderSum,
  readUint16,
  verifyIcmpv6Checksum,
  verifyTcpChecksum,
  verifyUdpChecksum,
} from '../wire/index.js';
import type { RawReply } from '../transport/packet-listener.js';

/** Whether the checksum field holds the pseudo-header sum of a send left to offload (over `length` bytes). */
function offloadForm(bytes: Uint8Array, length: number, protocol: number, remote: Uint8Array, local: Uint8Array, at: number): boolean {
  // Ones' complement has two zeros: compare modulo 0xffff.
  return foldChecksum(pseudoHeaderSum(remote, local, protocol, length)) % 0xffff === readUint16(bytes, at) % 0xffff;
}

/**
 * Whether the reply's transport checksum is right. `remote` and `local` are
 * the reply's source and destination (4 or 16 bytes each): the IPv4 header's,
 * or for IPv6 the sender and the source address the scan uses towards it.
 *
 * @example
 * ```ts
 * if (!replyChecksumValid(reply, remote, local)) return; // corrupt or forged: decides nothing
 * ```
 */
export function replyChecksumValid(reply: RawReply, remote: Uint8Array, local: Uint8Array): boolean {
  const bytes = reply.payload;
  switch (reply.protocol) {
    case IpProtocol.TCP:
      return verifyTcpChecksum(bytes, remote, local) || (bytes.length >= 20 && offloadForm(bytes, bytes.length, IpProtocol.TCP, remote, local, TcpField.CHECKSUM.start));
    case IpProtocol.UDP: {
      if (verifyUdpChecksum(bytes, remote, local)) return true;
      const length = bytes.length >= 8 ? readUint16(bytes, UdpField.LENGTH.start) : 0;
      return length >= 8 && length <= bytes.length && offloadForm(bytes, length, IpProtocol.UDP, remote, local, UdpField.CHECKSUM.start);
    }
    case IpProtocol.ICMP:
      return bytes.length >= 8 && onesComplementSum(bytes, 0, bytes.length) === 0xffff;
    case IpProtocol.ICMPV6:
      return bytes.length >= 8 && verifyIcmpv6Checksum(bytes, remote, local);
    default:
      return false;
  }
}

/**
 * nmap's reason words (`nmap --reason`, `portreasons.cc`): why a port has its
 * state or a host its status. They belong to the scan layer; the wire layer
 * only names ICMP types and codes.
 *
 * @module
 */
import { IcmpType, Icmpv6Type } from '../wire/index.js';

/**
 * Every reason a portscout event can carry, with nmap's spelling.
 *
 * | reason | meaning |
 * |---|---|
 * | `syn-ack` | a SYN-ACK came back (open), or a connect succeeded |
 * | `split-handshake-syn` | a bare SYN came back (open) |
 * | `reset` | a RST came back |
 * | `conn-refused` | connect() was refused (closed) |
 * | `udp-response` | a UDP reply (open) |
 * | `no-response` | nothing came back after every retry |
 * | `echo-reply` | an ICMP echo reply (host up) |
 * | `net-unreach`, `host-unreach`, `proto-unreach`, `port-unreach` | ICMP destination unreachable, codes 0-3 |
 * | `net-prohibited`, `host-prohibited`, `admin-prohibited` | ICMP codes 9, 10, 13 (and ICMPv6 codes 1, 5) |
 * | `no-route`, `beyond-scope`, `reject-route` | ICMPv6 destination unreachable codes 0, 2, 6 |
 * | `dest-unreach` | another destination unreachable code |
 * | `source-quench`, `time-exceeded`, `param-problem`, `timestamp-reply`, `addressmask-reply` | other ICMP types |
 * | `unknown-response` | an ICMP type nmap does not name |
 * | `localhost-response` | the target is this machine |
 * | `user-set` | discovery was skipped: the user said the host is up |
 * | `send-error` | the probe never left: the kernel refused every send (state `unknown`) |
 */
export type Reason =
  | 'syn-ack'
  | 'split-handshake-syn'
  | 'reset'
  | 'conn-refused'
  | 'udp-response'
  | 'no-response'
  | 'echo-reply'
  | 'net-unreach'
  | 'host-unreach'
  | 'proto-unreach'
  | 'port-unreach'
  | 'net-prohibited'
  | 'host-prohibited'
  | 'admin-prohibited'
  | 'no-route'
  | 'beyond-scope'
  | 'reject-route'
  | 'dest-unreach'
  | 'source-quench'
  | 'time-exceeded'
  | 'param-problem'
  | 'timestamp-reply'
  | 'addressmask-reply'
  | 'unknown-response'
  | 'localhost-response'
  | 'user-set'
  | 'send-error';

const ICMPV4_UNREACHABLE: Readonly<Record<number, Reason>> = {
  0: 'net-unreach',
  1: 'host-unreach',
  2: 'proto-unreach',
  3: 'port-unreach',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};

const ICMPV6_UNREACHABLE: Readonly<Record<number, Reason>> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'host-unreach',
  4: 'port-unreach',
  5: 'admin-prohibited',
  6: 'reject-route',
};

/**
 * The reason nmap gives an ICMP (`family` 4) or ICMPv6 (`family` 6) reply of
 * `type` and `code`, as `portreasons.cc`'s `icmp_to_reason` does.
 *
 * @example
 * ```ts
 * icmpReason(4, 3, 13); // 'admin-prohibited'
 * icmpReason(6, 1, 4);  // 'port-unreach'
 * icmpReason(4, 11, 0); // 'time-exceeded'
 * ```
 */
export function icmpReason(family: 4 | 6, type: number, code: number): Reason {
  if (family === 4) {
    switch (type) {
      case IcmpType.ECHO_REPLY:
        return 'echo-reply';
      case IcmpType.DESTINATION_UNREACHABLE:
        return ICMPV4_UNREACHABLE[code] ?? 'dest-unreach';
      case IcmpType.SOURCE_QUENCH:
        return 'source-quench';
      case IcmpType.TIME_EXCEEDED:
        return 'time-exceeded';
      case IcmpType.TIMESTAMP_REPLY:
        return 'timestamp-reply';
      case IcmpType.ADDRESS_MASK_REPLY:
        return 'addressmask-reply';
      default:
        return 'unknown-response';
    }
  }
  switch (type) {
    case Icmpv6Type.ECHO_REPLY:
      return 'echo-reply';
    case Icmpv6Type.DESTINATION_UNREACHABLE:
      return ICMPV6_UNREACHABLE[code] ?? 'dest-unreach';
    case Icmpv6Type.PARAMETER_PROBLEM:
      return 'param-problem';
    case Icmpv6Type.TIME_EXCEEDED:
      return 'time-exceeded';
    default:
      return 'unknown-response';
  }
}

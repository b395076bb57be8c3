/**
 * ICMP and ICMPv6 type numbers, code names (IANA registry names, in
 * kebab-case) and nmap's "reason" names for them.
 *
 * @module
 */

/**
 * ICMPv4 message types (RFC 792 and successors).
 *
 * @example
 * ```ts
 * if (message.type === IcmpType.DESTINATION_UNREACHABLE) console.log(message.code);
 * ```
 */
export const IcmpType = {
  ECHO_REPLY: 0,
  DESTINATION_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERTISEMENT: 9,
  ROUTER_SOLICITATION: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP: 13,
  TIMESTAMP_REPLY: 14,
  ADDRESS_MASK_REQUEST: 17,
  ADDRESS_MASK_REPLY: 18,
} as const;

/**
 * ICMPv6 message types (RFC 4443, RFC 4861).
 *
 * @example
 * ```ts
 * buildIcmpv6Message({ kind: 'echo-request', identifier: 1, sequence: 1 }, { source: '::1', destination: '::1' });
 * // type Icmpv6Type.ECHO_REQUEST (128)
 * ```
 */
export const Icmpv6Type = {
  DESTINATION_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

const ICMPV4_UNREACHABLE_NAMES: readonly string[] = [
  'net-unreachable',
  'host-unreachable',
  'protocol-unreachable',
  'port-unreachable',
  'fragmentation-needed',
  'source-route-failed',
  'destination-network-unknown',
  'destination-host-unknown',
  'source-host-isolated',
  'network-administratively-prohibited',
  'host-administratively-prohibited',
  'network-unreachable-for-tos',
  'host-unreachable-for-tos',
  'communication-administratively-prohibited',
  'host-precedence-violation',
  'precedence-cutoff-in-effect',
];

const ICMPV6_UNREACHABLE_NAMES: readonly string[] = [
  'no-route',
  'communication-administratively-prohibited',
  'beyond-scope-of-source-address',
  'address-unreachable',
  'port-unreachable',
  'source-address-failed-policy',
  'reject-route',
  'error-in-source-routing-header',
  'headers-too-long',
];

/**
 * The IANA name of an ICMPv4 destination-unreachable (type 3) code, in
 * kebab-case; `'code-N'` for unassigned codes.
 *
 * @example
 * ```ts
 * icmpv4UnreachableCodeName(3);  // 'port-unreachable'
 * icmpv4UnreachableCodeName(13); // 'communication-administratively-prohibited'
 * ```
 */
export function icmpv4UnreachableCodeName(code: number): string {
  return ICMPV4_UNREACHABLE_NAMES[code] ?? `code-${code}`;
}

/**
 * The IANA name of an ICMPv6 destination-unreachable (type 1) code.
 *
 * @example
 * ```ts
 * icmpv6UnreachableCodeName(4); // 'port-unreachable'
 * ```
 */
export function icmpv6UnreachableCodeName(code: number): string {
  return ICMPV6_UNREACHABLE_NAMES[code] ?? `code-${code}`;
}

/**
 * The name of a time-exceeded code (same codes for ICMPv4 type 11 and ICMPv6 type 3).
 *
 * @example
 * ```ts
 * timeExceededCodeName(4, 0); // 'ttl-exceeded-in-transit'
 * timeExceededCodeName(6, 0); // 'hop-limit-exceeded-in-transit'
 * ```
 */
export function timeExceededCodeName(family: 4 | 6, code: number): string {
  if (code === 0) return family === 4 ? 'ttl-exceeded-in-transit' : 'hop-limit-exceeded-in-transit';
  if (code === 1) return 'fragment-reassembly-time-exceeded';
  return `code-${code}`;
}

/**
 * The reason nmap prints for an ICMP (`family` 4) or ICMPv6 (`family` 6)
 * reply, as in nmap's `portreasons.cc` `icmp_to_reason`. ICMPv4 unreachable
 * codes 0, 1, 2, 3, 9, 10, 13 are `net-unreach`, `host-unreach`,
 * `proto-unreach`, `port-unreach`, `net-prohibited`, `host-prohibited`,
 * `admin-prohibited`; other codes `dest-unreach`. ICMPv6 unreachable codes
 * 0-6 are `no-route`, `admin-prohibited`, `beyond-scope`, `host-unreach`,
 * `port-unreach`, `admin-prohibited`, `reject-route`. Types nmap does not
 * name give `unknown-response`.
 *
 * @example
 * ```ts
 * icmpReasonName(4, 3, 13); // 'admin-prohibited'
 * icmpReasonName(6, 1, 4);  // 'port-unreach'
 * icmpReasonName(4, 11, 0); // 'time-exceeded'
 * ```
 */
export function icmpReasonName(family: 4 | 6, type: number, code: number): string {
  if (family === 4) {
    switch (type) {
      case IcmpType.ECHO_REPLY:
        return 'echo-reply';
      case IcmpType.DESTINATION_UNREACHABLE:
        return ICMPV4_REASONS[code] ?? 'dest-unreach';
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
      return ICMPV6_REASONS[code] ?? 'dest-unreach';
    case Icmpv6Type.PARAMETER_PROBLEM:
      return 'param-problem';
    case Icmpv6Type.TIME_EXCEEDED:
      return 'time-exceeded';
    default:
      return 'unknown-response';
  }
}

const ICMPV4_REASONS: Readonly<Record<number, string>> = {
  0: 'net-unreach',
  1: 'host-unreach',
  2: 'proto-unreach',
  3: 'port-unreach',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};

const ICMPV6_REASONS: Readonly<Record<number, string>> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'host-unreach',
  4: 'port-unreach',
  5: 'admin-prohibited',
  6: 'reject-route',
};

/**
 * ICMP and ICMPv6 type numbers and code names (IANA registry names, in
 * kebab-case). nmap's reason words for them are the scan layer's
 * (`scan/reasons.ts`).
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



/**
 * nmap's reason names for ICMP errors, and what each means for a port.
 *
 * @module
 */

const IPV4_UNREACHABLE: Readonly<Record<number, string>> = {
  0: 'net-unreach',
  1: 'host-unreach',
  2: 'proto-unreach',
  3: 'port-unreach',
  4: 'frag-needed',
  5: 'source-route-failed',
  6: 'net-unknown',
  7: 'host-unknown',
  8: 'host-isolated',
  9: 'net-prohibited',
  10: 'host-prohibited',
  11: 'net-tos-unreach',
  12: 'host-tos-unreach',
  13: 'admin-prohibited',
  14: 'host-precedence-violation',
  15: 'precedence-cutoff',
};

const IPV6_UNREACHABLE: Readonly<Record<number, string>> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'host-unreach',
  4: 'port-unreach',
  5: 'source-addr-failed',
  6: 'reject-route',
};

/**
 * The reason string for an ICMP (type 3) or ICMPv6 (type 1) destination-unreachable code.
 *
 * @example
 * ```ts
 * unreachableReason(4, 13); // 'admin-prohibited'
 * unreachableReason(6, 4);  // 'port-unreach'
 * ```
 */
export function unreachableReason(family: 4 | 6, code: number): string {
  const table = family === 4 ? IPV4_UNREACHABLE : IPV6_UNREACHABLE;
  return table[code] ?? `unreach-code-${code}`;
}

/**
 * Whether an unreachable code says the port itself refused (port unreachable),
 * as opposed to a filter or routing problem.
 *
 * @example
 * ```ts
 * isPortUnreachable(4, 3); // true
 * ```
 */
export function isPortUnreachable(family: 4 | 6, code: number): boolean {
  return family === 4 ? code === 3 : code === 4;
}

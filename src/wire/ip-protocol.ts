/**
 * IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), also used
 * as IPv6 next-header values.
 *
 * @module
 */

/**
 * IP protocol / IPv6 next-header numbers used by portscout.
 *
 * @example
 * ```ts
 * if (header.protocol === IpProtocol.TCP) parseTcpSegment(payload);
 * ```
 */
export const IpProtocol = {
  HOPOPT: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
  SCTP: 132,
} as const;

/**
 * One of the numbers in {@link IpProtocol} (any 0-255 value is valid on the wire).
 *
 * @example
 * ```ts
 * const protocol: IpProtocolNumber = IpProtocol.UDP;
 * ```
 */
export type IpProtocolNumber = (typeof IpProtocol)[keyof typeof IpProtocol];

/**
 * The pure packet layer: builders and dissectors for IPv4, IPv6, ICMP, ICMPv6,
 * TCP and UDP, and the Internet checksum. No I/O, no timers.
 *
 * @module portscout/wire
 */
export {};

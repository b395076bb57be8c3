/**
 * The default blocklist: address blocks a scan of a huge target list must
 * not reach, in zmap's blocklist format (one block per line, `#` comments).
 *
 * Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890 and its updates: RFC 8190 and the registries as of 2026),
 * plus IPv4 and IPv6 multicast (RFC 5771, RFC 4291) and the limited
 * broadcast address (RFC 919). Private-use space (10/8, 172.16/12,
 * 192.168/16, fc00::/7) is in the registries and so in the list: a scan of
 * the whole space must not wander into networks it was not pointed at.
 *
 * @module
 */

/**
 * The default blocklist's text (zmap's format). Applied to target lists of
 * more than {@link BLOCKLIST_THRESHOLD} addresses; its multicast and
 * broadcast blocks ({@link ALWAYS_BLOCKED}) to every list.
 *
 * @example
 * ```ts
 * const blocks = DEFAULT_BLOCKLIST.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
 * ```
 */
export const DEFAULT_BLOCKLIST = `# portscout default blocklist (zmap format). Sources: IANA IPv4/IPv6 Special-Purpose
# Address Registries (RFC 6890 and updates), multicast (RFC 5771, RFC 4291), RFC 919.
0.0.0.0/8          # "this network" (RFC 791)
10.0.0.0/8         # private use (RFC 1918)
100.64.0.0/10      # shared address space (RFC 6598)
127.0.0.0/8        # loopback (RFC 1122)
169.254.0.0/16     # link local (RFC 3927)
172.16.0.0/12      # private use (RFC 1918)
192.0.0.0/24       # IETF protocol assignments (RFC 6890)
192.0.2.0/24       # documentation, TEST-NET-1 (RFC 5737)
192.88.99.0/24     # deprecated 6to4 relay anycast (RFC 7526)
192.168.0.0/16     # private use (RFC 1918)
198.18.0.0/15      # benchmarking (RFC 2544)
198.51.100.0/24    # documentation, TEST-NET-2 (RFC 5737)
203.0.113.0/24     # documentation, TEST-NET-3 (RFC 5737)
224.0.0.0/4        # multicast (RFC 5771)
240.0.0.0/4        # reserved (RFC 1112)
255.255.255.255/32 # limited broadcast (RFC 919)
::/128             # unspecified (RFC 4291)
::1/128            # loopback (RFC 4291)
::ffff:0:0/96      # IPv4-mapped (RFC 4291)
64:ff9b:1::/48     # local-use IPv4/IPv6 translation (RFC 8215)
100::/64           # discard-only (RFC 6666)
2001::/23          # IETF protocol assignments (RFC 2928)
2001:db8::/32      # documentation (RFC 3849)
2002::/16          # 6to4 (RFC 3056)
fc00::/7           # unique local (RFC 4193)
fe80::/10          # link-local unicast (RFC 4291)
ff00::/8           # multicast (RFC 4291)
`;

/**
 * Blocks removed from every target list unless the blocklist is turned off
 * (`blocklist: false`): a probe to them goes to many hosts or none.
 *
 * @example
 * ```ts
 * ALWAYS_BLOCKED.includes('224.0.0.0/4'); // true
 * ```
 */
export const ALWAYS_BLOCKED: readonly string[] = ['224.0.0.0/4', '255.255.255.255/32', 'ff00::/8'];

/**
 * Target lists of more addresses than this (a /8) get the whole default
 * blocklist; smaller ones only {@link ALWAYS_BLOCKED}.
 *
 * @example
 * ```ts
 * const huge = set.count > BLOCKLIST_THRESHOLD;
 * ```
 */
export const BLOCKLIST_THRESHOLD = 2n ** 24n;

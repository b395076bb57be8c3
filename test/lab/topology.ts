/**
 * The fixed addresses and port plan of the namespace lab.
 *
 * Everything here is data; {@link createLab} in `lab.ts` builds it and
 * `ground-truth.ts` derives the expected scan results from it.
 *
 * @module
 */

/**
 * Addresses of the scanner namespace (one leg towards each target).
 *
 * @example
 * ```ts
 * SCANNER_ADDRESSES.ipv4[0]; // '198.18.1.1'
 * ```
 */
export const SCANNER_ADDRESSES = {
  ipv4: ['198.18.1.1', '198.18.2.1'],
  ipv6: ['fd00:1::1', 'fd00:2::1'],
} as const;

/**
 * Addresses of target t1 (services, firewall rules, no loss, no ICMP rate limit).
 *
 * @example
 * ```ts
 * T1_ADDRESSES.extraIpv4.length; // 4
 * ```
 */
export const T1_ADDRESSES = {
  ipv4: ['198.18.1.10'],
  /** Secondary addresses on t1's link: live hosts for the /24 sweep. */
  extraIpv4: ['198.18.1.11', '198.18.1.12', '198.18.1.13', '198.18.1.14'],
  ipv6: ['fd00:1::10'],
} as const;

/**
 * Addresses of target t2 (random loss, default ICMP rate limits, ICMP echo dropped).
 *
 * @example
 * ```ts
 * T2_ADDRESSES.ipv6[0]; // 'fd00:2::10'
 * ```
 */
export const T2_ADDRESSES = {
  ipv4: ['198.18.2.10'],
  ipv6: ['fd00:2::10'],
} as const;

/**
 * The /24 swept by host-discovery tests: t1's link.
 *
 * @example
 * ```ts
 * await runNmap(lab, ['-sn', SWEEP_CIDR]);
 * ```
 */
export const SWEEP_CIDR = '198.18.1.0/24' as const;

/**
 * Prefix lengths of the two links.
 *
 * @example
 * ```ts
 * `${T1_ADDRESSES.ipv4[0]}/${PREFIX_LENGTH.ipv4}`; // '198.18.1.10/24'
 * ```
 */
export const PREFIX_LENGTH = { ipv4: 24, ipv6: 64 } as const;

/**
 * What a target does with packets to one port: the lab's known truth, from which
 * every scan type's expected state follows.
 *
 * - `listening`: a service accepts connections / answers datagrams.
 * - `closed`: nothing listens, no firewall rule (TCP RST / ICMP port unreachable).
 * - `drop`: iptables `-j DROP`.
 * - `reject-admin-prohibited`: `-j REJECT --reject-with icmp-admin-prohibited` (IPv6: `icmp6-adm-prohibited`).
 * - `reject-tcp-reset`: `-j REJECT --reject-with tcp-reset`.
 * - `reject-host-unreachable`: `-j REJECT --reject-with icmp-host-unreachable` (IPv6: `icmp6-addr-unreachable`,
 *   since ICMPv6 has no "host unreachable" code).
 *
 * @example
 * ```ts
 * const b: PortBehaviour = 'reject-admin-prohibited';
 * ```
 */
export type PortBehaviour =
  | 'listening'
  | 'closed'
  | 'drop'
  | 'reject-admin-prohibited'
  | 'reject-tcp-reset'
  | 'reject-host-unreachable';

/**
 * One port of the lab's plan.
 *
 * @example
 * ```ts
 * const p: PlannedPort = { protocol: 'tcp', port: 8081, behaviour: 'drop' };
 * ```
 */
export interface PlannedPort {
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** Port number. */
  readonly port: number;
  /** What the target does with it. */
  readonly behaviour: PortBehaviour;
  /** The program behind a `listening` port (for service detection later). */
  readonly service?: string;
}

/**
 * TCP ports of t1 that the lab declares (everything else on t1 is closed).
 *
 * @example
 * ```ts
 * T1_TCP_PORTS.filter((p) => p.behaviour === 'listening').map((p) => p.port); // [22, 53, 80, 443, 2121, 2525]
 * ```
 */
export const T1_TCP_PORTS: readonly PlannedPort[] = [
  { protocol: 'tcp', port: 22, behaviour: 'listening', service: 'openssh sshd' },
  { protocol: 'tcp', port: 53, behaviour: 'listening', service: 'dnsmasq' },
  { protocol: 'tcp', port: 80, behaviour: 'listening', service: 'nginx (http)' },
  { protocol: 'tcp', port: 443, behaviour: 'listening', service: 'nginx (plain http)' },
  { protocol: 'tcp', port: 2121, behaviour: 'listening', service: 'socat banner "220 portscout-lab FTP ready\\r\\n"' },
  { protocol: 'tcp', port: 2525, behaviour: 'listening', service: 'socat banner "220 lab.test ESMTP\\r\\n"' },
  { protocol: 'tcp', port: 8081, behaviour: 'drop' },
  { protocol: 'tcp', port: 8082, behaviour: 'reject-admin-prohibited' },
  { protocol: 'tcp', port: 8084, behaviour: 'reject-tcp-reset' },
  { protocol: 'tcp', port: 8085, behaviour: 'reject-host-unreachable' },
  { protocol: 'tcp', port: 1, behaviour: 'closed' },
  { protocol: 'tcp', port: 23, behaviour: 'closed' },
  { protocol: 'tcp', port: 8083, behaviour: 'closed' },
];

/**
 * UDP ports of t1 that the lab declares (everything else on t1 is closed).
 *
 * @example
 * ```ts
 * T1_UDP_PORTS.map((p) => p.port); // [53, 7777, 161, 162, 9, 1]
 * ```
 */
export const T1_UDP_PORTS: readonly PlannedPort[] = [
  { protocol: 'udp', port: 53, behaviour: 'listening', service: 'dnsmasq (answers lab.test)' },
  { protocol: 'udp', port: 7777, behaviour: 'listening', service: 'node dgram responder: answers any datagram, even empty, with "pong\\n"' },
  { protocol: 'udp', port: 161, behaviour: 'reject-admin-prohibited' },
  { protocol: 'udp', port: 162, behaviour: 'drop' },
  { protocol: 'udp', port: 9, behaviour: 'closed' },
  { protocol: 'udp', port: 1, behaviour: 'closed' },
];

/**
 * TCP ports of t2 that the lab declares (everything else on t2 is closed).
 *
 * @example
 * ```ts
 * T2_TCP_PORTS.filter((p) => p.behaviour === 'listening').length; // 3
 * ```
 */
export const T2_TCP_PORTS: readonly PlannedPort[] = [
  { protocol: 'tcp', port: 22, behaviour: 'listening', service: 'socat banner "SSH-2.0-portscout-lab\\r\\n"' },
  { protocol: 'tcp', port: 80, behaviour: 'listening', service: 'nginx (http)' },
  { protocol: 'tcp', port: 443, behaviour: 'listening', service: 'socat (silent)' },
  { protocol: 'tcp', port: 1, behaviour: 'closed' },
  { protocol: 'tcp', port: 23, behaviour: 'closed' },
  { protocol: 'tcp', port: 8081, behaviour: 'closed' },
];

/**
 * UDP ports of t2 that the lab declares (nothing listens on UDP in t2).
 *
 * @example
 * ```ts
 * T2_UDP_PORTS.every((p) => p.behaviour === 'closed'); // true
 * ```
 */
export const T2_UDP_PORTS: readonly PlannedPort[] = [
  { protocol: 'udp', port: 53, behaviour: 'closed' },
  { protocol: 'udp', port: 9, behaviour: 'closed' },
  { protocol: 'udp', port: 161, behaviour: 'closed' },
];

/**
 * Banners of the socat listeners.
 *
 * @example
 * ```ts
 * expect(firstBytes).toBe(BANNERS.ftp2121);
 * ```
 */
export const BANNERS = {
  ftp2121: '220 portscout-lab FTP ready\r\n',
  smtp2525: '220 lab.test ESMTP\r\n',
  ssh22t2: 'SSH-2.0-portscout-lab\r\n',
} as const;

/**
 * Reply of the UDP 7777 service to any datagram.
 *
 * @example
 * ```ts
 * expect(reply.toString()).toBe(UDP_7777_REPLY);
 * ```
 */
export const UDP_7777_REPLY = 'pong\n';

/**
 * Name dnsmasq answers on t1 (A 198.18.1.10, AAAA fd00:1::10).
 *
 * @example
 * ```ts
 * LAB_DNS_NAME; // 'lab.test'
 * ```
 */
export const LAB_DNS_NAME = 'lab.test';

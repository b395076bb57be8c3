/**
 * The lab's known ground truth: for every declared host and port, the state and
 * reason each scan type must report, in nmap's words.
 *
 * The strings below are the ones nmap 7.93 printed in this lab (observed with
 * `-oX`, IPv4 and IPv6, run by `lab.test.ts`); portscout's scanners must use the same:
 *
 * | target does                          | -sS                     | -sT                                   | -sA                     | -sF                        | -sU                      |
 * |--------------------------------------|-------------------------|---------------------------------------|-------------------------|----------------------------|--------------------------|
 * | listening                            | open syn-ack            | open syn-ack                          | unfiltered reset        | open\|filtered no-response | open udp-response        |
 * | closed (nothing listens)             | closed reset            | closed conn-refused                   | unfiltered reset        | closed reset               | closed port-unreach      |
 * | DROP                                 | filtered no-response    | filtered no-response                  | filtered no-response    | open\|filtered no-response | open\|filtered no-response |
 * | REJECT icmp-admin-prohibited         | filtered admin-prohibited | filtered host-unreach (v4) / admin-prohibited (v6) | filtered admin-prohibited | filtered admin-prohibited | filtered admin-prohibited |
 * | REJECT tcp-reset                     | closed reset            | closed conn-refused                   | unfiltered reset        | closed reset               | (TCP only)               |
 * | REJECT icmp-host-unreachable (v6: icmp6-addr-unreachable) | filtered host-unreach | filtered host-unreach | filtered host-unreach | filtered host-unreach | (TCP only) |
 *
 * - `-sT` reports what `connect()` said: Linux turns ICMP "communication
 *   administratively prohibited" (type 3 code 13) into `EHOSTUNREACH`, so nmap says
 *   `host-unreach` for IPv4; ICMPv6 "administratively prohibited" becomes `EACCES`,
 *   which nmap calls `admin-prohibited`.
 * - ICMPv6 has no "host unreachable"; `icmp6-addr-unreachable` (type 1 code 3) is
 *   reported as `host-unreach` by nmap, like ICMP type 3 code 1.
 * - Host discovery (`-sn`) reasons: `arp-response` (IPv4 on the link), `nd-response`
 *   (IPv6 on the link), `localhost-response` (the scanner's own addresses, which
 *   nmap reports up when a sweep includes them), `echo-reply` (ICMP echo with
 *   `--disable-arp-ping -PE`), `syn-ack` / `reset` (TCP SYN ping `-PS`).
 *   Port-scan reasons with a reply carry that reply's TTL (`reason_ttl="64"`);
 *   `-sT` and `no-response` results carry 0.
 *
 * Where nmap is not a usable oracle the entry says so (`nmapReliable: false`):
 * t2 keeps Linux's default ICMP rate limit (one destination-unreachable per
 * second per peer after a burst), under which nmap -sU reports closed UDP ports
 * as `open|filtered` once more than a handful are probed; and t2's random loss
 * makes nmap slow and, for ports it gives up on, wrong. The truth there is the
 * lab's configuration, given here.
 *
 * @module
 */
import {
  SCANNER_ADDRESSES,
  SWEEP_CIDR,
  T1_ADDRESSES,
  T1_TCP_PORTS,
  T1_UDP_PORTS,
  T2_ADDRESSES,
  T2_TCP_PORTS,
  T2_UDP_PORTS,
  type PlannedPort,
  type PortBehaviour,
} from './topology.js';

/**
 * Scan types the ground truth covers, named after nmap's `-sS`, `-sT`, `-sA`, `-sF`, `-sU`.
 *
 * @example
 * ```ts
 * const scan: LabScanType = 'syn';
 * ```
 */
export type LabScanType = 'syn' | 'connect' | 'ack' | 'fin' | 'udp';

/**
 * nmap's flag for each {@link LabScanType}.
 *
 * @example
 * ```ts
 * await runNmap(lab, [NMAP_SCAN_FLAG.fin, '-p', '22', lab.t1.ipv4[0]]);
 * ```
 */
export const NMAP_SCAN_FLAG: Readonly<Record<LabScanType, string>> = {
  syn: '-sS',
  connect: '-sT',
  ack: '-sA',
  fin: '-sF',
  udp: '-sU',
};

/**
 * A port state and reason in nmap's words.
 *
 * @example
 * ```ts
 * const e: ExpectedResult | undefined = expectedPort(lab.groundTruth, lab.t1.ipv4[0], 'tcp', 22, 'syn'); // open syn-ack
 * ```
 */
export interface ExpectedResult {
  /** `open`, `closed`, `filtered`, `unfiltered`, `open|filtered`. */
  readonly state: string;
  /** nmap's reason string, e.g. `syn-ack`, `reset`, `no-response`, `admin-prohibited`. */
  readonly reason: string;
  /** `false` where nmap is known not to report this (rate limits, loss); the lab's truth applies. */
  readonly nmapReliable: boolean;
  /** Why nmap is not reliable here, when it is not. */
  readonly note?: string;
}

/**
 * Address family of a lab address.
 *
 * @example
 * ```ts
 * const family: LabFamily = 'ipv6';
 * ```
 */
export type LabFamily = 'ipv4' | 'ipv6';

/**
 * One declared port of one target address.
 *
 * @example
 * ```ts
 * const filtered = lab.groundTruth.ports.filter((p: GroundTruthPort) => p.behaviour === 'drop');
 * ```
 */
export interface GroundTruthPort {
  /** Which target. */
  readonly target: 't1' | 't2';
  /** The target address. */
  readonly address: string;
  /** Its family. */
  readonly family: LabFamily;
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** Port number. */
  readonly port: number;
  /** What the target does with packets to this port. */
  readonly behaviour: PortBehaviour;
  /** The service behind a listening port. */
  readonly service?: string;
  /** Expected result per scan type (`syn`/`connect`/`ack`/`fin` for TCP, `udp` for UDP). */
  readonly expected: Readonly<Partial<Record<LabScanType, ExpectedResult>>>;
}

/**
 * One host of the lab as host discovery must see it.
 *
 * @example
 * ```ts
 * const noEcho = lab.groundTruth.hosts.filter((h: GroundTruthHost) => !h.answersEcho); // t2
 * ```
 */
export interface GroundTruthHost {
  /** Role. */
  readonly target: 'scanner' | 't1' | 't2';
  /** Address. */
  readonly address: string;
  /** Family. */
  readonly family: LabFamily;
  /** Whether it answers ICMP/ICMPv6 echo requests (t2 drops them). */
  readonly answersEcho: boolean;
  /** Reason nmap -sn gives on the directly attached link (`arp-response`, `nd-response`, `localhost-response`). */
  readonly linkDiscoveryReason: 'arp-response' | 'nd-response' | 'localhost-response';
}

/**
 * Everything the lab promises, as data for tests.
 *
 * @example
 * ```ts
 * const gt: GroundTruth = lab.groundTruth;
 * ```
 */
export interface GroundTruth {
  /** Declared ports of every target address (IPv4 and IPv6). */
  readonly ports: readonly GroundTruthPort[];
  /** Every live address, scanner included. */
  readonly hosts: readonly GroundTruthHost[];
  /** The /24 sweep: live target addresses, and the scanner's own address inside it. */
  readonly sweep: { readonly cidr: string; readonly live: readonly string[]; readonly scannerOwn: string };
  /** Probability of loss on t2, each way. */
  readonly t2Loss: number;
}

const ADMIN_CONNECT_V4: ExpectedResult = {
  state: 'filtered',
  reason: 'host-unreach',
  nmapReliable: true,
  note: 'connect() gets EHOSTUNREACH for ICMP admin-prohibited on IPv4',
};

/**
 * Expected state and reason for a behaviour under one scan type, in the
 * absence of loss and rate limits. `undefined` when the scan type does not
 * apply (a UDP scan of a TCP-only rule).
 *
 * @example
 * ```ts
 * expectedResult('drop', 'tcp', 'fin', 'ipv4'); // { state: 'open|filtered', reason: 'no-response', nmapReliable: true }
 * ```
 */
export function expectedResult(behaviour: PortBehaviour, protocol: 'tcp' | 'udp', scan: LabScanType, family: LabFamily): ExpectedResult | undefined {
  const r = (state: string, reason: string): ExpectedResult => ({ state, reason, nmapReliable: true });
  if (protocol === 'udp') {
    if (scan !== 'udp') return undefined;
    switch (behaviour) {
      case 'listening':
        return r('open', 'udp-response');
      case 'closed':
        return r('closed', 'port-unreach');
      case 'drop':
        return r('open|filtered', 'no-response');
      case 'reject-admin-prohibited':
        return r('filtered', 'admin-prohibited');
      case 'reject-host-unreachable':
        return r('filtered', 'host-unreach');
      case 'reject-tcp-reset':
        return undefined;
    }
  }
  if (scan === 'udp') return undefined;
  switch (behaviour) {
    case 'listening':
      return { syn: r('open', 'syn-ack'), connect: r('open', 'syn-ack'), ack: r('unfiltered', 'reset'), fin: r('open|filtered', 'no-response') }[scan];
    case 'closed':
    case 'reject-tcp-reset':
      return { syn: r('closed', 'reset'), connect: r('closed', 'conn-refused'), ack: r('unfiltered', 'reset'), fin: r('closed', 'reset') }[scan];
    case 'drop':
      return { syn: r('filtered', 'no-response'), connect: r('filtered', 'no-response'), ack: r('filtered', 'no-response'), fin: r('open|filtered', 'no-response') }[scan];
    case 'reject-admin-prohibited':
      if (scan === 'connect') return family === 'ipv4' ? ADMIN_CONNECT_V4 : r('filtered', 'admin-prohibited');
      return r('filtered', 'admin-prohibited');
    case 'reject-host-unreachable':
      return r('filtered', 'host-unreach');
  }
}

const TCP_SCANS: readonly LabScanType[] = ['syn', 'connect', 'ack', 'fin'];

function portEntries(target: 't1' | 't2', address: string, family: LabFamily, plan: readonly PlannedPort[], loss: number): GroundTruthPort[] {
  return plan.map((p) => {
    const expected: Partial<Record<LabScanType, ExpectedResult>> = {};
    for (const scan of p.protocol === 'tcp' ? TCP_SCANS : (['udp'] as const)) {
      let e = expectedResult(p.behaviour, p.protocol, scan, family);
      if (e === undefined) continue;
      if (target === 't2' && p.protocol === 'udp' && p.behaviour === 'closed') {
        e = { ...e, nmapReliable: false, note: 't2 keeps the default ICMP rate limit: nmap -sU reports rate-limited closed ports as open|filtered' };
      } else if (target === 't2' && loss > 0) {
        e = { ...e, nmapReliable: false, note: `t2 drops ${loss * 100}% of packets each way: nmap may give up on a port (and -p- takes minutes)` };
      }
      expected[scan] = e;
    }
    return {
      target,
      address,
      family,
      protocol: p.protocol,
      port: p.port,
      behaviour: p.behaviour,
      ...(p.service !== undefined ? { service: p.service } : {}),
      expected,
    };
  });
}

/**
 * Builds the ground truth of a lab with the given loss on t2.
 *
 * @example
 * ```ts
 * const gt = buildGroundTruth({ loss: 0.1 });
 * gt.ports.filter((p) => p.address === '198.18.1.10' && p.protocol === 'tcp').length; // 13
 * ```
 */
export function buildGroundTruth(opts: { readonly loss: number }): GroundTruth {
  const ports: GroundTruthPort[] = [];
  for (const [family, address] of [['ipv4', T1_ADDRESSES.ipv4[0]], ['ipv6', T1_ADDRESSES.ipv6[0]]] as const) {
    ports.push(...portEntries('t1', address, family, [...T1_TCP_PORTS, ...T1_UDP_PORTS], opts.loss));
  }
  for (const [family, address] of [['ipv4', T2_ADDRESSES.ipv4[0]], ['ipv6', T2_ADDRESSES.ipv6[0]]] as const) {
    ports.push(...portEntries('t2', address, family, [...T2_TCP_PORTS, ...T2_UDP_PORTS], opts.loss));
  }
  const hosts: GroundTruthHost[] = [
    ...SCANNER_ADDRESSES.ipv4.map((address) => ({ target: 'scanner' as const, address, family: 'ipv4' as const, answersEcho: true, linkDiscoveryReason: 'localhost-response' as const })),
    ...SCANNER_ADDRESSES.ipv6.map((address) => ({ target: 'scanner' as const, address, family: 'ipv6' as const, answersEcho: true, linkDiscoveryReason: 'localhost-response' as const })),
    ...[...T1_ADDRESSES.ipv4, ...T1_ADDRESSES.extraIpv4].map((address) => ({ target: 't1' as const, address, family: 'ipv4' as const, answersEcho: true, linkDiscoveryReason: 'arp-response' as const })),
    ...T1_ADDRESSES.ipv6.map((address) => ({ target: 't1' as const, address, family: 'ipv6' as const, answersEcho: true, linkDiscoveryReason: 'nd-response' as const })),
    ...T2_ADDRESSES.ipv4.map((address) => ({ target: 't2' as const, address, family: 'ipv4' as const, answersEcho: false, linkDiscoveryReason: 'arp-response' as const })),
    ...T2_ADDRESSES.ipv6.map((address) => ({ target: 't2' as const, address, family: 'ipv6' as const, answersEcho: false, linkDiscoveryReason: 'nd-response' as const })),
  ];
  return {
    ports,
    hosts,
    sweep: { cidr: SWEEP_CIDR, live: [...T1_ADDRESSES.ipv4, ...T1_ADDRESSES.extraIpv4], scannerOwn: SCANNER_ADDRESSES.ipv4[0] },
    t2Loss: opts.loss,
  };
}

/**
 * Expected result of one port of one address under one scan type. Ports the lab
 * does not declare are closed (no service, no rule) on every target.
 *
 * @example
 * ```ts
 * expectedPort(lab.groundTruth, '198.18.1.10', 'tcp', 8082, 'syn'); // filtered admin-prohibited
 * expectedPort(lab.groundTruth, '198.18.1.10', 'tcp', 4444, 'syn'); // closed reset
 * ```
 */
export function expectedPort(gt: GroundTruth, address: string, protocol: 'tcp' | 'udp', port: number, scan: LabScanType): ExpectedResult | undefined {
  const declared = gt.ports.find((p) => p.address === address && p.protocol === protocol && p.port === port);
  if (declared) return declared.expected[scan];
  const host = gt.hosts.find((h) => h.address === address);
  if (host === undefined || host.target === 'scanner') return undefined;
  const e = expectedResult('closed', protocol, scan, host.family);
  if (e === undefined || host.target !== 't2') return e;
  if (protocol === 'udp') return { ...e, nmapReliable: false, note: 't2 keeps the default ICMP rate limit' };
  return gt.t2Loss > 0 ? { ...e, nmapReliable: false, note: `t2 drops ${gt.t2Loss * 100}% of packets each way` } : e;
}

/**
 * Declared ports of one address and protocol (port numbers, ascending).
 *
 * @example
 * ```ts
 * declaredPorts(lab.groundTruth, '198.18.1.10', 'udp'); // [1, 9, 53, 161, 162, 7777]
 * ```
 */
export function declaredPorts(gt: GroundTruth, address: string, protocol: 'tcp' | 'udp'): number[] {
  return gt.ports
    .filter((p) => p.address === address && p.protocol === protocol)
    .map((p) => p.port)
    .sort((a, b) => a - b);
}

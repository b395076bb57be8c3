/**
 * Passive OS hints: what the replies a scan already has say about a host's
 * operating system, with no packet of their own. The rules are portscout's
 * own small table of documented, measured facts (each has a test):
 *
 * | evidence | rule | families | weight |
 * |---|---|---|---|
 * | initial TTL (observed TTL rounded up to 32, 64, 128, 255) | 64: Linux and Unix kernels start at 64 (RFC 1700's default) | Linux, BSD/macOS | 1 |
 * | | 128: Windows starts at 128 | Windows | 2 |
 * | | 255: Cisco IOS, Solaris and most routers start at 255 | network device | 1 |
 * | SYN/ACK options (nmap's letters) | MSS, SACK, timestamps, no-op, window scale (`M…ST11NW…`): Linux's order | Linux | 2 |
 * | | MSS, no-op, window scale, no-ops, SACK, no timestamps (`M…NW…NNS`): Windows' default | Windows | 2 |
 * | | MSS, no-op, window scale, SACK, timestamps (`M…NW…ST11`): FreeBSD's; with no-ops before the timestamps, macOS's | BSD/macOS | 2 |
 * | SYN/ACK window (unscaled) | 65160, 29200, 28960, 14600, 5840: multiples of Linux's MSS-based initial window | Linux | 1 |
 * | | 8192: Windows Vista to Server 2012 | Windows | 1 |
 * | service detection | `osType` of a match (Linux, Windows, FreeBSD, ...) | that family | 3 |
 * | | an OS CPE (`cpe:/o:linux`, `cpe:/o:microsoft`, `cpe:/o:freebsd`, `cpe:/o:apple`, `cpe:/o:cisco`) | that family | 3 |
 * | | a device type of a router, switch, firewall or WAP | network device | 2 |
 *
 * The hint is the family with the most weight; its confidence is its share of
 * the weight, scaled down while the total is under 4 (a single TTL is a weak
 * hint). p0f's database and OpenBSD's `pf.os` informed the facts; nothing is
 * copied from either.
 *
 * @module
 */
import type { ScanEvent } from '../scan/index.js';
import { initialTtlGuess } from './os-fingerprint.js';

/**
 * The families a hint can name.
 *
 * @example
 * ```ts
 * const family: OsFamily = 'Linux';
 * ```
 */
export type OsFamily = 'Linux' | 'Windows' | 'BSD/macOS' | 'network device';

/**
 * One piece of evidence and what it points to.
 *
 * @example
 * ```ts
 * const e: OsEvidence = { source: 'ttl', detail: 'initial TTL 128 (observed 121)', families: ['Windows'], weight: 2 };
 * ```
 */
export interface OsEvidence {
  readonly source: 'ttl' | 'tcp-options' | 'window' | 'service';
  readonly detail: string;
  readonly families: readonly OsFamily[];
  readonly weight: number;
}

/**
 * A host's passive OS hint.
 *
 * @example
 * ```ts
 * const hint: OsHint = { family: 'Linux', confidence: 0.8, evidence: [...] };
 * ```
 */
export interface OsHint {
  readonly family: OsFamily;
  /** 0..1: the family's share of the evidence's weight, scaled down while the total weight is under 4. */
  readonly confidence: number;
  readonly evidence: readonly OsEvidence[];
}

/** What a hint is built from; every field is optional. */
export interface PassiveOsEvidence {
  /** TTL of a reply from the host (IPv4). */
  readonly ttl?: number;
  /** Window of a SYN/ACK from the host. */
  readonly window?: number;
  /** A SYN/ACK's options in nmap's letters (`PortEvent.tcpOptions`). */
  readonly tcpOptions?: string;
  /** What service detection matched on the host's ports. */
  readonly services?: readonly { readonly osType?: string; readonly deviceType?: string; readonly cpe?: readonly string[] }[];
}

const LINUX_WINDOWS = new Set([65160, 29200, 28960, 14600, 5840]);
const NETWORK_DEVICES = /router|switch|firewall|WAP|broadband|load balancer/i;

/** The family an `osType` names (nmap's words: `Linux`, `Windows`, `FreeBSD`, `Mac OS X`, `iOS`, Cisco's `IOS`, ...). */
function familyOfName(text: string): OsFamily | undefined {
  if (/\bIOS\b|cisco|junos|routeros|fortios/i.test(text) && !/\biOS\b/.test(text)) return 'network device';
  if (/linux|android/i.test(text)) return 'Linux';
  if (/windows|microsoft/i.test(text)) return 'Windows';
  if (/bsd|mac ?os|apple|darwin|\biOS\b/i.test(text)) return 'BSD/macOS';
  return undefined;
}

const CPE_FAMILIES: readonly [string, OsFamily][] = [
  ['cpe:/o:linux', 'Linux'],
  ['cpe:/o:microsoft', 'Windows'],
  ['cpe:/o:freebsd', 'BSD/macOS'],
  ['cpe:/o:openbsd', 'BSD/macOS'],
  ['cpe:/o:netbsd', 'BSD/macOS'],
  ['cpe:/o:apple', 'BSD/macOS'],
  ['cpe:/o:cisco', 'network device'],
  ['cpe:/o:juniper', 'network device'],
];

/**
 * The evidence in what a scan saw of one host, rule by rule.
 *
 * @example
 * ```ts
 * osEvidence({ ttl: 57, tcpOptions: 'M5B4ST11NW7' }); // TTL 64 and Linux's option order
 * ```
 */
export function osEvidence(seen: PassiveOsEvidence): OsEvidence[] {
  const evidence: OsEvidence[] = [];
  if (seen.ttl !== undefined && seen.ttl > 0) {
    const initial = initialTtlGuess(seen.ttl);
    const detail = `initial TTL ${initial} (observed ${seen.ttl})`;
    if (initial === 64) evidence.push({ source: 'ttl', detail, families: ['Linux', 'BSD/macOS'], weight: 1 });
    else if (initial === 128) evidence.push({ source: 'ttl', detail, families: ['Windows'], weight: 2 });
    else if (initial === 255) evidence.push({ source: 'ttl', detail, families: ['network device'], weight: 1 });
  }
  const options = seen.tcpOptions;
  if (options) {
    const detail = `SYN/ACK options ${options}`;
    if (/^M[0-9A-F]+ST[01]{2}NW[0-9A-F]+$/.test(options)) evidence.push({ source: 'tcp-options', detail, families: ['Linux'], weight: 2 });
    else if (/^M[0-9A-F]+NW[0-9A-F]+NNS$/.test(options)) evidence.push({ source: 'tcp-options', detail, families: ['Windows'], weight: 2 });
    else if (/^M[0-9A-F]+NW[0-9A-F]+(ST[01]{2}|NNT[01]{2}S)L*$/.test(options)) evidence.push({ source: 'tcp-options', detail, families: ['BSD/macOS'], weight: 2 });
  }
  if (seen.window !== undefined) {
    if (LINUX_WINDOWS.has(seen.window)) evidence.push({ source: 'window', detail: `SYN/ACK window ${seen.window}`, families: ['Linux'], weight: 1 });
    else if (seen.window === 8192) evidence.push({ source: 'window', detail: 'SYN/ACK window 8192', families: ['Windows'], weight: 1 });
  }
  for (const service of seen.services ?? []) {
    const byType = service.osType ? familyOfName(service.osType) : undefined;
    if (byType) evidence.push({ source: 'service', detail: `service OS type ${service.osType}`, families: [byType], weight: 3 });
    for (const cpe of service.cpe ?? []) {
      const family = CPE_FAMILIES.find(([prefix]) => cpe.startsWith(prefix))?.[1];
      if (family) evidence.push({ source: 'service', detail: `service CPE ${cpe}`, families: [family], weight: 3 });
    }
    if (service.deviceType && NETWORK_DEVICES.test(service.deviceType)) evidence.push({ source: 'service', detail: `service device type ${service.deviceType}`, families: ['network device'], weight: 2 });
  }
  return evidence;
}

/**
 * A passive OS hint from what a scan saw of one host, or undefined when
 * nothing points anywhere.
 *
 * @example
 * ```ts
 * passiveOsHint({ ttl: 64, window: 65160, tcpOptions: 'M5B4ST11NW7' }); // { family: 'Linux', confidence: 0.9, evidence: [...] }
 * ```
 */
export function passiveOsHint(seen: PassiveOsEvidence): OsHint | undefined {
  const evidence = osEvidence(seen);
  if (evidence.length === 0) return undefined;
  const scores = new Map<OsFamily, number>();
  let total = 0;
  for (const e of evidence) {
    total += e.weight;
    for (const family of e.families) scores.set(family, (scores.get(family) ?? 0) + e.weight / e.families.length);
  }
  let best: OsFamily | undefined;
  let bestScore = 0;
  for (const [family, score] of scores) {
    if (score > bestScore) {
      best = family;
      bestScore = score;
    }
  }
  if (!best) return undefined;
  const confidence = Math.round((bestScore / total) * Math.min(1, total / 4) * 100) / 100;
  return { family: best, confidence, evidence };
}

/**
 * Gathers, per host, the evidence in a stream's events: the first TTL of a
 * reply, the window and options of the first SYN/ACK, and the service
 * matches. Feed each to {@link passiveOsHint}.
 *
 * @example
 * ```ts
 * const seen = new Map<string, PassiveOsEvidence>();
 * for await (const event of detectServices({ from: tcpSynScan({ targets, tcpOptions: true }) })) notePassiveEvidence(seen, event);
 * for (const [address, evidence] of seen) console.log(address, passiveOsHint(evidence)?.family);
 * ```
 */
export function notePassiveEvidence(seen: Map<string, PassiveOsEvidence>, event: ScanEvent | { readonly type: 'service'; readonly address: string; readonly osType?: string; readonly deviceType?: string; readonly cpe?: readonly string[] }): void {
  if (event.type !== 'port' && event.type !== 'host' && event.type !== 'service') return;
  const current = seen.get(event.address) ?? {};
  if (event.type === 'service') {
    const { osType, deviceType, cpe } = event;
    seen.set(event.address, { ...current, services: [...(current.services ?? []), { ...(osType ? { osType } : {}), ...(deviceType ? { deviceType } : {}), ...(cpe ? { cpe } : {}) }] });
    return;
  }
  const next: { -readonly [K in keyof PassiveOsEvidence]: PassiveOsEvidence[K] } = { ...current };
  if (next.ttl === undefined && event.ttl !== undefined) next.ttl = event.ttl;
  if (event.type === 'port' && event.state === 'open' && event.protocol === 'tcp' && event.method === 'syn') {
    if (next.window === undefined && event.window !== undefined) next.window = event.window;
    if (next.tcpOptions === undefined && event.tcpOptions !== undefined) next.tcpOptions = event.tcpOptions;
  }
  seen.set(event.address, next);
}

/**
 * The nmap oracle: runs nmap inside the lab's scanner namespace and reads its
 * XML output (`-oX -`) into plain objects.
 *
 * @module
 */
import type { Lab } from './lab.js';
import { childNamed, childrenNamed, parseXml, type XmlElement } from './xml.js';

export { comparePortStates, type ComparablePort, type ScannedPorts } from './port-compare.js';

/**
 * One port nmap listed individually.
 *
 * @example
 * ```ts
 * const open = host.ports.filter((p: NmapPort) => p.state === 'open');
 * ```
 */
export interface NmapPort {
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** Port number. */
  readonly port: number;
  /** nmap's state: `open`, `closed`, `filtered`, `unfiltered`, `open|filtered`, `closed|filtered`. */
  readonly state: string;
  /** nmap's reason, e.g. `syn-ack`, `reset`, `no-response`, `admin-prohibited`, `port-unreach`, `udp-response`. */
  readonly reason: string;
  /** TTL of the reply that decided the state (absent or 0 when there was none). */
  readonly reasonTtl?: number;
  /** Service name from nmap-services (`method="table"`) or from -sV. */
  readonly service?: string;
}

/**
 * Reasons of the ports nmap folded into one `<extraports>` group.
 *
 * @example
 * ```ts
 * const resets = host.extraPorts[0]?.reasons.find((r: NmapExtraReason) => r.reason === 'reset')?.count;
 * ```
 */
export interface NmapExtraReason {
  /** The reason, singular as in `<port>` elements (nmap writes `resets`, `no-responses`; the plural is removed). */
  readonly reason: string;
  /** How many ports had it. */
  readonly count: number;
  /** Protocol, when nmap says (nmap ≥ 7.92 does). */
  readonly protocol?: 'tcp' | 'udp';
}

/**
 * Ports nmap did not list one by one because they share a state.
 *
 * @example
 * ```ts
 * const closed = host.extraPorts.find((e: NmapExtraPorts) => e.state === 'closed')?.count ?? 0;
 * ```
 */
export interface NmapExtraPorts {
  /** The common state. */
  readonly state: string;
  /** How many ports. */
  readonly count: number;
  /** Per-reason counts. */
  readonly reasons: NmapExtraReason[];
}

/**
 * One host of an nmap run.
 *
 * @example
 * ```ts
 * const host: NmapHost | undefined = findHost(run, '198.18.1.10');
 * ```
 */
export interface NmapHost {
  /** IP address (canonical text). */
  readonly address: string;
  /** Address family. */
  readonly addrtype: 'ipv4' | 'ipv6';
  /** MAC address when nmap saw one (targets on a directly attached link). */
  readonly mac?: string;
  /** Host state. */
  readonly status: 'up' | 'down';
  /** Why nmap thinks so, e.g. `arp-response`, `nd-response`, `echo-reply`, `syn-ack`, `localhost-response`, `user-set`. */
  readonly reason: string;
  /** TTL of the reply that decided the host state. */
  readonly reasonTtl?: number;
  /** Ports listed one by one. */
  readonly ports: NmapPort[];
  /** Ports folded into groups by common state. */
  readonly extraPorts: NmapExtraPorts[];
}

/**
 * A parsed nmap run.
 *
 * @example
 * ```ts
 * const run: NmapRun = await runNmap(lab, ['-sn', lab.sweep.cidr]);
 * ```
 */
export interface NmapRun {
  /** The arguments given to {@link runNmap} (without the ones it adds). */
  readonly args: readonly string[];
  /** nmap's own `<finished elapsed>` figure, in seconds. */
  readonly elapsedSeconds: number;
  /** Hosts nmap reported (nmap omits down hosts unless asked for them). */
  readonly hosts: NmapHost[];
  /** `<runstats><hosts up down total>` figures. */
  readonly hostCounts: { readonly up: number; readonly down: number; readonly total: number };
  /** The raw XML, for diagnostics. */
  readonly xml: string;
}

/**
 * Options of {@link runNmap}.
 *
 * @example
 * ```ts
 * await runNmap(lab, ['-sU', '-p', '53', lab.t1.ipv4[0]], { timeoutMs: 30_000 } satisfies RunNmapOptions);
 * ```
 */
export interface RunNmapOptions {
  /** Kill nmap after this many milliseconds. Default 120 000. */
  readonly timeoutMs?: number;
}

/**
 * Runs `nmap -oX - -n <args>` in the lab's scanner namespace and parses the result.
 * `-n` (no DNS) is added unless `args` asks for resolution (`-R`) itself; the
 * scanner namespace has no route to a resolver anyway. Rejects when nmap fails
 * or times out, with its stderr in the message.
 *
 * @example
 * ```ts
 * const run = await runNmap(lab, ['-sS', '-T4', '-p', '22,80', lab.t1.ipv4[0]]);
 * run.hosts[0]?.ports.find((p) => p.port === 22)?.state; // 'open'
 * ```
 */
export async function runNmap(lab: Pick<Lab, 'spawnInScanner'>, args: readonly string[], opts: RunNmapOptions = {}): Promise<NmapRun> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const extra = args.includes('-R') ? [] : ['-n'];
  const r = await lab.spawnInScanner(['nmap', '-oX', '-', ...extra, ...args], { timeoutMs });
  if (r.code !== 0 || !r.stdout.includes('</nmaprun>')) {
    const why = r.code === null ? `killed after ${timeoutMs} ms` : `exit ${r.code}`;
    throw new Error(`nmap ${args.join(' ')} failed (${why}):\n${r.stderr.trim()}\n${r.stdout.slice(-2000)}`);
  }
  return parseNmapXml(r.stdout, args);
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * nmap pluralises reasons in `<extrareasons>` (`resets`, `no-responses`,
 * `port-unreaches`, `echo-replies`; `conn-refused` stays); this returns the singular used in `<port>` elements.
 *
 * @example
 * ```ts
 * singularReason('no-responses'); // 'no-response'
 * singularReason('port-unreaches'); // 'port-unreach'
 * singularReason('echo-replies'); // 'echo-reply'
 * ```
 */
export function singularReason(reason: string): string {
  // nmap's reason table (reason.cc) pairs each singular with its plural:
  // reset/resets, echo-reply/echo-replies, port-unreach/port-unreaches, conn-refused/conn-refused...
  if (reason.endsWith('ies')) return `${reason.slice(0, -3)}y`;
  if (reason.endsWith('ches')) return reason.slice(0, -2);
  if (reason.endsWith('s')) return reason.slice(0, -1);
  return reason;
}

function protocolOf(s: string | undefined): 'tcp' | 'udp' | undefined {
  return s === 'tcp' || s === 'udp' ? s : undefined;
}

function parsePort(el: XmlElement): NmapPort | undefined {
  const protocol = protocolOf(el.attrs.protocol);
  const port = num(el.attrs.portid);
  const state = childNamed(el, 'state');
  if (protocol === undefined || port === undefined || state === undefined) return undefined;
  const ttl = num(state.attrs.reason_ttl);
  const service = childNamed(el, 'service')?.attrs.name;
  return {
    protocol,
    port,
    state: state.attrs.state ?? '',
    reason: state.attrs.reason ?? '',
    ...(ttl !== undefined ? { reasonTtl: ttl } : {}),
    ...(service !== undefined ? { service } : {}),
  };
}

function parseExtraPorts(el: XmlElement): NmapExtraPorts {
  return {
    state: el.attrs.state ?? '',
    count: num(el.attrs.count) ?? 0,
    reasons: childrenNamed(el, 'extrareasons').map((r) => {
      const protocol = protocolOf(r.attrs.proto);
      return {
        reason: singularReason(r.attrs.reason ?? ''),
        count: num(r.attrs.count) ?? 0,
        ...(protocol !== undefined ? { protocol } : {}),
      };
    }),
  };
}

function parseHost(el: XmlElement): NmapHost | undefined {
  const addresses = childrenNamed(el, 'address');
  const ipAddr = addresses.find((a) => a.attrs.addrtype === 'ipv4' || a.attrs.addrtype === 'ipv6');
  const mac = addresses.find((a) => a.attrs.addrtype === 'mac')?.attrs.addr;
  const status = childNamed(el, 'status');
  if (ipAddr === undefined || status === undefined) return undefined;
  const portsEl = childNamed(el, 'ports');
  const ttl = num(status.attrs.reason_ttl);
  return {
    address: ipAddr.attrs.addr ?? '',
    addrtype: ipAddr.attrs.addrtype === 'ipv6' ? 'ipv6' : 'ipv4',
    ...(mac !== undefined ? { mac } : {}),
    status: status.attrs.state === 'up' ? 'up' : 'down',
    reason: status.attrs.reason ?? '',
    ...(ttl !== undefined ? { reasonTtl: ttl } : {}),
    ports: portsEl ? childrenNamed(portsEl, 'port').flatMap((p) => parsePort(p) ?? []) : [],
    extraPorts: portsEl ? childrenNamed(portsEl, 'extraports').map(parseExtraPorts) : [],
  };
}

/**
 * Parses nmap's XML output into an {@link NmapRun}. Throws when the text is not
 * an `<nmaprun>` document.
 *
 * @example
 * ```ts
 * const run = parseNmapXml(xmlText, ['-sS', '198.18.1.10']);
 * run.hosts.map((h) => `${h.address} ${h.status}`);
 * ```
 */
export function parseNmapXml(xml: string, args: readonly string[] = []): NmapRun {
  const root = parseXml(xml);
  if (root.name !== 'nmaprun') throw new Error(`not nmap XML: root element <${root.name}>`);
  const runstats = childNamed(root, 'runstats');
  const finished = runstats ? childNamed(runstats, 'finished') : undefined;
  const hostsEl = runstats ? childNamed(runstats, 'hosts') : undefined;
  return {
    args: [...args],
    elapsedSeconds: num(finished?.attrs.elapsed) ?? Number.NaN,
    hosts: childrenNamed(root, 'host').flatMap((h) => parseHost(h) ?? []),
    hostCounts: {
      up: num(hostsEl?.attrs.up) ?? 0,
      down: num(hostsEl?.attrs.down) ?? 0,
      total: num(hostsEl?.attrs.total) ?? 0,
    },
    xml,
  };
}

/**
 * The host with `address` in a run, or `undefined`.
 *
 * @example
 * ```ts
 * const t1 = findHost(run, '198.18.1.10');
 * ```
 */
export function findHost(run: NmapRun, address: string): NmapHost | undefined {
  return run.hosts.find((h) => h.address === address);
}

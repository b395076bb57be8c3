/**
 * nmap's normal, human-readable output (`-oN`), written as the scan runs:
 * a host's report as soon as the host is known complete (see
 * {@link reportHosts}).
 *
 * The host lines keep nmap's words ("Nmap scan report for", "Host is up",
 * "Not shown:", the PORT STATE SERVICE table, "Service Info:"), because
 * scripts that read normal output look for them. The header and footer
 * lines say who wrote the report, so they name portscout and its version
 * ("# portscout 0.1.0 scan initiated ...", "# portscout done at ...").
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import {
  checkEvents,
  checkOptionTypes,
  checkReportOptions,
  checkSink,
  ctimeText,
  defaultArgs,
  doneText,
  PORTSCOUT_VERSION,
  printable,
  runOutputs,
  serviceColumn,
  shortTimeText,
  twoSignificant,
  versionText,
  type HostReport,
  type HostReportOptions,
  type PortReport,
  type ReportBegin,
  type ReportEvent,
  type ReportFormatter,
  type ReportSummary,
  type OsReport,
  type ReportInputEvent,
} from './host-report.js';
import { wrapOsFingerprint } from '../os/index.js';
import type { TextSink } from './json-lines.js';

/**
 * Options of {@link createNormalFormatter}.
 *
 * @example
 * ```ts
 * const options: NormalFormatterOptions = { reason: true, layout: 'terminal' };
 * ```
 */
export interface NormalFormatterOptions {
  /** The command line of the header line. Default: `portscout` and nmap's flags for what the `start` event says. */
  readonly args?: string;
  /** nmap's `--reason`: a REASON column, and why each host is up ("received syn-ack ttl 64"). Default false. */
  readonly reason?: boolean;
  /**
   * `'file'` (default): what `nmap -oN` writes to its file, between a
   * `# portscout ... scan initiated ... as: ...` line and a
   * `# portscout done at ... -- ...` line. `'terminal'`: what nmap prints on
   * its terminal, between `Starting portscout ... at ...` and
   * `portscout done: ...`.
   */
  readonly layout?: 'file' | 'terminal';
}

/**
 * Options of {@link writeNormalOutput}: the report's and the formatter's.
 *
 * @example
 * ```ts
 * await writeNormalOutput(scan, process.stdout, { layout: 'terminal', reason: true } satisfies NormalOutputOptions);
 * ```
 */
export interface NormalOutputOptions extends HostReportOptions, NormalFormatterOptions {
  /** End a `Writable` sink when the report is written. Default false. */
  readonly end?: boolean;
}

const FORMATTER_OPTION_NAMES = ['args', 'reason', 'layout'] as const;

/**
 * Lays out a table as nmap's `NmapOutputTable`: each column as wide as its
 * widest cell, one space between columns, no padding after a row's last
 * non-empty cell.
 */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => {
      let last = row.length - 1;
      while (last > 0 && row[last] === '') last--;
      return row
        .slice(0, last + 1)
        .map((cell, i) => (i === last ? cell : cell.padEnd((widths[i] ?? 0) + 1)))
        .join('');
    })
    .join('\n');
}

/** nmap's "name (address)" or the address alone. */
function nameIp(host: HostReport): string {
  const name = host.hostnames.find((h) => h.type === 'user') ?? host.hostnames.find((h) => h.type === 'PTR');
  return name === undefined ? host.address : `${printable(name.name)} (${host.address})`;
}

function reasonText(port: PortReport): string {
  return `${port.reason}${port.reasonIp === undefined ? '' : ` from ${port.reasonIp}`}${port.reasonTtl ? ` ttl ${port.reasonTtl}` : ''}`;
}

/** "Not shown: 35 closed tcp ports (reset), 3 filtered tcp ports (no-response)". */
function notShown(host: HostReport): string {
  const parts: string[] = [];
  for (const group of host.extraPorts) {
    const plural = group.count === 1 ? '' : 's';
    for (const r of group.reasons) parts.push(`${r.count} ${group.state} ${r.protocol} port${plural} (${r.reason})`);
  }
  return `Not shown: ${parts.join(', ')}`;
}

/** nmap's "Service Info:" line from the open ports' services (application CPEs stay in XML), or ''. */
function serviceInfo(host: HostReport): string {
  const ptr = host.hostnames.find((h) => h.type === 'PTR')?.name.toLowerCase();
  const hosts: string[] = [];
  const oss: string[] = [];
  const devices: string[] = [];
  const cpes: string[] = [];
  const add = (list: string[], value: string | undefined, same: (a: string, b: string) => boolean = (a, b) => a === b): void => {
    if (value !== undefined && value !== '' && !list.some((v) => same(v, value))) list.push(value);
  };
  for (const port of host.listed) {
    const s = port.service;
    if (port.state !== 'open' || !s) continue;
    if (s.hostname !== undefined && s.hostname.toLowerCase() !== ptr) add(hosts, s.hostname, (a, b) => a.toLowerCase() === b.toLowerCase());
    add(oss, s.osType);
    add(devices, s.deviceType);
    for (const cpe of s.cpe) if (!cpe.startsWith('cpe:/a:')) add(cpes, cpe);
  }
  const fields: string[] = [];
  if (hosts.length > 0) fields.push(`Host${hosts.length === 1 ? '' : 's'}: ${hosts.join(', ')}`);
  if (oss.length > 0) fields.push(`OS${oss.length === 1 ? '' : 's'}: ${oss.join(', ')}`);
  if (devices.length > 0) fields.push(`Device${devices.length === 1 ? '' : 's'}: ${devices.join(', ')}`);
  if (cpes.length > 0) fields.push(`CPE: ${cpes.join(', ')}`);
  return fields.length === 0 ? '' : `Service Info: ${printable(fields.join('; '))}\n`;
}

/** nmap prints at most this many submission fingerprints per host. */
const MAX_FINGERPRINTS = 9;

function fingerprints(host: HostReport): string {
  const fps = host.listed.map((p) => p.service?.fingerprint).filter((f): f is string => f !== undefined).slice(0, MAX_FINGERPRINTS);
  if (fps.length === 0) return '';
  const n = fps.length;
  let out = `${n} service${n > 1 ? 's' : ''} unrecognized despite returning data; ${n > 1 ? 'their fingerprints' : 'its fingerprint'} (nmap's submission format, for a match rule of your own):\n`;
  for (const fp of fps) {
    if (n > 1) out += '==============NEXT SERVICE FINGERPRINT==============\n';
    out += `${fp}\n`;
  }
  return out;
}

function hostText(host: HostReport, options: NormalFormatterOptions, begin: ReportBegin | undefined): string {
  // A host's services may come without the option (the report then ends in an error): show them anyway.
  const serviceDetection = (begin?.serviceDetection ?? false) || host.ports.some((p) => p.service !== undefined && (p.service.method === 'probed' || p.service.fingerprint !== undefined));
  const discoveryOnly = begin?.start?.protocols.includes('host') ?? false;
  let out = '';
  if (host.status === 'down') {
    out += `Nmap scan report for ${nameIp(host)} [host down${options.reason ? `, received ${host.reason}` : ''}]\n`;
    return out;
  }
  out += `Nmap scan report for ${nameIp(host)}\n`;
  const user = host.hostnames.find((h) => h.type === 'user');
  const ptr = host.hostnames.find((h) => h.type === 'PTR');
  if (user && ptr && user.name !== ptr.name) out += `rDNS record for ${host.address}: ${printable(ptr.name)}\n`;
  let up = 'Host is up';
  if (options.reason) up += `, received ${host.reason}${host.reasonTtl ? ` ttl ${host.reasonTtl}` : ''}`;
  if (host.latencyMs !== undefined) up += ` (${twoSignificant(host.latencyMs / 1000)}s latency)`;
  out += `${up}.\n`;
  if (host.timedOut) return `${out}Skipping host ${nameIp(host)} due to host timeout\n`;
  if (discoveryOnly) return out;
  if (host.ports.length > 0) {
    if (host.listed.length === 0) out += `All ${host.ports.length} scanned ports on ${nameIp(host)} are in ignored states.\n`;
    out += host.extraPorts.length > 0 ? `${notShown(host)}\n` : '\n';
    if (host.listed.length > 0) {
      const header = ['PORT', 'STATE', 'SERVICE'];
      if (options.reason) header.push('REASON');
      if (serviceDetection) header.push('VERSION');
      const rows = host.listed.map((port) => {
        const row = [`${port.port}/${port.protocol}`, port.state, serviceColumn(port, serviceDetection)];
        if (options.reason) row.push(reasonText(port));
        if (serviceDetection) row.push(printable(versionText(port.service)));
        return row;
      });
      out += `${table([header, ...rows])}\n`;
      out += fingerprints(host);
    }
  }
  if (host.os) out += osText(host.os);
  out += serviceInfo(host);
  return `${out}\n`;
}

/** nmap's OS lines: "OS details" for an exact match, else "Aggressive OS guesses" and the fingerprint; the distance. */
function osText(os: OsReport): string {
  let out = '';
  const best = os.matches[0];
  if (os.reasons.includes('no-open-port') || os.reasons.includes('no-closed-port')) {
    out += 'Warning: OS detection results may be unreliable because we could not find at least 1 open and 1 closed port\n';
  }
  if (best && os.perfect) {
    const types = [...new Set(best.classes.map((c) => c.deviceType))];
    if (types.length > 0) out += `Device type: ${types.join('|')}\n`;
    out += `OS details: ${os.matches.filter((m) => m.score === 1).map((m) => m.name).join(', ')}\n`;
  } else if (best) {
    out += `Aggressive OS guesses: ${os.matches.map((m) => `${m.name} (${m.accuracy}%)`).join(', ')}\n`;
  }
  if (!os.perfect && os.fingerprint !== undefined) {
    out += best ? 'No exact OS matches for host (If you know what OS is running on it, see https://nmap.org/submit/ ).\n' : 'No OS matches for host\n';
    out += `TCP/IP fingerprint:\n${wrapOsFingerprint(os.fingerprint)}\n`;
  } else if (!best && os.fingerprint === undefined) {
    out += `OS detection not possible (${os.reasons.join(', ')})\n`;
  }
  if (os.hint) out += `OS hint (passive): ${os.hint.family}, confidence ${os.hint.confidence} (${os.hint.evidence.map((e) => e.detail).join('; ')})\n`;
  if (os.distance !== undefined) out += `Network Distance: ${os.distance} hop${os.distance === 1 ? '' : 's'}\n`;
  return out;
}

function headText(begin: ReportBegin, options: NormalFormatterOptions): string {
  if (options.layout === 'terminal') return `Starting portscout ${PORTSCOUT_VERSION} at ${shortTimeText(begin.startedAt)}\n`;
  return `# portscout ${PORTSCOUT_VERSION} scan initiated ${ctimeText(begin.startedAt)} as: ${printable(options.args ?? defaultArgs(begin))}\n`;
}

function endText(summary: ReportSummary, options: NormalFormatterOptions, begin: ReportBegin | undefined): string {
  let out = '';
  const terminal = options.layout === 'terminal';
  if (terminal && summary.hosts.total === 1 && summary.hosts.up === 0 && begin?.start?.discovery) {
    out += 'Note: Host seems down. If it is really up, but blocking our ping probes, try skipDiscovery (-Pn)\n';
  } else if (summary.hosts.up > 0 && summary.serviceDetection) out += 'Service detection performed.\n';
  if (summary.hosts.up > 0 && summary.osDetection) out += 'OS detection performed.\n';
  const done = doneText(summary);
  const why = summary.exit === 'error' ? ` (${printable(summary.errorMessage ?? 'error')})` : '';
  if (terminal) out += summary.exit === 'success' ? `portscout done: ${done}\n` : `portscout stopped${why}: ${done}\n`;
  else out += `# portscout ${summary.exit === 'success' ? 'done' : 'stopped'} at ${ctimeText(summary.endedAt)}${why} -- ${done}\n`;
  return out;
}

function normalFormatter(options: NormalFormatterOptions): ReportFormatter {
  let begin: ReportBegin | undefined;
  return {
    format(event: ReportEvent): string {
      switch (event.type) {
        case 'begin':
          begin = event.begin;
          return headText(event.begin, options);
        case 'host':
          return event.host.shown ? hostText(event.host, options, begin) : '';
        case 'end':
          return endText(event.summary, options, begin);
        default:
          return '';
      }
    },
  };
}

function checkFormatterOptions(options: unknown, caller: string, withReport: boolean): void {
  checkReportOptions(options, withReport ? [...FORMATTER_OPTION_NAMES, 'end'] : FORMATTER_OPTION_NAMES, caller);
  const o = (options ?? {}) as Record<string, unknown>;
  checkOptionTypes(o, { strings: ['args'], booleans: ['reason', 'end'] });
  if (o.layout !== undefined && o.layout !== 'file' && o.layout !== 'terminal') throw new PortscoutError('ERR_INVALID_OPTION', `Option layout must be 'file' or 'terminal'; got ${JSON.stringify(o.layout)}.`);
}

/**
 * A {@link ReportFormatter} of nmap's normal output, for {@link writeReports}
 * (several formats from one scan); {@link writeNormalOutput} is the
 * one-format shortcut. Checks its options at the call.
 *
 * @example
 * ```ts
 * await writeReports(scan, [{ formatter: createNormalFormatter({ layout: 'terminal' }), sink: process.stdout }]);
 * ```
 */
export function createNormalFormatter(options: NormalFormatterOptions = {}): ReportFormatter {
  checkFormatterOptions(options, 'createNormalFormatter', false);
  return normalFormatter(options);
}

/**
 * Writes a scan's events as nmap's normal output (`-oN`) to `sink`, each
 * host's report as soon as the host is known complete (see
 * {@link reportHosts}):
 *
 * ```text
 * Nmap scan report for localhost (127.0.0.1)
 * Host is up (0.00s latency).
 * Not shown: 35 closed tcp ports (reset)
 * PORT      STATE SERVICE VERSION
 * 47302/tcp open  ssh     OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)
 * Service Info: OS: Linux; CPE: cpe:/o:linux:linux_kernel
 * ```
 *
 * The table has nmap's columns (REASON with `reason`, VERSION with
 * `serviceDetection`) and layout; states fold into "Not shown" by nmap's
 * rules (see {@link foldExtraPorts}). Down hosts are shown with `verbose`.
 * Resolves with the summary after `done`; when the stream throws (an
 * abort), the hosts gathered so far and a `# portscout stopped at ...` line
 * are written, then the promise rejects with that error. The sink is not
 * ended unless `end: true`. Options and the sink are checked at the call
 * (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * const events = detectServices({ targets: '127.0.0.1', ports: '22,80,443', skipDiscovery: true });
 * await writeNormalOutput(events, process.stdout, { serviceDetection: true, layout: 'terminal' });
 * ```
 */
export function writeNormalOutput(events: AsyncIterable<ReportInputEvent>, sink: TextSink, options: NormalOutputOptions = {}): Promise<ReportSummary> {
  checkEvents(events, 'writeNormalOutput');
  checkSink(sink, 'writeNormalOutput');
  checkFormatterOptions(options, 'writeNormalOutput', true);
  return runOutputs(events, [{ formatter: normalFormatter(options), sink, end: options.end ?? false }], options);
}

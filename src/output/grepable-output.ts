/**
 * nmap's grepable output (`-oG`): one `Host:` line per host and fact, fields
 * separated by tabs, written as each host is known complete (see
 * {@link reportHosts}). The `Host:`, `Status:`, `Ports:` and
 * `Ignored State:` lines keep nmap's layout for the scripts that cut them;
 * the `#` header and footer comment lines name portscout.
 *
 * @module
 */
import {
  checkEvents,
  checkOptionTypes,
  checkReportOptions,
  checkSink,
  ctimeText,
  defaultArgs,
  doneText,
  countPortSpec,
  PORTSCOUT_VERSION,
  printable,
  runOutputs,
  serviceColumn,
  versionText,
  type HostReport,
  type HostReportOptions,
  type PortReport,
  type ReportBegin,
  type ReportEvent,
  type ReportFormatter,
  type ReportSummary,
  type ReportInputEvent,
} from './host-report.js';
import type { TextSink } from './json-lines.js';

/**
 * Options of {@link createGrepableFormatter}.
 *
 * @example
 * ```ts
 * const options: GrepableFormatterOptions = { args: 'portscout -sS -p 22,80 198.18.1.10' };
 * ```
 */
export interface GrepableFormatterOptions {
  /** The command line of the header line. Default: `portscout` and nmap's flags for what the `start` event says. */
  readonly args?: string;
}

/**
 * Options of {@link writeGrepableOutput}: the report's and the formatter's.
 *
 * @example
 * ```ts
 * await writeGrepableOutput(scan, process.stdout, { verbose: 1 } satisfies GrepableOutputOptions);
 * ```
 */
export interface GrepableOutputOptions extends HostReportOptions, GrepableFormatterOptions {
  /** End a `Writable` sink when the report is written. Default false. */
  readonly end?: boolean;
}

/** A field of a port entry: `/` as `|` (as nmap writes it), control characters as `\xNN`. */
function field(text: string): string {
  return printable(text).replace(/\//g, '|');
}

/** `22/open/tcp//ssh//OpenSSH 9.2p1/`: port, state, protocol, owner, service, RPC info, version. */
function portEntry(port: PortReport, serviceDetection: boolean): string {
  const service = port.service === undefined ? '' : field(serviceColumn(port, serviceDetection));
  return `${port.port}/${port.state}/${port.protocol}//${service}//${field(versionText(port.service))}/`;
}

function hostLines(host: HostReport, begin: ReportBegin | undefined): string {
  const ptr = host.hostnames.find((h) => h.type === 'PTR')?.name ?? '';
  const prefix = `Host: ${host.address} (${printable(ptr)})`;
  if (host.status === 'down') return `${prefix}\tStatus: Down\n`;
  let out = `${prefix}\tStatus: Up\n`;
  if (host.timedOut) return `${out}${prefix}\tStatus: Timeout\n`;
  if (begin?.start?.protocols.includes('host') || host.ports.length === 0) return out;
  const serviceDetection = (begin?.serviceDetection ?? false) || host.ports.some((p) => p.service?.method === 'probed');
  out += `${prefix}\tPorts: ${host.listed.map((p) => portEntry(p, serviceDetection)).join(', ')}`;
  // Grepable output has room for one ignored state only, as nmap's.
  const only = host.extraPorts.length === 1 ? host.extraPorts[0] : undefined;
  if (only) out += `\tIgnored State: ${only.state} (${only.count})`;
  // nmap names the OS here only for an exact match.
  if (host.os?.perfect && host.os.matches[0]) out += `\tOS: ${printable(host.os.matches.filter((m) => m.score === 1).map((m) => m.name).join('|'))}`;
  return `${out}\n`;
}

function headText(begin: ReportBegin, options: GrepableFormatterOptions): string {
  let out = `# portscout ${PORTSCOUT_VERSION} scan initiated ${ctimeText(begin.startedAt)} as: ${printable(options.args ?? defaultArgs(begin))}\n`;
  const start = begin.start;
  if (begin.verbose > 0 && start && !start.protocols.includes('host')) {
    const list = (spec: string): string => `${countPortSpec(spec)};${spec}`;
    out += `# Ports scanned: TCP(${list(start.ports.tcp)}) UDP(${list(start.ports.udp)}) SCTP(0;) PROTOCOLS(0;)\n`;
  }
  return out;
}

function endText(summary: ReportSummary): string {
  const why = summary.exit === 'error' ? ` (${printable(summary.errorMessage ?? 'error')})` : '';
  return `# portscout ${summary.exit === 'success' ? 'done' : 'stopped'} at ${ctimeText(summary.endedAt)}${why} -- ${doneText(summary)}\n`;
}

function grepableFormatter(options: GrepableFormatterOptions): ReportFormatter {
  let begin: ReportBegin | undefined;
  return {
    format(event: ReportEvent): string {
      switch (event.type) {
        case 'begin':
          begin = event.begin;
          return headText(event.begin, options);
        case 'host':
          return event.host.shown ? hostLines(event.host, begin) : '';
        case 'end':
          return endText(event.summary);
        default:
          return '';
      }
    },
  };
}

function checkFormatterOptions(options: unknown, caller: string, withReport: boolean): void {
  checkReportOptions(options, withReport ? ['args', 'end'] : ['args'], caller);
  checkOptionTypes((options ?? {}) as Record<string, unknown>, { strings: ['args'], booleans: ['end'] });
}

/**
 * A {@link ReportFormatter} of nmap's grepable output, for
 * {@link writeReports} (several formats from one scan);
 * {@link writeGrepableOutput} is the one-format shortcut. Checks its options
 * at the call.
 *
 * @example
 * ```ts
 * await writeReports(scan, [{ formatter: createGrepableFormatter(), sink: createWriteStream('scan.gnmap'), end: true }]);
 * ```
 */
export function createGrepableFormatter(options: GrepableFormatterOptions = {}): ReportFormatter {
  checkFormatterOptions(options, 'createGrepableFormatter', false);
  return grepableFormatter(options);
}

/**
 * Writes a scan's events as nmap's grepable output (`-oG`) to `sink`, each
 * host's lines as soon as the host is known complete (see
 * {@link reportHosts}):
 *
 * ```text
 * # portscout 0.1.0 scan initiated Mon Dec  7 12:34:40 2026 as: portscout -sS -sV -p 22,80
 * Host: 127.0.0.1 ()	Status: Up
 * Host: 127.0.0.1 ()	Ports: 22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/	Ignored State: closed (1)
 * # portscout done at Mon Dec  7 12:34:46 2026 -- 1 IP address (1 host up) scanned in 6.44 seconds
 * ```
 *
 * The parenthesised name is the PTR name, as nmap's. `Ignored State` is
 * written only when exactly one state folded (the format has room for one;
 * the others' ports are then absent, as in nmap's). A `/` in a service or
 * version becomes `|`. `verbose` adds nmap's `# Ports scanned:` line and
 * down hosts (`Status: Down`); a host whose time ran out is `Status:
 * Timeout`. Resolves with the summary after `done`; when the stream throws,
 * the hosts gathered so far and a `# portscout stopped at ...` line are
 * written and the promise rejects with that error. The sink is not ended
 * unless `end: true`. Options and the sink are checked at the call
 * (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * await writeGrepableOutput(tcpSynScan({ targets: '198.18.1.0/24', ports: '22,80,443' }), process.stdout);
 * // ... | grep '/open/' | cut -d' ' -f2
 * ```
 */
export function writeGrepableOutput(events: AsyncIterable<ReportInputEvent>, sink: TextSink, options: GrepableOutputOptions = {}): Promise<ReportSummary> {
  checkEvents(events, 'writeGrepableOutput');
  checkSink(sink, 'writeGrepableOutput');
  checkFormatterOptions(options, 'writeGrepableOutput', true);
  return runOutputs(events, [{ formatter: grepableFormatter(options), sink, end: options.end ?? false }], options);
}

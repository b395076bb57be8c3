/**
 * nmap's XML output (`-oX`, `xmloutputversion` 1.05), written as the scan
 * runs: the `<nmaprun>` head when the scan starts, each `<host>` as soon as
 * the host is known complete (see {@link reportHosts}), `<runstats>` at the
 * end. What security pipelines already ingest from nmap reads it: it is
 * valid against nmap's DTD except for `scanner="portscout"` (the DTD allows
 * only `nmap`), `ndiff` compares it with nmap's, and python-libnmap and
 * `xml.etree` read it.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import {
  checkEvents,
  checkOptionTypes,
  checkReportOptions,
  checkSink,
  countPortSpec,
  ctimeText,
  defaultArgs,
  doneText,
  portRanges,
  PORTSCOUT_VERSION,
  runOutputs,
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
 * Options of {@link createNmapXmlFormatter}.
 *
 * @example
 * ```ts
 * const options: NmapXmlFormatterOptions = { args: 'portscout -sS -p 1-1024 198.18.1.10', stylesheet: 'https://svn.nmap.org/nmap/docs/nmap.xsl' };
 * ```
 */
export interface NmapXmlFormatterOptions {
  /** The command line for `<nmaprun args>` and the header comment. Default: `portscout` and nmap's flags for what the `start` event says (targets are not in the events). */
  readonly args?: string;
  /** An `<?xml-stylesheet href?>` line, for browsers (nmap's is `file:///usr/share/nmap/nmap.xsl`, or `https://svn.nmap.org/nmap/docs/nmap.xsl` with `--webxml`). Default: none. */
  readonly stylesheet?: string;
  /**
   * Write only hosts of this address family, as each nmap run is of one
   * family (`-6` for IPv6); the hosts left out are counted in a comment and
   * `<runstats><hosts>` counts the hosts written. Default: every host, each
   * `<address>` with its own `addrtype`. See {@link writeNmapXml} on readers
   * that expect IPv4.
   */
  readonly family?: 4 | 6;
  /** Write the scan's `progress` events as nmap's `<taskprogress>` elements (nmap writes them with `--stats-every`). Default false. */
  readonly progress?: boolean;
}

/**
 * Options of {@link writeNmapXml}: the report's and the formatter's.
 *
 * @example
 * ```ts
 * await writeNmapXml(detectServices({ targets: '127.0.0.1', ports: '22,80', skipDiscovery: true }), process.stdout, { serviceDetection: true } satisfies NmapXmlOptions);
 * ```
 */
export interface NmapXmlOptions extends HostReportOptions, NmapXmlFormatterOptions {
  /** End a `Writable` sink when the document is written. Default false. */
  readonly end?: boolean;
}

const FORMATTER_OPTION_NAMES = ['args', 'stylesheet', 'family', 'progress'] as const;

/** The `<scaninfo type>` values of nmap's DTD, by portscout technique. */
const SCAN_TYPES: Readonly<Record<string, string>> = { syn: 'syn', ack: 'ack', connect: 'connect', null: 'null', xmas: 'xmas', window: 'window', maimon: 'maimon', fin: 'fin', udp: 'udp' };

/** nmap's names of its scan phases, for `<taskprogress task>`. */
const TASK_NAMES: Readonly<Record<string, string>> = {
  syn: 'SYN Stealth Scan',
  connect: 'Connect Scan',
  ack: 'ACK Scan',
  fin: 'FIN Scan',
  null: 'NULL Scan',
  xmas: 'XMAS Scan',
  maimon: 'Maimon Scan',
  window: 'Window Scan',
  custom: 'Custom TCP Scan',
  udp: 'UDP Scan',
};

/**
 * Text made safe for XML: `& < > " '` as entities, tab, newline and carriage
 * return as character references (so attribute values keep them), and
 * characters XML 1.0 forbids even as references (other C0 controls,
 * U+FFFE, U+FFFF, lone surrogates) as `\xNN` / `\uNNNN` text, as nmap's
 * `protect_xml` does.
 *
 * @example
 * ```ts
 * xmlEscape('a < b & "c"\u0001'); // 'a &lt; b &amp; &quot;c&quot;\\x01'
 * ```
 */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"'\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      case '\t':
        return '&#9;';
      case '\n':
        return '&#10;';
      case '\r':
        return '&#13;';
      default: {
        const code = c.charCodeAt(0);
        return code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
      }
    }
  });
}

/** Text for inside a comment: escaped, and never `--` (nmap writes `-&#45;`). */
function commentText(text: string): string {
  return xmlEscape(text).replace(/--/g, '-&#45;').replace(/-$/, '&#45;');
}

const attr = (name: string, value: string | number): string => ` ${name}="${xmlEscape(String(value))}"`;
const seconds = (ms: number): number => Math.floor(ms / 1000);

/** nmap's `servicefp`: the fingerprint on one line (`\nSF:` joins removed), at most about 2 KB as nmap keeps. */
function serviceFp(fingerprint: string): string {
  return fingerprint.replace(/\nSF:/g, '').slice(0, 2035);
}

function serviceXml(port: PortReport): string {
  const s = port.service;
  if (!s) return '';
  let out = `<service${attr('name', s.name)}`;
  if (s.product !== undefined) out += attr('product', s.product);
  if (s.version !== undefined) out += attr('version', s.version);
  if (s.extraInfo !== undefined) out += attr('extrainfo', s.extraInfo);
  if (s.hostname !== undefined) out += attr('hostname', s.hostname);
  if (s.osType !== undefined) out += attr('ostype', s.osType);
  if (s.deviceType !== undefined) out += attr('devicetype', s.deviceType);
  if (s.fingerprint !== undefined) out += attr('servicefp', serviceFp(s.fingerprint));
  if (s.tunnel !== undefined) out += attr('tunnel', s.tunnel);
  out += `${attr('method', s.method)}${attr('conf', Math.max(0, Math.min(10, Math.round(s.confidence))))}`;
  if (s.cpe.length === 0) return `${out}/>`;
  return `${out}>${s.cpe.map((c) => `<cpe>${xmlEscape(c)}</cpe>`).join('')}</service>`;
}

function portXml(port: PortReport): string {
  const state = `<state${attr('state', port.state)}${attr('reason', port.reason)}${attr('reason_ttl', port.reasonTtl)}${port.reasonIp === undefined ? '' : attr('reason_ip', port.reasonIp)}/>`;
  return `<port${attr('protocol', port.protocol)}${attr('portid', port.port)}>${state}${serviceXml(port)}</port>\n`;
}

/** One `<host>` element, as nmap writes it (nmap.cc, output.cc). */
function hostXml(host: HostReport): string {
  const times = host.status === 'up' || host.timedOut ? `${attr('starttime', seconds(host.firstSeenAt))}${attr('endtime', seconds(host.lastSeenAt))}` : '';
  let out = `<host${times}${host.timedOut ? attr('timedout', 'true') : ''}>`;
  out += `<status${attr('state', host.status)}${attr('reason', host.reason)}${attr('reason_ttl', host.reasonTtl)}/>\n`;
  out += `<address${attr('addr', host.address)}${attr('addrtype', host.family === 6 ? 'ipv6' : 'ipv4')}/>\n`;
  if (host.hostnames.length > 0 || host.status === 'up') {
    out += '<hostnames>\n';
    for (const name of host.hostnames) out += `<hostname${attr('name', name.name)}${attr('type', name.type)}/>\n`;
    out += '</hostnames>\n';
  }
  if (!host.timedOut && host.ports.length > 0) {
    out += '<ports>';
    for (const group of host.extraPorts) {
      out += `<extraports${attr('state', group.state)}${attr('count', group.count)}>\n`;
      for (const r of group.reasons) out += `<extrareasons${attr('reason', r.reason)}${attr('count', r.count)}${attr('proto', r.protocol)}${attr('ports', portRanges(r.ports))}/>\n`;
      out += '</extraports>\n';
    }
    for (const port of host.listed) out += portXml(port);
    out += '</ports>\n';
  }
  if (host.os) out += osXml(host.os);
  return `${out}</host>\n`;
}

/** nmap's `<os>` (ports used, the guesses it shows with their classes, the fingerprint when no match is exact) and `<distance>`. */
function osXml(os: OsReport): string {
  let out = '<os>';
  if (os.ports.open !== undefined) out += `<portused${attr('state', 'open')}${attr('proto', 'tcp')}${attr('portid', os.ports.open)}/>\n`;
  if (os.ports.closed !== undefined && !os.reasons.includes('no-closed-port')) out += `<portused${attr('state', 'closed')}${attr('proto', 'tcp')}${attr('portid', os.ports.closed)}/>\n`;
  if (os.ports.closedUdp !== undefined && os.fingerprint !== undefined && !os.reasons.includes('no-udp-reply')) out += `<portused${attr('state', 'closed')}${attr('proto', 'udp')}${attr('portid', os.ports.closedUdp)}/>\n`;
  for (const match of os.matches) {
    out += `<osmatch${attr('name', match.name)}${attr('accuracy', match.accuracy)}${attr('line', match.line)}>\n`;
    for (const c of match.classes) {
      out += `<osclass${attr('type', c.deviceType)}${attr('vendor', c.vendor)}${attr('osfamily', c.family)}${c.generation === undefined ? '' : attr('osgen', c.generation)}${attr('accuracy', match.accuracy)}>`;
      for (const cpe of c.cpe) out += `<cpe>${xmlEscape(cpe)}</cpe>`;
      out += '</osclass>\n';
    }
    out += '</osmatch>\n';
  }
  if (os.fingerprint !== undefined && !os.perfect) out += `<osfingerprint${attr('fingerprint', wrapOsFingerprint(os.fingerprint))}/>\n`;
  out += '</os>\n';
  if (os.distance !== undefined) out += `<distance${attr('value', os.distance)}/>\n`;
  return out;
}

/**
 * A {@link ReportFormatter} of nmap's XML: the head at `begin`, a `<host>`
 * per host shown, `<runstats>` and the closing tag at `end`. For
 * {@link writeReports} (several formats from one scan); {@link writeNmapXml}
 * is the one-format shortcut. Checks its options at the call.
 *
 * @example
 * ```ts
 * await writeReports(scan, [{ formatter: createNmapXmlFormatter({ args: 'portscout -sS 198.18.1.10' }), sink: createWriteStream('scan.xml') }]);
 * ```
 */
export function createNmapXmlFormatter(options: NmapXmlFormatterOptions = {}): ReportFormatter {
  checkFormatterOptions(options, 'createNmapXmlFormatter', false);
  return nmapXmlFormatter(options);
}

function checkFormatterOptions(options: unknown, caller: string, withReport: boolean): void {
  if (withReport) checkReportOptions(options, [...FORMATTER_OPTION_NAMES, 'end'], caller);
  else checkReportOptions(options, FORMATTER_OPTION_NAMES, caller);
  const o = (options ?? {}) as Record<string, unknown>;
  checkOptionTypes(o, { strings: ['args', 'stylesheet'] });
  if (o.family !== undefined && o.family !== 4 && o.family !== 6) throw new PortscoutError('ERR_INVALID_OPTION', `Option family must be 4 or 6; got ${JSON.stringify(o.family)}.`);
  checkOptionTypes(o, { booleans: ['progress', 'end'] });
}

function nmapXmlFormatter(options: NmapXmlFormatterOptions): ReportFormatter {
  let begin: ReportBegin | undefined;
  const written = { up: 0, down: 0, other: 0 };
  return {
    format(event: ReportEvent): string {
      switch (event.type) {
        case 'begin':
          begin = event.begin;
          return headXml(event.begin, options);
        case 'host': {
          const host = event.host;
          if (options.family !== undefined && host.family !== options.family) {
            if (host.shown) written.other++;
            return '';
          }
          if (host.status === 'up') written.up++;
          else written.down++;
          return host.shown ? hostXml(host) : '';
        }
        case 'progress': {
          if (!options.progress) return '';
          const p = event.progress;
          const task = p.phase === 'discovery' ? 'Ping Scan' : p.phase === 'service' ? 'Service scan' : (TASK_NAMES[begin?.start?.technique ?? ''] ?? 'Port Scan');
          const time = seconds(event.at);
          let out = `<taskprogress${attr('task', task)}${attr('time', time)}${attr('percent', (p.fraction * 100).toFixed(2))}`;
          if (p.etaMs !== undefined) out += `${attr('remaining', Math.round(p.etaMs / 1000))}${attr('etc', time + Math.round(p.etaMs / 1000))}`;
          return `${out}/>\n`;
        }
        case 'warning':
          return '';
        case 'end':
          return endXml(event.summary, options, written);
      }
    },
  };
}

function headXml(begin: ReportBegin, options: NmapXmlFormatterOptions): string {
  const args = options.args ?? defaultArgs(begin);
  const startstr = ctimeText(begin.startedAt);
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n';
  if (options.stylesheet !== undefined) out += `<?xml-stylesheet href="${xmlEscape(options.stylesheet)}" type="text/xsl"?>\n`;
  out += `<!-- ${commentText(`portscout ${PORTSCOUT_VERSION} scan initiated ${startstr} as: ${args}`)} -->\n`;
  out += `<nmaprun${attr('scanner', 'portscout')}${attr('args', args)}${attr('start', seconds(begin.startedAt))}${attr('startstr', startstr)}${attr('version', PORTSCOUT_VERSION)}${attr('xmloutputversion', '1.05')}>\n`;
  const start = begin.start;
  const type = start ? SCAN_TYPES[start.technique] : undefined;
  if (start && type !== undefined) {
    for (const protocol of ['tcp', 'udp'] as const) {
      const spec = start.ports[protocol];
      if (!start.protocols.includes(protocol)) continue;
      out += `<scaninfo${attr('type', type)}${attr('protocol', protocol)}${attr('numservices', countPortSpec(spec))}${attr('services', spec)}/>\n`;
    }
  }
  out += `<verbose${attr('level', begin.verbose)}/>\n<debugging level="0"/>\n`;
  return out;
}

function endXml(summary: ReportSummary, options: NmapXmlFormatterOptions, written: { up: number; down: number; other: number }): string {
  let out = '';
  let hosts = summary.hosts;
  if (options.family !== undefined) {
    if (written.other > 0) out += `<!-- ${commentText(`portscout: ${written.other} IPv${options.family === 4 ? 6 : 4} host${written.other === 1 ? '' : 's'} not written (family: ${options.family})`)} -->\n`;
    hosts = { up: written.up, down: written.down, total: written.up + written.down };
  }
  const timestr = ctimeText(summary.endedAt);
  const ended = summary.exit === 'success' ? 'done' : `stopped (${summary.errorMessage ?? 'error'})`;
  const text = `portscout ${ended} at ${timestr}; ${doneText({ ...summary, hosts })}`;
  out += `<runstats><finished${attr('time', seconds(summary.endedAt))}${attr('timestr', timestr)}${attr('summary', text)}${attr('elapsed', (summary.elapsedMs / 1000).toFixed(2))}${attr('exit', summary.exit)}`;
  if (summary.errorMessage !== undefined) out += attr('errormsg', summary.errorMessage);
  out += `/><hosts${attr('up', hosts.up)}${attr('down', hosts.down)}${attr('total', hosts.total)}/>\n</runstats>\n</nmaprun>\n`;
  return out;
}

/**
 * Writes a scan's events as nmap XML to `sink`, each host as soon as it is
 * known complete (see {@link reportHosts}), so a pipeline reads hosts while
 * the scan runs. Resolves with the report's summary when the scan ended with
 * `done`. When the stream throws (an abort, Ctrl-C), the document is still
 * finished: every host gathered so far, then `<runstats>` with
 * `exit="error"` and an `errormsg`, then the promise rejects with that
 * error; a stream that ends without `done` gives the same document and
 * resolves. Pass `serviceDetection: true` for `detectServices`' events.
 *
 * Hosts: `<status state reason reason_ttl>`, `<address addr addrtype>`,
 * `<hostnames>` (the name the user gave, `type="user"`, and the PTR name
 * from `reverseDns`), `<ports>` with nmap's `<extraports>` folding and
 * `<extrareasons>`, each `<port>` with `<state state reason reason_ttl>`
 * (`reason_ip` when a router answered) and `<service name product version
 * extrainfo tunnel method conf>` with its `<cpe>`s (the services table's
 * name, `method="table"`, without service detection, as nmap). Down hosts
 * are written with `verbose`, as nmap's.
 *
 * IPv6: a host scanned over IPv6 has one `<address addrtype="ipv6">` and no
 * IPv4 address, exactly as in nmap's `-6` output; portscout never invents an
 * IPv4 address for it. Readers that assume every host has an IPv4 address
 * fail on such hosts, nmap's own output included: DefectDojo's nmap parser
 * reads `address[@addrtype='ipv4']` of every `<host>` and crashes (the
 * lookup finds nothing). For such a reader, write the families to separate
 * documents with `family: 4` and `family: 6` (each nmap run is of one
 * family too) and give it the IPv4 one; ndiff, python-libnmap and
 * `xml.etree` read both.
 *
 * The sink (a `Writable` whose back-pressure pauses the scan, or a function
 * of each chunk) is not ended unless `end: true`. Options and the sink are
 * checked at the call (`ERR_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * const events = tcpSynScan({ targets: '198.18.1.0/24', ports: '1-1024' });
 * const summary = await writeNmapXml(events, createWriteStream('scan.xml'), { args: 'portscout -sS -p 1-1024 198.18.1.0/24', end: true });
 * console.log(summary.hosts.up, 'hosts up');
 * ```
 */
export function writeNmapXml(events: AsyncIterable<ReportInputEvent>, sink: TextSink, options: NmapXmlOptions = {}): Promise<ReportSummary> {
  checkEvents(events, 'writeNmapXml');
  checkSink(sink, 'writeNmapXml');
  checkFormatterOptions(options, 'writeNmapXml', true);
  return runOutputs(events, [{ formatter: nmapXmlFormatter(options), sink, end: options.end ?? false }], options);
}

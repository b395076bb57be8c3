/**
 * The parser of the `nmap-service-probes` format.
 *
 * A file is read as latin1 (one byte per character). Every problem becomes a
 * diagnostic with its line number, and parsing goes on: a bad line is
 * skipped, a bad rule dropped, so a file with errors loads what it can.
 * Patterns are translated to JavaScript with PCRE's semantics
 * (`pcre-pattern.ts`); one that cannot be, or that matches the empty string
 * (nmap refuses those), is a diagnostic.
 *
 * The library never looks for nmap's own file. A user may pass it (its
 * licence, the NPSL, then applies to that use); the default database is the
 * project's own.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { PortscoutError } from '../errors.js';
import { matchesEmpty, translatePcre } from './pcre-pattern.js';
import { decodeProbeString } from './probe-string.js';
import type { MatchRule, PortRanges, ProbeFileDiagnostic, ServiceProbe, ServiceProbeDatabase, VersionTemplates } from './probe-database.js';

/** What {@link parseServiceProbes} returns. */
export interface ParsedServiceProbes {
  readonly database: ServiceProbeDatabase;
  readonly diagnostics: readonly ProbeFileDiagnostic[];
}

/** nmap's rarity of a probe without a `rarity` line. */
const DEFAULT_RARITY = 5;

interface ProbeDraft {
  protocol: 'tcp' | 'udp';
  name: string;
  payload: Uint8Array;
  noPayload: boolean;
  ports: [number, number][];
  sslPorts: [number, number][];
  totalWaitMs: number | undefined;
  tcpWrappedMs: number | undefined;
  rarity: number;
  fallback: string[];
  matches: MatchRule[];
  line: number;
}

/** `21,23,1040-1043` as ranges; undefined when malformed. */
function parsePortList(text: string): [number, number][] | undefined {
  const ranges: [number, number][] = [];
  for (const item of text.split(',')) {
    const m = /^\s*(\d{1,5})(?:-(\d{1,5}))?\s*$/.exec(item);
    if (!m) return undefined;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low > 65535 || high > 65535 || high < low) return undefined;
    ranges.push([low, high]);
  }
  return ranges;
}

/** `Exclude T:9100-9107,U:30000,53`: ports without a prefix (or after none) are both protocols'. */
function parseExclude(text: string): { tcp: [number, number][]; udp: [number, number][] } | undefined {
  const tcp: [number, number][] = [];
  const udp: [number, number][] = [];
  let into: 'both' | 'tcp' | 'udp' = 'both';
  for (let item of text.split(',')) {
    item = item.trim();
    const prefix = /^([TU]):/i.exec(item);
    if (prefix) {
      into = prefix[1]!.toUpperCase() === 'T' ? 'tcp' : 'udp';
      item = item.slice(2);
    }
    const ranges = parsePortList(item);
    if (!ranges) return undefined;
    if (into !== 'udp') tcp.push(...ranges);
    if (into !== 'tcp') udp.push(...ranges);
  }
  return { tcp, udp };
}

/** Reads `<letter><delim>text<delim>` at `at`; the text and the index after the closing delimiter. */
function delimited(line: string, at: number): { text: string; end: number } | undefined {
  const delimiter = line[at];
  if (delimiter === undefined) return undefined;
  const close = line.indexOf(delimiter, at + 1);
  if (close < 0) return undefined;
  return { text: line.slice(at + 1, close), end: close + 1 };
}

const FIELD_NAMES: Readonly<Record<string, keyof Omit<VersionTemplates, 'cpe'>>> = {
  p: 'product',
  v: 'version',
  i: 'info',
  h: 'hostname',
  o: 'osType',
  d: 'deviceType',
};

/** The version fields after a pattern; an error message for what cannot be read. */
function parseTemplates(text: string): VersionTemplates | { error: string } {
  const fields: { -readonly [K in keyof VersionTemplates]: VersionTemplates[K] } = { cpe: [] };
  const cpe: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') {
      i++;
      continue;
    }
    if (text.startsWith('cpe:', i)) {
      const value = delimited(text, i + 4);
      if (!value) return { error: `unterminated cpe: field at column ${i + 1}` };
      cpe.push(value.text);
      i = value.end;
      if (text[i] === 'a') i++;
      continue;
    }
    const name = FIELD_NAMES[text[i] as string];
    if (!name) return { error: `unknown version field ${JSON.stringify(text.slice(i, i + 8))} (expected p/ v/ i/ h/ o/ d/ or cpe:/)` };
    const value = delimited(text, i + 1);
    if (!value) return { error: `unterminated ${text[i]} field at column ${i + 1}` };
    fields[name] = value.text;
    i = value.end;
  }
  fields.cpe = cpe;
  return fields;
}

/**
 * Parses the text of a file in the `nmap-service-probes` format (read it as
 * latin1). Errors are collected as diagnostics, never thrown.
 *
 * @param options.source the file name diagnostics and rules name (default `"service-probes"`)
 *
 * @example
 * ```ts
 * const { database, diagnostics } = parseServiceProbes('Probe TCP NULL q||\nmatch ftp m/^220 / p/Example FTP/\n');
 * database.probes[0].matches[0].service; // 'ftp'
 * diagnostics.length; // 0
 * ```
 */
export function parseServiceProbes(text: string, options: { readonly source?: string } = {}): ParsedServiceProbes {
  const source = options.source ?? 'service-probes';
  const diagnostics: ProbeFileDiagnostic[] = [];
  const probes: ServiceProbe[] = [];
  const exclude = { tcp: [] as [number, number][], udp: [] as [number, number][] };
  const names = new Set<string>();
  let probe: ProbeDraft | undefined;
  const report = (line: number, message: string): void => {
    diagnostics.push({ source, line, message });
  };
  const finish = (): void => {
    if (!probe) return;
    probes.push({ ...probe, source });
    probe = undefined;
  };

  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const line = (lines[index] as string).replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const space = trimmed.search(/\s/);
    const directive = space < 0 ? trimmed : trimmed.slice(0, space);
    const rest = space < 0 ? '' : trimmed.slice(space + 1).trimStart();

    if (directive === 'Exclude') {
      const parsed = parseExclude(rest);
      if (!parsed) report(lineNo, `Exclude: cannot read the port list ${JSON.stringify(rest)}`);
      else {
        exclude.tcp.push(...parsed.tcp);
        exclude.udp.push(...parsed.udp);
      }
      continue;
    }
    if (directive === 'Probe') {
      finish();
      const m = /^(TCP|UDP)\s+(\S+)\s+q(.*)$/.exec(rest);
      if (!m) {
        report(lineNo, `Probe: expected "Probe TCP|UDP <name> q|<string>|", got ${JSON.stringify(trimmed.slice(0, 80))}`);
        continue;
      }
      const quoted = delimited(`q${m[3]}`, 1);
      if (!quoted) {
        report(lineNo, `Probe ${m[2]}: the probe string has no closing delimiter`);
        continue;
      }
      const payload = decodeProbeString(quoted.text);
      if (!(payload instanceof Uint8Array)) {
        report(lineNo, `Probe ${m[2]}: ${payload.error}`);
        continue;
      }
      const after = `q${m[3]}`.slice(quoted.end).trim();
      if (after !== '' && after !== 'no-payload') report(lineNo, `Probe ${m[2]}: unknown option ${JSON.stringify(after)} after the probe string (ignored)`);
      const protocol = m[1] === 'TCP' ? 'tcp' : 'udp';
      const key = `${protocol}/${m[2]}`;
      if (names.has(key)) report(lineNo, `Probe ${m[2]}: a ${m[1]} probe of that name exists already; this one is used too`);
      names.add(key);
      probe = {
        protocol,
        name: m[2] as string,
        payload,
        noPayload: after === 'no-payload',
        ports: [],
        sslPorts: [],
        totalWaitMs: undefined,
        tcpWrappedMs: undefined,
        rarity: DEFAULT_RARITY,
        fallback: [],
        matches: [],
        line: lineNo,
      };
      continue;
    }
    if (!probe) {
      report(lineNo, `${directive}: outside of a Probe section (ignored)`);
      continue;
    }
    switch (directive) {
      case 'match':
      case 'softmatch': {
        const rule = parseMatch(directive === 'softmatch', rest, source, lineNo);
        if ('error' in rule) report(lineNo, `${directive}: ${rule.error}`);
        else probe.matches.push(rule);
        continue;
      }
      case 'ports':
      case 'sslports': {
        const ranges = parsePortList(rest);
        if (!ranges) report(lineNo, `${directive}: cannot read the port list ${JSON.stringify(rest.slice(0, 60))}`);
        else (directive === 'ports' ? probe.ports : probe.sslPorts).push(...ranges);
        continue;
      }
      case 'totalwaitms':
      case 'tcpwrappedms':
      case 'rarity': {
        const value = /^\d+$/.test(rest) ? Number(rest) : Number.NaN;
        if (!Number.isSafeInteger(value) || (directive === 'rarity' && (value < 1 || value > 9))) {
          report(lineNo, `${directive}: expected ${directive === 'rarity' ? 'an integer 1-9' : 'milliseconds'}, got ${JSON.stringify(rest)}`);
        } else if (directive === 'rarity') probe.rarity = value;
        else if (directive === 'totalwaitms') probe.totalWaitMs = value;
        else probe.tcpWrappedMs = value;
        continue;
      }
      case 'fallback':
        probe.fallback.push(...rest.split(',').map((name) => name.trim()).filter(Boolean));
        continue;
      default:
        report(lineNo, `unknown directive ${JSON.stringify(directive)} (ignored)`);
    }
  }
  finish();
  for (const p of probes) {
    for (const name of p.fallback) {
      if (!probes.some((other) => other.name === name)) {
        diagnostics.push({ source, line: p.line, message: `Probe ${p.name}: fallback ${JSON.stringify(name)} names no probe` });
      }
    }
  }
  return { database: { probes, exclude, source }, diagnostics };
}

/** One `match`/`softmatch` line after its directive. */
function parseMatch(soft: boolean, rest: string, source: string, line: number): MatchRule | { error: string } {
  const space = rest.search(/\s/);
  if (space < 0) return { error: 'expected "<service> m/<pattern>/[opts] [version fields]"' };
  const service = rest.slice(0, space);
  const body = rest.slice(space + 1).trimStart();
  if (body[0] !== 'm') return { error: `expected the pattern (m/.../) after ${service}, got ${JSON.stringify(body.slice(0, 20))}` };
  const pattern = delimited(body, 1);
  if (!pattern) return { error: `the pattern of ${service} has no closing delimiter` };
  let end = pattern.end;
  let caseless = false;
  let dotAll = false;
  while (end < body.length && body[end] !== ' ' && body[end] !== '\t') {
    const option = body[end];
    if (option === 'i') caseless = true;
    else if (option === 's') dotAll = true;
    else return { error: `unknown pattern option ${JSON.stringify(option)} for ${service} (expected i or s)` };
    end++;
  }
  const templates = parseTemplates(body.slice(end));
  if ('error' in templates) return { error: `${service}: ${templates.error}` };
  const compiled = translatePcre(pattern.text, { caseless, dotAll });
  if ('error' in compiled) return { error: `${service}: the pattern cannot be used: ${compiled.error}` };
  if (matchesEmpty(compiled)) return { error: `${service}: the pattern matches the empty string (nmap refuses such patterns)` };
  return { service, soft, pattern: pattern.text, caseless, dotAll, compiled, templates, source, line };
}

/**
 * Reads and parses a probe file (latin1).
 *
 * @throws PortscoutError `ERR_INVALID_OPTION` when the file cannot be read
 * @example
 * ```ts
 * const { database, diagnostics } = await loadServiceProbes('/usr/share/nmap/nmap-service-probes');
 * ```
 */
export async function loadServiceProbes(path: string): Promise<ParsedServiceProbes> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (error) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Cannot read the service probe file ${JSON.stringify(path)}: ${(error as Error).message}. Pass the path of a file in nmap-service-probes format.`, { cause: error });
  }
  return parseServiceProbes(text, { source: path });
}


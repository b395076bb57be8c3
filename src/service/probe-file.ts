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
 * {@link parseServiceProbes} parses a text in one call (one turn of the
 * event loop); {@link loadServiceProbes} reads a file and runs the same
 * parser in slices of a few milliseconds, yielding between them.
 *
 * The library never looks for nmap's own file. A user may pass it (its
 * licence, the NPSL, then applies to that use); the default database is the
 * project's own.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { PortscoutError } from '../errors.js';
import { matchesEmpty, translatePcre, type TranslatedPattern } from './pcre-pattern.js';
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

/** A `match` line read but whose pattern is not translated yet, and the probe it goes to. */
interface PendingRule {
  readonly into: MatchRule[];
  readonly rule: Omit<MatchRule, 'compiled'>;
}

/**
 * The parser of one file, in two stages, so that the same code parses a
 * file in one call ({@link parseServiceProbes}) or in slices between turns
 * of the event loop ({@link loadServiceProbes}), and so that the probes are
 * known before their patterns are translated:
 *
 * 1. {@link ProbeFileParser.readUntil} reads the lines: probes, their
 *    directives and payloads, `Exclude`, and each rule's service, options
 *    and version fields (a few milliseconds for nmap's file);
 * 2. {@link ProbeFileParser.translateUntil} translates the patterns, in file
 *    order, appending each rule to its probe's `matches` (most of the time).
 *
 * Both stop at a deadline and resume where they stopped. Diagnostics come
 * out in line order whatever the stage that found them (then the fallback
 * checks, which need the whole file), as a one-pass parser would list them.
 */
class ProbeFileParser {
  readonly #source: string;
  readonly #lines: string[];
  #index = 0;
  readonly #diagnostics: ProbeFileDiagnostic[] = [];
  readonly #probes: ServiceProbe[] = [];
  readonly #exclude = { tcp: [] as [number, number][], udp: [] as [number, number][] };
  readonly #names = new Set<string>();
  #probe: ProbeDraft | undefined;
  readonly #pending: PendingRule[] = [];
  #translated = 0;
  readonly #translationDiagnostics: ProbeFileDiagnostic[] = [];
  readonly #fallbackDiagnostics: ProbeFileDiagnostic[] = [];
  #database: ServiceProbeDatabase | undefined;
  #result: ParsedServiceProbes | undefined;
  /** The translation's progress, as matching reads it while the load goes on ({@link translationProgress}). */
  #progress: ProgressState | undefined;

  constructor(text: string, source: string) {
    this.#source = source;
    this.#lines = text.split('\n');
  }

  /**
   * Stage 1: reads lines until all are read or `performance.now()` passes
   * `deadline` (checked after each line; a line is never split). Returns
   * the database once every line is read (its probes complete but for
   * their `matches`, which stage 2 fills), undefined when there is more.
   */
  readUntil(deadline: number): ServiceProbeDatabase | undefined {
    if (this.#database) return this.#database;
    const lines = this.#lines;
    while (this.#index < lines.length) {
      this.#parseLine(lines[this.#index] as string, this.#index + 1);
      this.#index++;
      if (deadline !== Infinity && performance.now() >= deadline) return undefined;
    }
    return this.#endLines();
  }

  /**
   * Stage 2 (after stage 1 returned the database): translates patterns
   * until all are done or `performance.now()` passes `deadline` (checked
   * after each pattern). Returns the result when done, undefined when
   * there is more.
   */
  translateUntil(deadline: number): ParsedServiceProbes | undefined {
    if (this.#result) return this.#result;
    const pending = this.#pending;
    const progress = this.#progress;
    while (this.#translated < pending.length) {
      const { into, rule } = pending[this.#translated] as PendingRule;
      this.#translated++;
      const compiled = translateRule(rule);
      if ('error' in compiled) this.#translationDiagnostics.push({ source: this.#source, line: rule.line, message: `${rule.soft ? 'softmatch' : 'match'}: ${compiled.error}` });
      else {
        const translated: MatchRule = { ...rule, compiled };
        into.push(translated);
        if (progress) {
          progress.index.set(translated, progress.rules.length);
          progress.rules.push(translated);
        }
      }
      if (deadline !== Infinity && performance.now() >= deadline) {
        if (progress) this.#advance(progress, false);
        return undefined;
      }
    }
    const result = this.#finish();
    if (progress) this.#advance(progress, true);
    return result;
  }

  /**
   * Follows the translation from now on (before stage 2 starts): matching
   * can then use each probe's rules as soon as they are translated.
   */
  trackProgress(database: ServiceProbeDatabase): void {
    const lastPending = new Map<readonly MatchRule[], number>();
    this.#pending.forEach(({ into }, i) => lastPending.set(into, i));
    const state: ProgressState = { rules: [], index: new WeakMap(), done: false, translated: 0, lastPending, waiters: [], listeners: [] };
    this.#progress = state;
    progressOf.set(database, state);
  }

  /** Tells the waiters and listeners that more rules are translated (all of them with `done`). */
  #advance(state: ProgressState, done: boolean): void {
    state.translated = this.#translated;
    state.done = done;
    for (const listener of state.listeners) listener();
    for (const wake of state.waiters.splice(0)) wake();
  }

  #report(line: number, message: string): void {
    this.#diagnostics.push({ source: this.#source, line, message });
  }

  #endProbe(): void {
    if (!this.#probe) return;
    this.#probes.push({ ...this.#probe, source: this.#source });
    this.#probe = undefined;
  }

  #parseLine(raw: string, lineNo: number): void {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const space = trimmed.search(/\s/);
    const directive = space < 0 ? trimmed : trimmed.slice(0, space);
    const rest = space < 0 ? '' : trimmed.slice(space + 1).trimStart();

    if (directive === 'Exclude') {
      const parsed = parseExclude(rest);
      if (!parsed) this.#report(lineNo, `Exclude: cannot read the port list ${JSON.stringify(rest)}`);
      else {
        this.#exclude.tcp.push(...parsed.tcp);
        this.#exclude.udp.push(...parsed.udp);
      }
      return;
    }
    if (directive === 'Probe') {
      this.#endProbe();
      const m = /^(TCP|UDP)\s+(\S+)\s+q(.*)$/.exec(rest);
      if (!m) {
        this.#report(lineNo, `Probe: expected "Probe TCP|UDP <name> q|<string>|", got ${JSON.stringify(trimmed.slice(0, 80))}`);
        return;
      }
      const quoted = delimited(`q${m[3]}`, 1);
      if (!quoted) {
        this.#report(lineNo, `Probe ${m[2]}: the probe string has no closing delimiter`);
        return;
      }
      const payload = decodeProbeString(quoted.text);
      if (!(payload instanceof Uint8Array)) {
        this.#report(lineNo, `Probe ${m[2]}: ${payload.error}`);
        return;
      }
      const after = `q${m[3]}`.slice(quoted.end).trim();
      if (after !== '' && after !== 'no-payload') this.#report(lineNo, `Probe ${m[2]}: unknown option ${JSON.stringify(after)} after the probe string (ignored)`);
      const protocol = m[1] === 'TCP' ? 'tcp' : 'udp';
      const key = `${protocol}/${m[2]}`;
      if (this.#names.has(key)) this.#report(lineNo, `Probe ${m[2]}: a ${m[1]} probe of that name exists already; this one is used too`);
      this.#names.add(key);
      this.#probe = {
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
      return;
    }
    const probe = this.#probe;
    if (!probe) {
      this.#report(lineNo, `${directive}: outside of a Probe section (ignored)`);
      return;
    }
    switch (directive) {
      case 'match':
      case 'softmatch': {
        const rule = parseMatch(directive === 'softmatch', rest, this.#source, lineNo);
        if ('error' in rule) this.#report(lineNo, `${directive}: ${rule.error}`);
        else this.#pending.push({ into: probe.matches, rule });
        return;
      }
      case 'ports':
      case 'sslports': {
        const ranges = parsePortList(rest);
        if (!ranges) this.#report(lineNo, `${directive}: cannot read the port list ${JSON.stringify(rest.slice(0, 60))}`);
        else (directive === 'ports' ? probe.ports : probe.sslPorts).push(...ranges);
        return;
      }
      case 'totalwaitms':
      case 'tcpwrappedms':
      case 'rarity': {
        const value = /^\d+$/.test(rest) ? Number(rest) : Number.NaN;
        if (!Number.isSafeInteger(value) || (directive === 'rarity' && (value < 1 || value > 9))) {
          this.#report(lineNo, `${directive}: expected ${directive === 'rarity' ? 'an integer 1-9' : 'milliseconds'}, got ${JSON.stringify(rest)}`);
        } else if (directive === 'rarity') probe.rarity = value;
        else if (directive === 'totalwaitms') probe.totalWaitMs = value;
        else probe.tcpWrappedMs = value;
        return;
      }
      case 'fallback':
        probe.fallback.push(...rest.split(',').map((name) => name.trim()).filter(Boolean));
        return;
      default:
        this.#report(lineNo, `unknown directive ${JSON.stringify(directive)} (ignored)`);
    }
  }

  /** The last probe, the checks that need the whole file (fallbacks), and the database (rules to come). */
  #endLines(): ServiceProbeDatabase {
    this.#endProbe();
    const probes = this.#probes;
    const known = new Set(probes.map((p) => p.name));
    for (const p of probes) {
      for (const name of p.fallback) {
        if (!known.has(name)) this.#fallbackDiagnostics.push({ source: this.#source, line: p.line, message: `Probe ${p.name}: fallback ${JSON.stringify(name)} names no probe` });
      }
    }
    this.#database = { probes, exclude: this.#exclude, source: this.#source };
    return this.#database;
  }

  /** The result: the database, and the diagnostics of both stages in line order, then the fallback checks'. */
  #finish(): ParsedServiceProbes {
    const read = this.#diagnostics;
    const translated = this.#translationDiagnostics;
    const diagnostics: ProbeFileDiagnostic[] = [];
    let i = 0;
    let j = 0;
    while (i < read.length || j < translated.length) {
      if (j >= translated.length || (i < read.length && (read[i] as ProbeFileDiagnostic).line <= (translated[j] as ProbeFileDiagnostic).line)) diagnostics.push(read[i++] as ProbeFileDiagnostic);
      else diagnostics.push(translated[j++] as ProbeFileDiagnostic);
    }
    diagnostics.push(...this.#fallbackDiagnostics);
    this.#result = { database: this.#database as ServiceProbeDatabase, diagnostics };
    return this.#result;
  }
}

/**
 * Parses the text of a file in the `nmap-service-probes` format (read it as
 * latin1). Errors are collected as diagnostics, never thrown.
 *
 * It parses the whole text in one call, so in one turn of the event loop:
 * a few milliseconds for a small file, but most of a second for nmap's own
 * (about 12,000 rules, every pattern translated). To read a large file
 * without blocking other work, use {@link loadServiceProbes}, which parses
 * the same way (same result, same diagnostics) in slices.
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
  const parser = new ProbeFileParser(text, options.source ?? 'service-probes');
  parser.readUntil(Infinity);
  return parser.translateUntil(Infinity) as ParsedServiceProbes;
}

/** The longest a slice of {@link loadServiceProbes} parses before it yields to the event loop. */
const SLICE_MS = 5;

/** One `match`/`softmatch` line after its directive, all but the translation of its pattern ({@link translateRule}). */
function parseMatch(soft: boolean, rest: string, source: string, line: number): Omit<MatchRule, 'compiled'> | { error: string } {
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
  return { service, soft, pattern: pattern.text, caseless, dotAll, templates, source, line };
}

/** A rule's pattern translated (`pcre-pattern.ts`), or why it cannot be used. */
function translateRule(rule: Omit<MatchRule, 'compiled'>): TranslatedPattern | { error: string } {
  const compiled = translatePcre(rule.pattern, { caseless: rule.caseless, dotAll: rule.dotAll });
  if ('error' in compiled) return { error: `${rule.service}: the pattern cannot be used: ${compiled.error}` };
  if (matchesEmpty(compiled)) return { error: `${rule.service}: the pattern matches the empty string (nmap refuses such patterns)` };
  return compiled;
}

/** A load's translation as it goes (see {@link translationProgress}). */
interface ProgressState {
  /** The rules translated so far, in file order (the order of `database.probes.flatMap((p) => p.matches)`). */
  readonly rules: MatchRule[];
  /** Each translated rule's position in `rules`. */
  readonly index: WeakMap<MatchRule, number>;
  done: boolean;
  /** Pending rules (translated or refused) done so far. */
  translated: number;
  /** For each probe's `matches`, the position of its last rule among the pending ones. */
  readonly lastPending: Map<readonly MatchRule[], number>;
  readonly waiters: (() => void)[];
  readonly listeners: (() => void)[];
}

const progressOf = new WeakMap<ServiceProbeDatabase, ProgressState>();

/**
 * The translation of a database that {@link loadServiceProbes} is still
 * loading, for matching that begins before the load ends: the rules
 * translated so far in file order (they keep their positions, later ones
 * are appended), whether a probe's rules are all there, and a promise of
 * the next slice. Undefined for a database that is complete (parsed in one
 * call, or whose load is done).
 *
 * @example
 * ```ts
 * const progress = translationProgress(await probesKnownOf(load)!);
 * while (progress && !progress.complete(nullProbe)) await progress.next();
 * ```
 */
export function translationProgress(database: ServiceProbeDatabase): TranslationProgress | undefined {
  const state = progressOf.get(database);
  if (!state || state.done) return undefined;
  return {
    rules: state.rules,
    indexOf: (rule) => state.index.get(rule),
    get done() {
      return state.done;
    },
    complete: (probe) => state.done || state.translated > (state.lastPending.get(probe.matches) ?? -1),
    next: () => (state.done ? Promise.resolve() : new Promise<void>((resolve) => state.waiters.push(resolve))),
    onProgress: (listener) => void state.listeners.push(listener),
  };
}

/** What {@link translationProgress} returns. */
export interface TranslationProgress {
  /** The rules translated so far, in file order; it grows (appended) until the load ends. */
  readonly rules: readonly MatchRule[];
  /** A translated rule's position in {@link TranslationProgress.rules}. */
  indexOf(rule: MatchRule): number | undefined;
  /** Whether every pattern is translated. */
  readonly done: boolean;
  /** Whether every rule of `probe` is translated (its `matches` is final). */
  complete(probe: ServiceProbe): boolean;
  /** Resolves after the next slice of translation (at once when done). */
  next(): Promise<void>;
  /** Calls `listener` after each slice of translation. */
  onProgress(listener: () => void): void;
}

/** The databases of the loads under way, known once their lines are read (see {@link probesKnownOf}). */
const loads = new WeakMap<Promise<ParsedServiceProbes>, Promise<ServiceProbeDatabase>>();

/**
 * Reads and parses a probe file (latin1), with the same result and
 * diagnostics as {@link parseServiceProbes} on its text.
 *
 * It never holds the event loop for long: the file is read asynchronously
 * and parsed in slices of about 5 ms (a slice ends after the line or
 * pattern that passes its time; one is never split), with a `setImmediate`
 * turn between slices, so timers, sockets and other work go on while nmap's
 * own file (about 12,000 rules) loads. The whole load takes about as long as
 * one synchronous parse (half a second for nmap's file).
 *
 * The lines are read first (probes, directives, payloads: a few
 * milliseconds), then the patterns are translated (the rest). Pass the
 * promise itself as `detectServices({ probes })` and detection starts
 * probing as soon as the lines are read, while the patterns are still
 * being translated; matching waits for them, so the answers are the same.
 *
 * @throws PortscoutError `ERR_INVALID_OPTION` when the file cannot be read
 * @example
 * ```ts
 * const { database, diagnostics } = await loadServiceProbes('/usr/share/nmap/nmap-service-probes');
 * // or, probing while it loads:
 * detectServices({ targets: '127.0.0.1', ports: '22,443', probes: loadServiceProbes('/usr/share/nmap/nmap-service-probes') });
 * ```
 */
export function loadServiceProbes(path: string): Promise<ParsedServiceProbes> {
  let known: (database: ServiceProbeDatabase) => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const probes = new Promise<ServiceProbeDatabase>((resolve, reject) => {
    known = resolve;
    failed = reject;
  });
  // Read by detection only when it was given this load; its failure is the load's, reported there.
  probes.catch(() => undefined);
  const load = (async (): Promise<ParsedServiceProbes> => {
    let text: string;
    try {
      text = await readFile(path, 'latin1');
    } catch (error) {
      throw new PortscoutError('ERR_INVALID_OPTION', `Cannot read the service probe file ${JSON.stringify(path)}: ${(error as Error).message}. Pass the path of a file in nmap-service-probes format.`, { cause: error });
    }
    const parser = new ProbeFileParser(text, path);
    for (;;) {
      const database = parser.readUntil(performance.now() + SLICE_MS);
      if (database) {
        parser.trackProgress(database);
        known(database);
        break;
      }
      await yieldTurn();
    }
    for (;;) {
      const result = parser.translateUntil(performance.now() + SLICE_MS);
      if (result) return result;
      await yieldTurn();
    }
  })();
  load.then(undefined, failed);
  loads.set(load, probes);
  return load;
}

/**
 * The database of a load that {@link loadServiceProbes} returned, as soon
 * as its lines are read: every probe with its directives, but its
 * `matches` still being filled while the patterns are translated (the
 * load's own promise resolves when they are). Detection plans and sends
 * probes with it and matches only once the load is done. Undefined for any
 * other promise.
 *
 * @example
 * ```ts
 * const load = loadServiceProbes(path);
 * const early = probesKnownOf(load); // plan with (await early).probes; match with (await load).database
 * ```
 */
export function probesKnownOf(load: PromiseLike<unknown>): Promise<ServiceProbeDatabase> | undefined {
  return loads.get(load as Promise<ParsedServiceProbes>);
}

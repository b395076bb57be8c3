/**
 * A database of OS fingerprints in the `nmap-os-db` format: a `MatchPoints`
 * block (how many points each attribute of each test is worth) and
 * `Fingerprint` entries, each with its `Class` and `CPE` lines and its test
 * lines of expressions.
 *
 * portscout ships no such database and never looks for nmap's. A user may
 * pass nmap's own file (`/usr/share/nmap/nmap-os-db`); its licence (the
 * NPSL) then applies to that use.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { PortscoutError } from '../errors.js';
import { splitValues, type OsTest } from './fingerprint.js';

/**
 * One classification of a database entry (its `Class` line and the `CPE`
 * lines after it).
 *
 * @example
 * ```ts
 * const c: OsClass = { vendor: 'Linux', family: 'Linux', generation: '5.X', deviceType: 'general purpose', cpe: ['cpe:/o:linux:linux_kernel:5'] };
 * ```
 */
export interface OsClass {
  readonly vendor: string;
  readonly family: string;
  /** The OS generation (`5.X`, `10`), absent when the line leaves it empty. */
  readonly generation?: string;
  readonly deviceType: string;
  readonly cpe: readonly string[];
}

/**
 * One `Fingerprint` entry. Its tests are sorted by name and each test's
 * values by attribute, as the scorer walks them.
 *
 * @example
 * ```ts
 * const name = database.entries[0]!.name; // e.g. '2N Helios IP VoIP doorbell'
 * ```
 */
export interface OsReference {
  readonly name: string;
  /** The line of its `Fingerprint` line in the file. */
  readonly line: number;
  readonly classes: readonly OsClass[];
  readonly tests: readonly OsTest[];
}

/**
 * A parsed OS database.
 *
 * @example
 * ```ts
 * const { database } = parseOsDatabase(text);
 * database.matchPoints.get('SEQ')?.get('SP'); // 25 in nmap's file
 * ```
 */
export interface OsDatabase {
  /** Where it was read from (a path, or `'<text>'`). */
  readonly source: string;
  /** Points per attribute, per test name. */
  readonly matchPoints: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly entries: readonly OsReference[];
}

/**
 * A line of the file that could not be read; parsing goes on after it.
 *
 * @example
 * ```ts
 * const d: OsDatabaseDiagnostic = { line: 12, message: 'test line without "(": SEQ' };
 * ```
 */
export interface OsDatabaseDiagnostic {
  readonly line: number;
  readonly message: string;
}

/**
 * What {@link parseOsDatabase} and {@link loadOsDatabase} return.
 *
 * @example
 * ```ts
 * const { database, diagnostics }: OsDatabaseParse = await loadOsDatabase(path);
 * ```
 */
export interface OsDatabaseParse {
  readonly database: OsDatabase;
  readonly diagnostics: readonly OsDatabaseDiagnostic[];
}

interface EntryDraft {
  name: string;
  line: number;
  classes: { vendor: string; family: string; generation?: string; deviceType: string; cpe: string[] }[];
  tests: OsTest[];
  isMatchPoints: boolean;
}

/** Lines parsed between two yields to the event loop by {@link loadOsDatabase}. */
const LINES_PER_SLICE = 4_000;

/**
 * A line-by-line reader of the format, so that {@link loadOsDatabase} can
 * yield between slices. @internal
 */
class OsDatabaseReader {
  readonly diagnostics: OsDatabaseDiagnostic[] = [];
  readonly entries: OsReference[] = [];
  matchPoints: Map<string, Map<string, number>> | undefined;
  private current: EntryDraft | undefined;

  line(text: string, lineNo: number): void {
    if (text.startsWith('#')) return;
    if (text.trim() === '') {
      this.finish();
      return;
    }
    const head = text.slice(0, 11).toLowerCase();
    if (head === 'fingerprint') {
      this.finish();
      const name = text.slice(12).replace(/#.*$/, '').trim();
      if (name === '') {
        this.diagnostics.push({ line: lineNo, message: 'Fingerprint line without a name' });
        return;
      }
      this.current = { name, line: lineNo, classes: [], tests: [], isMatchPoints: false };
      return;
    }
    if (head === 'matchpoints') {
      this.finish();
      if (this.matchPoints) this.diagnostics.push({ line: lineNo, message: 'a second MatchPoints block (the first is kept)' });
      this.current = { name: '', line: lineNo, classes: [], tests: [], isMatchPoints: true };
      return;
    }
    const entry = this.current;
    if (!entry) {
      this.diagnostics.push({ line: lineNo, message: `line outside any Fingerprint or MatchPoints block: ${text.slice(0, 60)}` });
      return;
    }
    if (text.startsWith('Class ')) {
      const parts = text.slice(6).split('|');
      if (parts.length < 4) {
        this.diagnostics.push({ line: lineNo, message: `Class line needs four fields separated by "|": ${text.slice(0, 60)}` });
        return;
      }
      const generation = parts[2]!.trim();
      entry.classes.push({
        vendor: parts[0]!.trim(),
        family: parts[1]!.trim(),
        ...(generation === '' ? {} : { generation }),
        deviceType: parts.slice(3).join('|').trim(),
        cpe: [],
      });
      return;
    }
    if (text.startsWith('CPE ')) {
      const last = entry.classes.at(-1);
      const cpe = text.slice(4).trim().split(/\s+/)[0];
      if (!last || !cpe) {
        this.diagnostics.push({ line: lineNo, message: 'CPE line without a Class line before it' });
        return;
      }
      last.cpe.push(cpe);
      return;
    }
    const open = text.indexOf('(');
    const close = open < 0 ? -1 : text.indexOf(')', open + 1);
    if (open < 0 || close < 0) {
      this.diagnostics.push({ line: lineNo, message: `test line without "(" and ")": ${text.slice(0, 60)}` });
      return;
    }
    entry.tests.push({ name: text.slice(0, open), values: splitValues(text.slice(open + 1, close)) });
  }

  finish(): void {
    const entry = this.current;
    this.current = undefined;
    if (!entry) return;
    if (entry.isMatchPoints) {
      if (this.matchPoints) return;
      const points = new Map<string, Map<string, number>>();
      for (const test of entry.tests) {
        const values = new Map<string, number>();
        for (const [attribute, value] of test.values) {
          const n = /^\d+$/.test(value) ? Number(value) : NaN;
          if (Number.isNaN(n)) this.diagnostics.push({ line: entry.line, message: `MatchPoints ${test.name}.${attribute}: not a number of points: ${value}` });
          else values.set(attribute, n);
        }
        points.set(test.name, values);
      }
      this.matchPoints = points;
      return;
    }
    this.entries.push({ name: entry.name, line: entry.line, classes: entry.classes, tests: sortTests(entry.tests) });
  }

  result(source: string): OsDatabaseParse {
    this.finish();
    if (!this.matchPoints) this.diagnostics.push({ line: 0, message: 'no MatchPoints block: every test is worth nothing' });
    return { database: { source, matchPoints: this.matchPoints ?? new Map(), entries: this.entries }, diagnostics: this.diagnostics };
  }
}

/**
 * Tests sorted by name and each one's values by attribute (byte order, as
 * nmap's `strcmp`), the order the scorer walks. @internal
 */
export function sortTests(tests: readonly OsTest[]): OsTest[] {
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return tests
    .map((test) => ({ name: test.name, values: [...test.values].sort((a, b) => byName(a[0], b[0])) }))
    .sort((a, b) => byName(a.name, b.name));
}

/**
 * Parses a database in the `nmap-os-db` format. Lines that cannot be read
 * are listed as diagnostics with their line numbers; the rest loads.
 *
 * @example
 * ```ts
 * const { database, diagnostics } = parseOsDatabase(text, { source: 'my-os-db' });
 * ```
 */
export function parseOsDatabase(text: string, options: { source?: string } = {}): OsDatabaseParse {
  if (typeof text !== 'string') throw new PortscoutError('ERR_INVALID_OPTION', 'parseOsDatabase: text must be a string (the file contents).');
  const reader = new OsDatabaseReader();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) reader.line(lines[i]!.replace(/\r$/, ''), i + 1);
  return reader.result(options.source ?? '<text>');
}

/**
 * Reads and parses a database file in the `nmap-os-db` format, in slices
 * that leave the event loop free between them (nmap's file is 5 MB). A user
 * may pass nmap's own file; its licence (the NPSL) then applies.
 *
 * @throws PortscoutError `ERR_INVALID_OPTION` when the file cannot be read.
 *
 * @example
 * ```ts
 * const { database } = await loadOsDatabase('/usr/share/nmap/nmap-os-db');
 * ```
 */
export async function loadOsDatabase(path: string): Promise<OsDatabaseParse> {
  if (typeof path !== 'string' || path === '') throw new PortscoutError('ERR_INVALID_OPTION', 'loadOsDatabase: path must be a file path.');
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (error) {
    throw new PortscoutError('ERR_INVALID_OPTION', `loadOsDatabase: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const reader = new OsDatabaseReader();
  const lines = text.split('\n');
  for (let start = 0; start < lines.length; start += LINES_PER_SLICE) {
    const end = Math.min(lines.length, start + LINES_PER_SLICE);
    for (let i = start; i < end; i++) reader.line(lines[i]!.replace(/\r$/, ''), i + 1);
    if (end < lines.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return reader.result(path);
}

/**
 * Scoring an observed fingerprint against a database, as nmap 7.93 does
 * (osscan.cc): for every test and attribute present in both the entry and
 * the fingerprint, the attribute's `MatchPoints` count towards the possible
 * points, and towards the matched points when the value satisfies the
 * entry's expression. The accuracy is matched over possible points. Entries
 * at or above the threshold are kept best first, one per OS name (the best
 * of its entries), at most 36, as nmap keeps them.
 *
 * @module
 */
import { sortTests } from './os-database.js';
import type { OsClass, OsDatabase, OsReference } from './os-database.js';
import type { OsTest } from './fingerprint.js';

/**
 * nmap's threshold for a guess (`OSSCAN_GUESS_THRESHOLD`): 85% of the points.
 *
 * @example
 * ```ts
 * matchOsFingerprint(database, tests, { threshold: OS_GUESS_THRESHOLD });
 * ```
 */
export const OS_GUESS_THRESHOLD = 0.85;

/** How many matches nmap keeps (`MAX_FP_RESULTS`). */
const MAX_MATCHES = 36;

/**
 * One database entry that matched.
 *
 * @example
 * ```ts
 * const m: OsMatch = { name: 'Linux 5.3 - 5.4', accuracy: 96, score: 0.9637, line: 81234, classes: [] };
 * ```
 */
export interface OsMatch {
  readonly name: string;
  /** The accuracy as nmap prints it: the percentage, rounded down. */
  readonly accuracy: number;
  /** The exact ratio of matched to possible points (0..1). */
  readonly score: number;
  /** The entry's `Fingerprint` line in the database file. */
  readonly line: number;
  readonly classes: readonly OsClass[];
}

/**
 * Reads a hexadecimal number as C's `strtol(text, &end, 16)` does: leading
 * white space, a sign, an optional `0x`, then hex digits. Returns the value
 * (32-bit unsigned, as nmap stores it) and where the digits ended (the start
 * when there were none). @internal
 */
export function readHex(text: string, start: number): { value: number; end: number } {
  let i = start;
  while (i < text.length && ' \t\n\v\f\r'.includes(text[i]!)) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') {
    negative = text[i] === '-';
    i++;
  }
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && isHexDigit(text[i + 2])) i += 2;
  const digits = i;
  let value = 0;
  while (i < text.length && isHexDigit(text[i])) {
    value = (value * 16 + parseInt(text[i]!, 16)) % 0x1_0000_0000;
    i++;
  }
  if (i === digits) return { value: 0, end: start };
  return { value: negative ? (0x1_0000_0000 - value) % 0x1_0000_0000 : value, end: i };
}

function isHexDigit(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/**
 * Whether an observed value satisfies a database expression, with nmap's
 * exact reading (`expr_match`): alternatives split by `|`; for a value that
 * is a hex number, `<n`, `>n` and `lo-hi` compare numerically; otherwise the
 * alternative is compared as text. Its quirks are kept, since accuracies
 * must be nmap's: an alternative other than the last matches a value that
 * starts with it (`A` matches `A+`), and a `-` anywhere after an alternative
 * makes a numeric value compare as a range only.
 *
 * @example
 * ```ts
 * expressionMatches('10B', 'FA-104|10A-114'); // true
 * expressionMatches('M5B4ST11', 'M5B4ST11NW7|M5B4ST11'); // true
 * ```
 */
export function expressionMatches(value: string, expression: string): boolean {
  const parsed = readHex(value, 0);
  // strtol's end is the end of the string when the whole value is read (an empty value reads as 0).
  const isNumeric = value === '' || parsed.end === value.length;
  const number = parsed.value;
  let p = 0;
  for (;;) {
    const bar = expression.indexOf('|', p);
    const q = bar < 0 ? -1 : bar;
    const first = expression[p];
    if (isNumeric && (first === '<' || first === '>')) {
      const bound = readHex(expression, p + 1);
      const end = bound.end === p + 1 ? p + 1 : bound.end;
      if (end === q || end === expression.length) {
        if ((first === '<' && number < bound.value) || (first === '>' && number > bound.value)) return true;
      }
    } else if (isNumeric && expression.indexOf('-', p) >= 0) {
      const dash = expression.indexOf('-', p);
      const low = readHex(expression, p);
      if (low.end === dash) {
        const high = readHex(expression, dash + 1);
        if (high.end === q || high.end === expression.length) {
          if (number >= low.value && number <= high.value) return true;
        }
      }
    } else if (q >= 0) {
      const alternative = expression.slice(p, q);
      if (value.length >= alternative.length && value.startsWith(alternative)) return true;
    } else if (expression.slice(p) === value) {
      return true;
    }
    if (q < 0) return false;
    p = q + 1;
  }
}

/**
 * Possible and matched points of an observed fingerprint against one
 * entry. Both must be sorted (`sortTests`); tests or attributes absent from
 * either side count for nothing.
 *
 * @internal
 */
export function scoreEntry(entry: readonly OsTest[], observed: readonly OsTest[], points: OsDatabase['matchPoints']): { possible: number; matched: number } {
  let possible = 0;
  let matched = 0;
  let i = 0;
  let j = 0;
  while (i < entry.length && j < observed.length) {
    const reference = entry[i]!;
    const seen = observed[j]!;
    if (reference.name === seen.name) {
      const weights = points.get(reference.name);
      if (weights) {
        let a = 0;
        let b = 0;
        const rv = reference.values;
        const sv = seen.values;
        while (a < rv.length && b < sv.length) {
          const ra = rv[a]![0];
          const sa = sv[b]![0];
          if (ra === sa) {
            const weight = weights.get(ra) ?? 0;
            possible += weight;
            if (expressionMatches(sv[b]![1], rv[a]![1])) matched += weight;
            a++;
            b++;
          } else if (ra < sa) a++;
          else b++;
        }
      }
      i++;
      j++;
    } else if (reference.name < seen.name) i++;
    else j++;
  }
  return { possible, matched };
}

/**
 * The accuracy of one entry against an observed fingerprint (0..1), nmap's
 * `compare_fingerprints`.
 *
 * @example
 * ```ts
 * compareOsFingerprint(database.entries[0]!, observedTests, database); // e.g. 0.71
 * ```
 */
export function compareOsFingerprint(entry: OsReference, observed: readonly OsTest[], database: OsDatabase): number {
  const { possible, matched } = scoreEntry(entry.tests, sortTests(observed), database.matchPoints);
  return possible > 0 ? matched / possible : 0;
}

/** Entries scored between two yields to the event loop. */
const ENTRIES_PER_SLICE = 400;

/**
 * The database entries that match an observed fingerprint at or above the
 * threshold (default {@link OS_GUESS_THRESHOLD}), best first, as nmap's
 * `match_fingerprint` lists them: one per OS name, at most 36, ties in file
 * order. Runs in slices that leave the event loop free between them.
 *
 * @example
 * ```ts
 * const matches = await matchOsFingerprint(database, parseOsTests(text));
 * console.log(matches[0]?.name, matches[0]?.accuracy);
 * ```
 */
export async function matchOsFingerprint(database: OsDatabase, observed: readonly OsTest[], options: { threshold?: number; signal?: AbortSignal } = {}): Promise<OsMatch[]> {
  const sorted = sortTests(observed);
  let threshold = options.threshold ?? OS_GUESS_THRESHOLD;
  const list: { entry: OsReference; score: number }[] = [];
  const entries = database.entries;
  for (let start = 0; start < entries.length; start += ENTRIES_PER_SLICE) {
    if (start > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
    }
    const end = Math.min(entries.length, start + ENTRIES_PER_SLICE);
    for (let k = start; k < end; k++) {
      const entry = entries[k]!;
      const { possible, matched } = scoreEntry(entry.tests, sorted, database.matchPoints);
      const score = possible > 0 ? matched / possible : 0;
      if (!(score >= threshold || score === 1)) continue;
      const same = list.findIndex((m) => m.entry.name === entry.name);
      if (same >= 0) {
        if (list[same]!.score >= score) continue;
        list.splice(same, 1);
      }
      let at = list.findIndex((m) => m.score < score);
      if (at < 0) at = list.length;
      list.splice(at, 0, { entry, score });
      if (list.length > MAX_MATCHES) list.length = MAX_MATCHES;
      if (list.length === MAX_MATCHES) threshold = list[MAX_MATCHES - 1]!.score + 0.00001;
    }
  }
  return list.map(({ entry, score }) => ({ name: entry.name, accuracy: Math.floor(score * 100), score, line: entry.line, classes: entry.classes }));
}

/**
 * The guesses nmap shows of a match list (its normal output's "Aggressive
 * OS guesses" and its XML's `osmatch` elements): the first ten whose
 * accuracy is within 10 points of the best.
 *
 * @example
 * ```ts
 * nmapGuesses(await matchOsFingerprint(database, tests)).map((m) => `${m.name} (${m.accuracy}%)`).join(', ');
 * ```
 */
export function nmapGuesses(matches: readonly OsMatch[]): OsMatch[] {
  const best = matches[0]?.score ?? 0;
  const shown: OsMatch[] = [];
  for (const match of matches) {
    if (shown.length >= 10 || !(match.score > best - 0.1)) break;
    shown.push(match);
  }
  return shown;
}

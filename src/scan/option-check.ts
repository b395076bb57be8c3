/**
 * Checks a scan's options before its first packet: every name known, every
 * number a finite number in its range, and messages that say what was given
 * (`the string "100"`, not `100`) and how to fix it.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

/** How a value reads in an error message: strings quoted and named as strings, so `'100'` is not mistaken for `100`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)}${typeof value === 'bigint' ? 'n (a bigint)' : ''}`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/** The allowed range of a numeric option. */
export interface NumberRule {
  /** Smallest allowed value. */
  readonly min: number;
  /** Whether `min` itself is allowed (default true). */
  readonly minInclusive?: boolean;
  /** Largest allowed value (default: any finite number). */
  readonly max?: number;
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** What the number is, for the message (`packets per second`). */
  readonly unit?: string;
}

/**
 * Throws `ERR_INVALID_OPTION` unless `value` is undefined or a finite number within `rule`.
 *
 * @example
 * ```ts
 * checkNumberOption('rate', options.rate, { min: 0, minInclusive: false, unit: 'packets per second' });
 * ```
 */
export function checkNumberOption(name: string, value: unknown, rule: NumberRule): void {
  if (value === undefined) return;
  const inclusive = rule.minInclusive ?? true;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (inclusive ? value >= rule.min : value > rule.min) &&
    (rule.max === undefined || value <= rule.max) &&
    (!rule.integer || Number.isInteger(value));
  if (ok) return;
  const kind = rule.integer ? 'a whole number' : 'a finite number';
  const range = `${inclusive ? '>=' : '>'} ${rule.min}${rule.max === undefined ? '' : ` and <= ${rule.max}`}`;
  const unit = rule.unit === undefined ? '' : ` (${rule.unit})`;
  throw new PortscoutError('ERR_INVALID_OPTION', `Option ${name} must be ${kind} ${range}${unit}; got ${describeValue(value)}.`);
}

/** Edit distance of two short strings (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The known name closest to `name`, when one is close enough to be a likely
 * typo (same letters in another case, a prefix, or at most a third of the letters different).
 *
 * @example
 * ```ts
 * closestName('port', ['ports', 'targets']); // 'ports'
 * ```
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const score = candidate.toLowerCase() === lower ? 0 : distance(lower, candidate.toLowerCase());
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestScore <= limit || best.toLowerCase().startsWith(lower) ? best : undefined;
}

/**
 * Throws `ERR_INVALID_OPTION` for the first option name not in `known`
 * (with the closest known name as a hint). Plain JavaScript callers get no
 * type check: a misspelt `port` would otherwise scan the default ports.
 *
 * @example
 * ```ts
 * checkOptionNames({ port: '80' }, new Set(['ports', 'targets']), 'tcpSynScan'); // throws: did you mean ports?
 * ```
 */
export function checkOptionNames(options: object, known: ReadonlySet<string>, scanner: string): void {
  for (const name of Object.keys(options)) {
    if (known.has(name)) continue;
    const hint = closestName(name, known);
    throw new PortscoutError(
      'ERR_INVALID_OPTION',
      `Unknown option ${JSON.stringify(name)} for ${scanner}${hint === undefined ? '' : `: did you mean ${JSON.stringify(hint)}?`}` +
        ` Known options: ${[...known].sort().join(', ')}.`,
    );
  }
}

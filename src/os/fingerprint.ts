/**
 * An OS fingerprint: nmap's second-generation test lines (`SEQ`, `OPS`,
 * `WIN`, `ECN`, `T1`-`T7`, `U1`, `IE`), each a list of attribute/value pairs
 * in the order they were computed, and their text form
 * (`SEQ(SP=101%GCD=1%...)OPS(...)`) that nmap prints and accepts.
 *
 * @module
 */

/**
 * One test line of a fingerprint: its name and its attributes in order.
 * In a database entry a value is an expression (`FA-104`, `8|A`, `>5`); in
 * an observed fingerprint it is a plain value.
 *
 * @example
 * ```ts
 * const test: OsTest = { name: 'IE', values: [['R', 'Y'], ['DFI', 'N'], ['T', '40'], ['CD', 'S']] };
 * ```
 */
export interface OsTest {
  readonly name: string;
  readonly values: readonly (readonly [attribute: string, value: string])[];
}

/**
 * The order nmap prints test lines in.
 *
 * @example
 * ```ts
 * OS_TEST_ORDER.indexOf('T1'); // 4
 * ```
 */
export const OS_TEST_ORDER: readonly string[] = ['SEQ', 'OPS', 'WIN', 'ECN', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'U1', 'IE'];

/**
 * Renders test lines in nmap's text form, one line per test
 * (`SEQ(SP=101%GCD=1%ISR=10C%TI=Z%CI=Z%II=I%TS=22)`), in nmap's test order.
 *
 * @example
 * ```ts
 * formatOsTests([{ name: 'IE', values: [['R', 'Y'], ['DFI', 'N']] }]); // 'IE(R=Y%DFI=N)'
 * ```
 */
export function formatOsTests(tests: readonly OsTest[]): string {
  return [...tests]
    .sort((a, b) => testRank(a.name) - testRank(b.name))
    .map((test) => `${test.name}(${test.values.map(([attribute, value]) => `${attribute}=${value}`).join('%')})`)
    .join('\n');
}

function testRank(name: string): number {
  const rank = OS_TEST_ORDER.indexOf(name);
  return rank < 0 ? OS_TEST_ORDER.length : rank;
}

/**
 * Reads the test lines of a fingerprint in nmap's text form: one test per
 * line, or nmap's wrapped submission form (lines starting `OS:`, joined
 * before reading). The `SCAN(...)` line and any test portscout does not know
 * are kept as they are; text outside `NAME(...)` groups is ignored.
 *
 * @example
 * ```ts
 * parseOsTests('OS:SEQ(SP=101%GCD=1)IE(R=Y%DFI=N)'); // [{ name: 'SEQ', ... }, { name: 'IE', ... }]
 * ```
 */
export function parseOsTests(text: string): OsTest[] {
  const lines = text.split(/\r?\n/);
  const joined = lines.some((line) => line.startsWith('OS:'))
    ? lines.filter((line) => line.startsWith('OS:')).map((line) => line.slice(3)).join('')
    : lines.join('');
  const tests: OsTest[] = [];
  const group = /([A-Z][A-Z0-9]*)\(([^()]*)\)/g;
  for (let match = group.exec(joined); match; match = group.exec(joined)) {
    tests.push({ name: match[1]!, values: splitValues(match[2]!) });
  }
  return tests;
}

/**
 * Splits `A=1%B=2` into attribute/value pairs, as nmap's reader does: each
 * `%`-separated part up to its first `=`; a part without `=` is skipped.
 *
 * @internal
 */
export function splitValues(text: string): [string, string][] {
  if (text === '') return [];
  const pairs: [string, string][] = [];
  for (const part of text.split('%')) {
    const equals = part.indexOf('=');
    if (equals < 0) continue;
    pairs.push([part.slice(0, equals), part.slice(equals + 1)]);
  }
  return pairs;
}

/** Characters after `OS:` on each line of nmap's wrapped fingerprint. */
const WRAP_WIDTH = 72;

/**
 * A fingerprint in nmap's submission form: its lines joined, then cut into
 * lines of 72 characters, each after `OS:`, as nmap prints it under "TCP/IP
 * fingerprint:" and in its XML.
 *
 * @example
 * ```ts
 * wrapOsFingerprint('SCAN(V=portscout)\nIE(R=Y)'); // 'OS:SCAN(V=portscout)IE(R=Y)'
 * ```
 */
export function wrapOsFingerprint(text: string): string {
  const joined = text.split(/\r?\n/).join('');
  const lines: string[] = [];
  for (let i = 0; i < joined.length; i += WRAP_WIDTH) lines.push(`OS:${joined.slice(i, i + WRAP_WIDTH)}`);
  return lines.join('\n');
}

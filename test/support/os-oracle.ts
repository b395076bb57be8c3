/**
 * Comparing portscout's OS fingerprint with nmap's, for test/lab/os-detection.test.ts
 * and bench/os.ts: the values that depend on timing and on the target's random
 * ISNs are left out, the rest must be equal.
 */
import { parseOsTests, type OsTest } from '../../src/index.js';

/**
 * Values that depend on timing and on the target's random ISNs: SP, ISR, TS, and GCD (the ISN steps'
 * greatest common divisor: 2 or more when all five random steps share a factor, 1 in 32 runs for 2).
 */
export const TIMING_DEPENDENT: ReadonlySet<string> = new Set(['SEQ.SP', 'SEQ.ISR', 'SEQ.TS', 'SEQ.GCD']);

/** Every test value as `TEST.ATTRIBUTE` → value, the SCAN line left out. */
export function osValues(tests: readonly OsTest[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const test of tests) if (test.name !== 'SCAN') for (const [attribute, value] of test.values) out.set(`${test.name}.${attribute}`, value);
  return out;
}

/** The values (outside {@link TIMING_DEPENDENT}) where portscout's tests differ from nmap's fingerprint text. */
export function fingerprintDifferences(nmapPrint: string, ours: readonly OsTest[] | undefined): string[] {
  const nmapValues = osValues(parseOsTests(nmapPrint));
  const ourValues = osValues(ours ?? []);
  return [...new Set([...nmapValues.keys(), ...ourValues.keys()])]
    .filter((key) => !TIMING_DEPENDENT.has(key) && nmapValues.get(key) !== ourValues.get(key))
    .map((key) => `${key}: nmap ${nmapValues.get(key)}, portscout ${ourValues.get(key)}`);
}

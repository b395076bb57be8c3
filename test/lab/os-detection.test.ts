/**
 * OS detection in the namespace lab (issue 12), against nmap 7.93 on the
 * same target: `nmap -O --osscan-guess --max-os-tries 1 -d` (one round, as
 * portscout does) and detectOs, both with Debian's nmap-os-db read at test
 * time (never copied).
 * - Every fingerprint test is nmap's, except the three that depend on timing
 *   and on the target's random offsets (SEQ's SP, ISR, TS and GCD). Across ten
 *   of nmap's own runs here they moved within SP FF-106, ISR 105-10F and
 *   TS 21-22; the test checks ours against the ranges of nmap's best
 *   database entry for this target instead.
 * - nmap's own fingerprint, scored by portscout, gives nmap's guesses: the
 *   same names, accuracies and database lines, in the same order.
 * - portscout's fingerprint with nmap's SP, ISR and TS gives nmap's list
 *   exactly; with its own, a guess of nmap's list within a point of nmap's best.
 * - The passive hint (TTL, SYN/ACK window and options) says Linux, with
 *   the probes and with `passive: true` (nothing sent but the SYN scan).
 * - Faults: no closed port, every port filtered, and the lossy t2: each
 *   gives its reason, and never a confident wrong answer (t1 and t2 run
 *   Linux: any guess made must be Linux).
 */
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { tsxArgv } from './exec.js';
import { decodeXmlEntities } from './xml.js';
import { TIMING_DEPENDENT, fingerprintDifferences, osValues } from '../support/os-oracle.js';
import { loadOsDatabase, matchOsFingerprint, nmapGuesses, parseOsTests, type OsDatabase, type OsEvent, type OsTest } from '../../src/index.js';

const OS_DB = '/usr/share/nmap/nmap-os-db';

async function detectInLab(lab: Lab, targets: string, ports: string, options: Record<string, unknown> = {}): Promise<OsEvent> {
  const run = await lab.spawnInScanner(tsxArgv('test/support/detect-os-child.ts', [JSON.stringify({ targets, ports, dbFile: OS_DB, options })]), { timeoutMs: 60_000 });
  const lines = run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string });
  const event = lines.find((line): line is OsEvent => line.type === 'os');
  if (!event) throw new Error(`no os event from the child: ${run.stdout}\n${run.stderr}`);
  return event;
}

describe.skipIf(skipLab('OS detection lab') || !existsSync(OS_DB))('OS detection in the namespace lab', () => {
  let lab: Lab;
  let database: OsDatabase;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portscout-os-'));
    [lab, { database }] = await Promise.all([createLab(), loadOsDatabase(OS_DB)]);
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives nmap's fingerprint and nmap's guesses on t1", async () => {
    const target = lab.t1.ipv4[0];
    const xmlPath = join(dir, 'nmap-os.xml');
    await lab.exec('scan', ['nmap', '-O', '--osscan-guess', '--max-os-tries', '1', '-d', '-n', '-Pn', '-p', '1,22,80', '-oX', xmlPath, target], { timeoutMs: 120_000 });
    const xml = readFileSync(xmlPath, 'utf8');
    const nmapPrint = decodeXmlEntities(/<osfingerprint fingerprint="([^"]*)"/.exec(xml)?.[1] ?? '');
    const nmapMatches = [...xml.matchAll(/<osmatch name="([^"]*)" accuracy="(\d+)" line="(\d+)"/g)].map((m) => ({ name: decodeXmlEntities(m[1]!), accuracy: Number(m[2]), line: Number(m[3]) }));
    expect(nmapPrint).toContain('SEQ(');
    expect(nmapMatches.length).toBeGreaterThan(0);

    // nmap's own fingerprint, scored by portscout: nmap's list, exactly.
    const fromNmapPrint = nmapGuesses(await matchOsFingerprint(database, parseOsTests(nmapPrint)));
    expect(fromNmapPrint.map(({ name, accuracy, line }) => ({ name, accuracy, line }))).toEqual(nmapMatches);

    const ours = await detectInLab(lab, target, '1,22,80');
    expect(ours.reasons).toEqual([]);
    expect(ours.distance).toBe(1);
    expect(ours.ports).toMatchObject({ open: 22, closed: 1 });
    const nmapValues = osValues(parseOsTests(nmapPrint));
    const ourValues = osValues(ours.tests ?? []);
    expect(fingerprintDifferences(nmapPrint, ours.tests)).toEqual([]);
    // SP and ISR are near nmap's: across ten runs each tool's moved within 0x14 (SP) and 0xE (ISR).
    for (const attribute of ['SP', 'ISR']) {
      const gap = Math.abs(parseInt(ourValues.get(`SEQ.${attribute}`)!, 16) - parseInt(nmapValues.get(`SEQ.${attribute}`)!, 16));
      expect(gap, `${attribute}: nmap ${nmapValues.get(`SEQ.${attribute}`)}, portscout ${ourValues.get(`SEQ.${attribute}`)}`).toBeLessThanOrEqual(0x20);
    }
    const ourGuesses = nmapGuesses(ours.matches);
    console.log(`[os] nmap: ${nmapMatches.map((m) => `${m.name} (${m.accuracy}%)`).join(', ')}`);
    console.log(`[os] portscout: ${ourGuesses.map((m) => `${m.name} (${m.accuracy}%)`).join(', ')} in ${ours.elapsedMs.toFixed(0)} ms, ${ours.probesSent} probes`);
    // With nmap's own SP, ISR and TS in it, portscout's fingerprint gives nmap's list exactly.
    const timing = new Map(parseOsTests(nmapPrint).find((test) => test.name === 'SEQ')!.values.filter(([attribute]) => TIMING_DEPENDENT.has(`SEQ.${attribute}`)));
    const withNmapTiming = (ours.tests ?? []).map((test) => (test.name === 'SEQ' ? { name: 'SEQ', values: test.values.map(([a, v]) => [a, timing.get(a) ?? v] as const) } : test));
    const fromOurs = nmapGuesses(await matchOsFingerprint(database, withNmapTiming));
    expect(fromOurs.map(({ name, accuracy, line }) => ({ name, accuracy, line }))).toEqual(nmapMatches);
    // With its own, its best guess is one of nmap's, within a point of nmap's best: the timing values move
    // the top few Linux entries by a point for nmap too (nmap's best was Linux 3.2 in 1 of 10 runs here).
    expect(nmapMatches.map((m) => m.name)).toContain(ourGuesses[0]?.name);
    expect(Math.abs(ourGuesses[0]!.accuracy - nmapMatches[0]!.accuracy)).toBeLessThanOrEqual(1);
    expect(ours.perfect).toBe(false);
    // The passive hint, from the SYN scan's own replies: TTL 64, Linux's option order, Linux's window.
    expect(ours.hint?.family).toBe('Linux');
    expect(ours.hint?.evidence.map((e) => e.source)).toEqual(['ttl', 'tcp-options', 'window']);
  }, 180_000);

  it('gives a reason, and never a confident wrong answer, when conditions are not ideal', async () => {
    const t1 = lab.t1.ipv4[0];
    const [noClosed, filtered, lossy, passive] = await Promise.all([
      detectInLab(lab, t1, '22,8081'), // 8081 is dropped: no closed port known
      detectInLab(lab, t1, '8081'), // every port filtered: nothing open
      detectInLab(lab, lab.t2.ipv4[0], '1,22,80'), // 10% loss each way, echo requests dropped, ICMP rate limits
      detectInLab(lab, t1, '1,22', { passive: true }), // the hint only: nothing sent but the SYN scan
    ]);
    expect(passive).toMatchObject({ reasons: ['passive'], probesSent: 0, matches: [], hint: { family: 'Linux' } });
    expect(noClosed.reasons).toContain('no-closed-port');
    expect(noClosed.matches[0]?.classes[0]?.family).toBe('Linux');

    expect(filtered.reasons).toEqual(['no-open-port', 'no-closed-port']);
    expect(filtered.matches).toEqual([]);
    expect(filtered.fingerprint).toBeUndefined();

    // t2 drops echo requests: IE gets no answer.
    expect(new Map(lossy.tests?.find((test) => test.name === 'IE')?.values).get('R')).toBe('N');
    if (lossy.matches.length === 0) expect(lossy.reasons.some((reason) => reason === 'too-few-replies' || reason === 'send-error')).toBe(true);
    else expect(lossy.matches[0]!.classes.some((c) => c.family === 'Linux')).toBe(true);
    console.log(`[os] t2 (lossy): reasons ${JSON.stringify(lossy.reasons)}, best ${lossy.matches[0]?.name ?? 'none'} (${lossy.matches[0]?.accuracy ?? '-'}%)`);
  }, 180_000);
});

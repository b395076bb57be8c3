/**
 * The nmap-os-db reader and the scorer, over a small database written here
 * for the purpose (never nmap's): expressions with nmap's exact reading,
 * points and accuracies worked out by hand, nmap's list rules (one entry per
 * name, best first, ties in file order, the threshold), and diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { compareOsFingerprint, expressionMatches, formatOsTests, matchOsFingerprint, parseOsDatabase, parseOsTests } from '../../src/os/index.js';

const DATABASE = `# A database written for this test.
MatchPoints
SEQ(SP=25%GCD=75%TI=100)
T1(R=100%DF=20%W=10)
IE(R=50%CD=100)

Fingerprint Alpha OS 1.0
Class Alpha | AlphaOS | 1.X | general purpose
CPE cpe:/o:alpha:alphaos:1 auto
SEQ(SP=F0-110%GCD=1-6%TI=Z)
T1(R=Y%DF=Y%W=FE88)
IE(R=Y%CD=S)

Fingerprint Beta Router
Class Beta | BetaOS || router
CPE cpe:/h:beta:router
SEQ(SP=0-5%GCD=1%TI=I|RD)
T1(R=Y%DF=N%W=4000)
IE(R=N)

Fingerprint Alpha OS 1.0
Class Alpha | AlphaOS | 1.X | general purpose
SEQ(SP=F0-110%GCD=1-6%TI=Z)
T1(R=Y%DF=Y%W=FE88|8000)
IE(R=Y%CD=Z)

Fingerprint Gamma OS
Class Gamma | GammaOS | 2 | general purpose
SEQ(SP=F0-110%GCD=1-6%TI=Z)
T1(R=Y%DF=Y%W=FE88)
IE(R=Y%CD=S)
bogus line without parentheses
`;

const observed = parseOsTests('SEQ(SP=101%GCD=1%TI=Z)\nT1(R=Y%DF=Y%W=FE88)\nIE(R=Y%CD=S)');

describe('expressions', () => {
  it.each([
    ['10B', 'FA-104|10A-114', true],
    ['10B', 'FA-104', false],
    ['5', '>4', true],
    ['5', '<5', false],
    ['Z', 'Z|RD', true],
    ['RD', 'Z|RD', true],
    ['RI', 'Z|RD', false],
    ['', '', true],
    ['M5B4', 'M5B4ST11|M5B4', true],
    // nmap's quirks, kept so that accuracies are nmap's: an alternative before a | matches as a prefix,
    ['A+', 'A|Z', true],
    ['A+', 'Z|A', false],
    // and a '-' later in the expression makes a numeric value compare as a range only.
    ['8', '8|A-C', false],
    ['B', '8|A-C', true],
    // a value that is not hex never compares numerically.
    ['S+', '>0', false],
  ])('%j against %j is %s', (value, expression, expected) => {
    expect(expressionMatches(value, expression)).toBe(expected);
  });
});

describe('the database reader', () => {
  it('reads MatchPoints, entries, classes and CPEs, and lists the line it cannot read', () => {
    const { database, diagnostics } = parseOsDatabase(DATABASE, { source: 'test-db' });
    expect(database.entries.map((e) => e.name)).toEqual(['Alpha OS 1.0', 'Beta Router', 'Alpha OS 1.0', 'Gamma OS']);
    expect(database.matchPoints.get('SEQ')?.get('GCD')).toBe(75);
    expect(database.entries[1]!.classes).toEqual([{ vendor: 'Beta', family: 'BetaOS', deviceType: 'router', cpe: ['cpe:/h:beta:router'] }]);
    expect(database.entries[0]!.classes[0]!.cpe).toEqual(['cpe:/o:alpha:alphaos:1']);
    expect(database.entries[1]!.line).toBe(14);
    expect(diagnostics).toEqual([{ line: 32, message: 'test line without "(" and ")": bogus line without parentheses' }]);
  });
});

describe('scoring', () => {
  const { database } = parseOsDatabase(DATABASE);

  it('counts the points of the attributes both sides have', () => {
    // Alpha (first entry): everything matches: 25 + 75 + 100 + 100 + 20 + 10 + 50 + 100 = 480 of 480.
    expect(compareOsFingerprint(database.entries[0]!, observed, database)).toBe(1);
    // Beta: SP no (25), GCD yes (75), TI no (100), T1.R yes (100), DF no (20), W no (10), IE.R no (50); CD absent from Beta: not counted.
    // 175 of 380.
    expect(compareOsFingerprint(database.entries[1]!, observed, database)).toBeCloseTo(175 / 380, 12);
    // Alpha's second entry: CD=Z fails (100): 380 of 480.
    expect(compareOsFingerprint(database.entries[2]!, observed, database)).toBeCloseTo(380 / 480, 12);
  });

  it('lists one entry per name, best first, ties in file order, from the threshold up', async () => {
    const matches = await matchOsFingerprint(database, observed, { threshold: 0.5 });
    expect(matches.map((m) => [m.name, m.accuracy])).toEqual([
      ['Alpha OS 1.0', 100],
      ['Gamma OS', 100],
    ]);
    const lower = await matchOsFingerprint(database, parseOsTests('SEQ(SP=101%GCD=1%TI=Z)T1(R=Y%DF=Y%W=8000)IE(R=Y%CD=Z)'), { threshold: 0.5 });
    // Alpha's second entry now matches fully (480/480); its first scores 370/480 and gives way; Gamma 370/480 = 77%.
    expect(lower.map((m) => [m.name, m.accuracy, m.line])).toEqual([
      ['Alpha OS 1.0', 100, 21],
      ['Gamma OS', 77, 27],
    ]);
    expect(await matchOsFingerprint(database, observed, { threshold: 0.85 })).toHaveLength(2);
  });

  it('reads and writes fingerprint text, nmap\'s wrapped submission form included', () => {
    const wrapped = 'OS:SCAN(V=portscout%E=4)SEQ(SP=101%GCD=1%TI=Z)T1(R=Y%DF=Y%W\nOS:=FE88)IE(R=Y%CD=S)\n';
    const tests = parseOsTests(wrapped).filter((t) => t.name !== 'SCAN');
    expect(formatOsTests(tests)).toBe('SEQ(SP=101%GCD=1%TI=Z)\nT1(R=Y%DF=Y%W=FE88)\nIE(R=Y%CD=S)');
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchesEmpty, startsWithInput, translatePcre, type PcreFlags, type TranslatedPattern } from '../../src/service/pcre-pattern.js';

const NMAP_FILE = '/usr/share/nmap/nmap-service-probes';

/** Translates or fails the test with the translator's message. */
function tr(pattern: string, flags?: PcreFlags): TranslatedPattern {
  const t = translatePcre(pattern, flags);
  if ('error' in t) throw new Error(`cannot translate ${JSON.stringify(pattern)}: ${t.error}`);
  return t;
}

/** PCRE groups (0 = whole match) of matching `subject`, or null. */
function groups(pattern: string, subject: string, flags?: PcreFlags): (string | undefined)[] | null {
  const t = tr(pattern, flags);
  const m = t.regex.exec(subject);
  if (!m) return null;
  const out: (string | undefined)[] = [m[0]];
  for (let n = 1; n <= t.groupCount; n++) out.push(m[t.groupMap[n] as number]);
  return out;
}

const test = (pattern: string, subject: string, flags?: PcreFlags): boolean => tr(pattern, flags).regex.test(subject);
const errorOf = (pattern: string, flags?: PcreFlags): string | undefined => {
  const t = translatePcre(pattern, flags);
  return 'error' in t ? t.error : undefined;
};
const latin1 = (...bytes: number[]): string => Buffer.from(bytes).toString('latin1');

describe('translatePcre: output shape', () => {
  it('never uses flags', () => {
    const t = tr('(?i)ab.c$', { caseless: true, dotAll: true });
    expect(t.regex.flags).toBe('');
    expect(t.source).toBe(t.regex.source);
  });
  it('maps groups one to one when nothing is wrapped', () => {
    const t = tr('(a)(?:b)(c)');
    expect(t.groupCount).toBe(2);
    expect(t.groupMap).toEqual([0, 1, 2]);
  });
  it('never throws, even on garbage', () => {
    for (const p of ['(', ')', '[', 'a{2,1}', '*a', '\\', '(?', '(?z)', '[z-a]', '\\x{100}', '\\1']) {
      const t = translatePcre(p);
      expect('error' in t, p).toBe(true);
      if ('error' in t) expect(t.error.length).toBeGreaterThan(5);
    }
  });
});

describe('translatePcre: anchors', () => {
  it('$ also matches before a final newline', () => {
    expect(test('ok$', 'ok')).toBe(true);
    expect(test('ok$', 'ok\n')).toBe(true);
    expect(test('ok$', 'ok\n\n')).toBe(false);
    expect(test('ok$', 'ok\r\n')).toBe(false);
  });
  it('$ in a class and \\$ are literal', () => {
    expect(test('^[$]x', '$x')).toBe(true);
    expect(test('^a\\$b', 'a$b')).toBe(true);
    expect(test('^a\\$', 'a')).toBe(false);
  });
  it('\\A, \\Z, \\z, \\G', () => {
    expect(test('\\Aab', 'ab')).toBe(true);
    expect(test('\\Aab', 'xab')).toBe(false);
    expect(test('ab\\Z', 'ab\n')).toBe(true);
    expect(test('ab\\z', 'ab\n')).toBe(false);
    expect(test('ab\\z', 'ab')).toBe(true);
    expect(test('\\Gab', 'ab')).toBe(true);
  });
  it('(?m) makes ^ and $ work on lines', () => {
    expect(test('(?m)^b$', 'a\nb\nc')).toBe(true);
    expect(test('^b$', 'a\nb\nc')).toBe(false);
    expect(test('(?m)x\\n^', 'x\n')).toBe(false); // ^ does not match after the final newline
  });
});

describe('translatePcre: dot and shorthand classes', () => {
  it('. matches \\r and all bytes but \\n', () => {
    expect(test('^a.b$', 'a\rb')).toBe(true);
    expect(test('^a.b$', 'a\u0085b')).toBe(true);
    expect(test('^a.b$', 'a\nb')).toBe(false);
    expect(test('^a.b$', 'a\nb', { dotAll: true })).toBe(true);
    expect(test('(?s)^a.b$', 'a\nb')).toBe(true);
    expect(test('^(?s:a.)b.', 'a\nb\n')).toBe(false);
  });
  it('\\s is ASCII whitespace including VT, not NBSP', () => {
    expect(test('^\\s$', '\x0b')).toBe(true);
    expect(test('^\\s$', '\xa0')).toBe(false);
    expect(test('^\\S$', '\xa0')).toBe(true);
    expect(test('^[\\S]$', '\xa0')).toBe(true);
    expect(test('^[\\S]$', ' ')).toBe(false);
    expect(test('^[x\\s]+$', 'x \t\r\n\f\x0b')).toBe(true);
  });
  it('\\w, \\d, \\b are ASCII', () => {
    expect(test('^\\w$', '\xe9')).toBe(false);
    expect(test('^\\W$', '\xe9')).toBe(true);
    expect(test('^\\d+$', '0129')).toBe(true);
    expect(test('^[\\D]$', '5')).toBe(false);
    expect(test('\\bfoo\\b', 'a foo.')).toBe(true);
    expect(test('\\Boo', 'foo')).toBe(true);
  });
  it('\\h, \\v, \\R, \\N', () => {
    expect(test('^\\h$', '\xa0')).toBe(true);
    expect(test('^\\h$', '\n')).toBe(false);
    expect(test('^\\H$', 'x')).toBe(true);
    expect(test('^\\v$', '\x0b')).toBe(true);
    expect(test('^\\v$', '\x85')).toBe(true);
    expect(test('^\\v$', 'v')).toBe(false);
    expect(test('^[\\v]$', '\r')).toBe(true);
    expect(test('^a\\Rb$', 'a\r\nb')).toBe(true);
    expect(test('^a\\Rb$', 'a\rb')).toBe(true);
    // \R is atomic: having matched \r\n it does not give back the \n
    expect(test('^a\\R\\nb$', 'a\r\nb')).toBe(false);
    expect(test('^\\N+$', 'a\rb')).toBe(true);
    expect(test('^\\N$', '\n')).toBe(false);
  });
});

describe('translatePcre: character classes', () => {
  it('] first in a class is literal', () => {
    expect(test('^[]a]+$', ']a]')).toBe(true);
    expect(test('^[^]]$', ']')).toBe(false);
    expect(test('^[^]]$', 'x')).toBe(true);
  });
  it('ranges, hyphens and escapes', () => {
    expect(test('^[a-c-]+$', 'ab-c')).toBe(true);
    expect(test('^[-z]+$', '-z')).toBe(true);
    expect(test('^[\\x00-\\x1f]$', '\x1f')).toBe(true);
    expect(test('^[\\x00-\\x1f]$', ' ')).toBe(false);
    expect(test('^[a-\\d]+$', 'a-5')).toBe(true);
    expect(test('^[\\]\\\\]+$', ']\\')).toBe(true);
    expect(test('^[\\b]$', '\b')).toBe(true);
    expect(test('^[.]$', 'x')).toBe(false);
  });
  it('negated classes match accented bytes and newlines', () => {
    expect(test('^[^a]$', '\n')).toBe(true);
    expect(test('^[^a]$', '\xe9')).toBe(true);
    expect(test('^[^a]$', 'a')).toBe(false);
  });
  it('POSIX classes', () => {
    expect(test('^[[:alpha:]]+$', 'abXY')).toBe(true);
    expect(test('^[[:alpha:]]$', '\xe9')).toBe(false);
    expect(test('^[[:digit:][:upper:]]+$', '12AB')).toBe(true);
    expect(test('^[[:alnum:]_]+$', 'a_1')).toBe(true);
    expect(test('^[[:space:]]+$', ' \t\x0b')).toBe(true);
    expect(test('^[[:lower:]]+$', 'abc')).toBe(true);
    expect(test('^[[:lower:]]+$', 'aBc')).toBe(false);
    expect(test('^[[:punct:]]+$', '!/@[`{~')).toBe(true);
    expect(test('^[[:punct:]]$', 'a')).toBe(false);
    expect(test('^[[:xdigit:]]+$', '09afAF')).toBe(true);
    expect(test('^[[:xdigit:]]$', 'g')).toBe(false);
    expect(test('^[[:print:]]+$', 'a b~')).toBe(true);
    expect(test('^[[:graph:]]$', ' ')).toBe(false);
    expect(test('^[[:cntrl:]]+$', '\x00\x1f\x7f')).toBe(true);
    expect(test('^[[:word:]]+$', 'a_9')).toBe(true);
    expect(test('^[[:^alpha:]]+$', '1 \xe9')).toBe(true);
    expect(test('^[[:^alpha:]]$', 'q')).toBe(false);
    expect(errorOf('[[:nope:]]')).toMatch(/POSIX class/);
  });
  it('caseless classes fold ASCII letters only', () => {
    expect(test('^[a-f]+$', 'aBcF', { caseless: true })).toBe(true);
    expect(test('^[^a]$', 'A', { caseless: true })).toBe(false);
    expect(test('^[[:upper:]]$', 'q', { caseless: true })).toBe(true);
    expect(test('^[\\xe9]$', '\xc9', { caseless: true })).toBe(false);
  });
});

describe('translatePcre: caseless', () => {
  it('folds ASCII letters, not Latin-1 ones', () => {
    expect(test('^hello$', 'HeLLo', { caseless: true })).toBe(true);
    expect(test('^hello$', 'HeLLo')).toBe(false);
    expect(test('^caf\\xe9$', 'CAF\xe9', { caseless: true })).toBe(true);
    expect(test('^caf\\xe9$', 'CAF\xc9', { caseless: true })).toBe(false);
    expect(test('^\\x41$', 'a', { caseless: true })).toBe(true);
  });
  it('inline (?i), (?-i) and (?i:...)', () => {
    expect(test('^a(?i)b$', 'aB')).toBe(true);
    expect(test('^a(?i)b$', 'AB')).toBe(false);
    expect(test('^(?i:a)b$', 'Ab')).toBe(true);
    expect(test('^(?i:a)b$', 'AB')).toBe(false);
    expect(test('^a(?-i)b$', 'Ab', { caseless: true })).toBe(true);
    expect(test('^a(?-i)b$', 'AB', { caseless: true })).toBe(false);
    // an option set inside a group ends with the group, and applies to later alternatives in it
    expect(test('^(a(?i)b|c)d$', 'Cd')).toBe(true);
    expect(test('^(a(?i)b|c)d$', 'cD')).toBe(false);
  });
  it('refuses caseless back-references', () => {
    expect(errorOf('(a)\\1', { caseless: true })).toMatch(/caseless back-reference/);
  });
});

describe('translatePcre: atomic groups and possessive quantifiers', () => {
  it('(?>...) does not backtrack, and group numbers are mapped', () => {
    expect(test('^(?>a+)ab$', 'aaab')).toBe(false);
    expect(test('^(?:a+)ab$', 'aaab')).toBe(true);
    expect(groups('(?>a+)(b)', 'xaab')).toEqual(['aab', 'b']);
    const t = tr('(?>a+)(b)');
    expect(t.groupMap[1]).toBe(2);
  });
  it('groups inside an atomic group are kept', () => {
    expect(groups('^(?>(a+))(b)', 'aab')).toEqual(['aab', 'aa', 'b']);
  });
  it('possessive quantifiers', () => {
    expect(test('^a*+a', 'aaa')).toBe(false);
    expect(test('^a++b', 'aab')).toBe(true);
    expect(test('^a?+a$', 'a')).toBe(false);
    expect(test('^a{1,3}+a$', 'aaa')).toBe(false);
    expect(test('^a{1,3}+a$', 'aaaa')).toBe(true);
    expect(groups('^(x)[^"]*+"(\\d)', 'x abc"7')).toEqual(['x abc"7', 'x', '7']);
  });
  it('quantified atomic groups', () => {
    expect(groups('^(?>ab)*(c)', 'ababc')).toEqual(['ababc', 'c']);
  });
  it('lazy and ungreedy quantifiers', () => {
    expect(groups('^(a+?)', 'aaa')).toEqual(['a', 'a']);
    expect(groups('(?U)^(a+)', 'aaa')).toEqual(['a', 'a']);
    expect(groups('(?U)^(a+?)', 'aaa')).toEqual(['aaa', 'aaa']);
  });
});

describe('translatePcre: groups and references', () => {
  it('named groups count as capturing', () => {
    expect(groups('(?<x>a)(?P<y>b)(?\'z\'c)(d)', 'abcd')).toEqual(['abcd', 'a', 'b', 'c', 'd']);
  });
  it('back-references are renumbered', () => {
    expect(groups('(?>(a))(b)\\2', 'abb')).toEqual(['abb', 'a', 'b']);
    expect(test('(?>x)(b)\\1', 'xbc')).toBe(false);
    expect(test('(a)\\g{1}', 'aa')).toBe(true);
    expect(test('(a)\\g1', 'aa')).toBe(true);
    expect(test('(a)(b)\\g{-2}', 'aba')).toBe(true);
    expect(test('(?<n>q)\\k<n>', 'qq')).toBe(true);
    expect(test('(?P<n>q)(?P=n)', 'qq')).toBe(true);
    expect(test('(a)\\10', 'aa0')).toBe(false); // \10 with one group is octal 010 (backspace)
    expect(test('(a)\\10', 'a\b')).toBe(true);
    expect(test('(a)\\1 0', 'aa 0')).toBe(true);
    expect(errorOf('(a)\\2')).toMatch(/non-existent/);
  });
  it('a back-reference followed by a digit stays a back-reference', () => {
    expect(groups('(?>a)(b)\\g{1}1', 'abb1')).toEqual(['abb1', 'b']);
  });
  it('comments, non-capturing groups and lookarounds', () => {
    expect(groups('a(?#note)(b)', 'ab')).toEqual(['ab', 'b']);
    expect(test('^foo(?=bar)', 'foobar')).toBe(true);
    expect(test('^foo(?!bar)', 'foobar')).toBe(false);
    expect(test('(?<=x)y', 'xy')).toBe(true);
    expect(test('(?<!x)y', 'xy')).toBe(false);
  });
  it('reports what cannot be translated', () => {
    expect(errorOf('a\\Kb')).toMatch(/\\K/);
    expect(errorOf('(a(?R)?b)')).toMatch(/recursion/);
    expect(errorOf('(a)(?1)')).toMatch(/recursion/);
    expect(errorOf('(a)?(?(1)b|c)')).toMatch(/conditional/);
    expect(errorOf('(*UTF)a')).toMatch(/verbs/);
    expect(errorOf('\\p{L}')).toMatch(/Unicode/);
    expect(errorOf('(?<=(?>ab))c')).toMatch(/lookbehind/);
    expect(errorOf('(?<=a++)c')).toMatch(/lookbehind/);
    expect(errorOf('(a)(?<=\\1)c')).toMatch(/lookbehind/);
  });
});

describe('translatePcre: escapes', () => {
  it('octal, hex and control escapes', () => {
    expect(test('^\\0$', '\0')).toBe(true);
    expect(test('^\\012$', '\n')).toBe(true);
    expect(test('^\\o{101}$', 'A')).toBe(true);
    expect(test('^\\x{41}\\x{e9}$', 'A\xe9')).toBe(true);
    expect(test('^\\x7$', '\x07')).toBe(true);
    expect(test('^\\xag$', '\x0ag')).toBe(true);
    expect(test('^\\e\\a\\f\\t$', '\x1b\x07\f\t')).toBe(true);
    expect(test('^\\cA\\c[$', '\x01\x1b')).toBe(true);
    expect(test('^[\\x41-\\x43]+$', 'ABC')).toBe(true);
    expect(errorOf('\\x{100}')).toMatch(/too large/);
  });
  it('\\Q...\\E quotes', () => {
    expect(test('^\\Q.*+?(\\E$', '.*+?(')).toBe(true);
    expect(test('^\\Q.*\\E$', 'ab')).toBe(false);
    expect(test('^a\\Qb\\E+$', 'abbb')).toBe(true); // the quantifier applies to the last char only
    expect(test('^[\\Q]-\\E]+$', ']-')).toBe(true);
  });
  it('escaped punctuation and unknown letters are literal', () => {
    expect(test('^\\/\\|\\-\\"\\#$', '/|-"#')).toBe(true);
    expect(test('^\\q$', 'q')).toBe(true);
    expect(test('^\\8\\9$', '89')).toBe(true);
  });
  it('{ that is not a quantifier is literal', () => {
    expect(test('^a{$', 'a{')).toBe(true);
    expect(test('^{foo}$', '{foo}')).toBe(true);
    expect(test('^a{,2}$', 'a{,2}')).toBe(true);
    expect(test('^a{2}$', 'aa')).toBe(true);
    expect(test('^a{2,}$', 'aaaa')).toBe(true);
    expect(test('^}]$', '}]')).toBe(true);
  });
  it('literal bytes above 0x7f and regex punctuation', () => {
    expect(test('^\xff\xe9/$', latin1(0xff, 0xe9, 0x2f))).toBe(true);
    expect(test('^a/b$', 'a/b')).toBe(true);
  });
  it('extended mode', () => {
    expect(test('(?x) a b # comment\n c', 'abc')).toBe(true);
    expect(test('(?x)^[ ]$', ' ')).toBe(true);
  });
});

describe('matchesEmpty', () => {
  it('detects patterns that match the empty string', () => {
    expect(matchesEmpty(tr('x*'))).toBe(true);
    expect(matchesEmpty(tr('^$'))).toBe(true);
    expect(matchesEmpty(tr('^x'))).toBe(false);
  });

  it('proves a first character needed only when it is: the quick proof agrees with running the regex on ""', () => {
    const sources = ['x*', '^$', '^x', '^x?', '^x{0,2}', '^x{2}', '^x{1,}', '^[a]*', '^[a]+', '^(a)', 'a|b', '^a|', '^\\x16\\x03', '^\\b', '^[^]', '^a{,3}', '^\\1', '^\\d\\d', '^[\\]]*', '^.', '(?=a)', '^\\x00?', '\\x*', '\\x{0}', '^\\x*', '\\u*', '\\u?', '\\u{0}', '\\00*', '\\07*', '\\012?', '^\\x41', '^\\u0041', '^\\cA'];
    const proven: string[] = [];
    for (const source of sources) {
      if (startsWithInput(source)) {
        proven.push(source);
        expect(new RegExp(source).test(''), source).toBe(false);
      }
    }
    expect(proven).toEqual(['^x', '^x{2}', '^x{1,}', '^[a]+', '^\\x16\\x03', '^\\d\\d', '^.', '^\\x41', '^\\u0041', '^\\cA']);
  });
});

/** The `match`/`softmatch` patterns of an nmap-service-probes text. */
function nmapPatterns(text: string): { line: number; pattern: string; flags: PcreFlags }[] {
  const out: { line: number; pattern: string; flags: PcreFlags }[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    const head = /^(?:soft)?match \S+ m(.)/.exec(line);
    if (!head) continue;
    const delimiter = head[1] as string;
    const start = head[0].length;
    const end = line.indexOf(delimiter, start);
    if (end < 0) continue;
    let k = end + 1;
    let letters = '';
    while (k < line.length && line[k] !== ' ' && line[k] !== '\r') letters += line[k++];
    out.push({ line: n + 1, pattern: line.slice(start, end), flags: { caseless: letters.includes('i'), dotAll: letters.includes('s') } });
  }
  return out;
}

describe.skipIf(!existsSync(NMAP_FILE))('the patterns of nmap-service-probes', () => {
  const patterns = existsSync(NMAP_FILE) ? nmapPatterns(readFileSync(NMAP_FILE, 'latin1')) : [];

  it('all translate, none matches the empty string, quickly', () => {
    expect(patterns.length).toBeGreaterThan(1000);
    const started = performance.now();
    const errors: string[] = [];
    const empty: string[] = [];
    for (const { line, pattern, flags } of patterns) {
      const t = translatePcre(pattern, flags);
      if ('error' in t) errors.push(`line ${line}: ${t.error}`);
      else if (matchesEmpty(t)) empty.push(`line ${line}`);
    }
    const elapsed = performance.now() - started;
    if (errors.length) console.log(`${errors.length} untranslatable:\n${errors.slice(0, 10).join('\n')}`);
    if (empty.length) console.log(`${empty.length} match the empty string:\n${empty.slice(0, 10).join('\n')}`);
    expect(errors).toEqual([]);
    expect(empty).toEqual([]);
    expect(elapsed).toBeLessThan(3000); // typically a few hundred ms including RegExp compilation
  });
});

/* ---------------------------------------------------------------------------
 * Agreement with a PCRE-like engine. pcre2test/pcretest are not available, so
 * Python's third-party `regex` module (or `re`) on *bytes* patterns stands in:
 * with bytes, \s \w \d and caseless matching are ASCII-only, `.` excludes only
 * \n and `$` matches before a final newline, as in PCRE. The patterns below
 * avoid the constructs where Python differs from PCRE (\Z, \z, {,n}, \h, \v,
 * \R, POSIX classes, captures inside repeated groups). Skipped when python3
 * or the module is missing.
 * ------------------------------------------------------------------------- */

function python(): { exe: string; module: string } | null {
  for (const module of ['regex', 're']) {
    const r = spawnSync('python3', ['-c', `import ${module}`], { encoding: 'utf8' });
    if (r.status === 0) return { exe: 'python3', module };
  }
  return null;
}
const py = python();

const AGREEMENT_PATTERNS: [string, string][] = [
  ['^ab$', ''], ['ab$', ''], ['^a.c', ''], ['^a.c', 's'], ['x\\s+y', ''], ['x\\S+y', ''], ['\\w+', ''], ['[^a-c]+', 'i'],
  ['^(\\d+)\\.(\\d+)', ''], ['HELLO (\\w+)', 'i'], ['[]x]+', ''], ['[^]x]+', ''], ['(a|ab)(c|bcd)(d*)', ''],
  ['^(?>a+)b', ''], ['(?>x|xy)z', ''], ['a*+a', ''], ['(\\w+?)(\\d*)$', ''], ['caf\\xe9', 'i'], ['[\\xc0-\\xff]+', 'i'],
  ['(?i)ab(?-i)c', ''], ['(?s:.)\\n.', ''], ['^.*$', ''], ['^.*$', 's'], ['a{2,3}+b', ''], ['(a)(?=b)', ''], ['(?<=a)b+', ''],
  ['(a)(b)?\\1', ''], ['\\bab\\b', ''], ['[\\s\\d]+', ''], ['[\\S]+', ''], ['\\x0b|\\xa0|\\x85', ''], ['a{x', ''],
  ['^\\0\\012', ''], ['[a\\-z]+', ''], ['(?:(a)|b)c', ''], ['(?P<n>a)(?P=n)', ''], ['^$', ''], ['\\n$', ''],
];
const ALPHABET = ['a', 'b', 'c', 'd', 'x', 'y', 'z', 'A', 'B', 'C', '0', '1', '.', ' ', '\n', '\r', '\t', '\x0b', '\xa0', '\x85', '\xe9', '\xc9', '\0', '\n', ']'];

/** Deterministic pseudo-random subjects over the alphabet. */
function subjects(count: number): string[] {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const out = ['', 'a', 'ab', 'ab\n', 'ab\n\n', 'abc', 'aab', 'aaab', 'xz', 'xyz', 'abab', 'caf\xe9', 'CAF\xc9', '12.34', 'hello world'];
  while (out.length < count) {
    let s = '';
    const length = next(9);
    for (let k = 0; k < length; k++) s += ALPHABET[next(ALPHABET.length)] as string;
    out.push(s);
  }
  return out;
}

describe.skipIf(!py)('agreement with a PCRE-like engine (Python bytes regex)', () => {
  it('gives the same matches and groups on generated subjects', () => {
    const cases = AGREEMENT_PATTERNS.map(([pattern, letters]) => ({ pattern, letters }));
    const subs = subjects(300);
    const script = `
import sys, json, ${py?.module} as R
data = json.loads(sys.stdin.read())
out = []
for c in data['cases']:
    flags = (R.I if 'i' in c['letters'] else 0) | (R.S if 's' in c['letters'] else 0)
    rx = R.compile(c['pattern'].encode('latin1'), flags)
    row = []
    for s in data['subjects']:
        m = rx.search(s.encode('latin1'))
        row.append(None if m is None else [None if g is None else g.decode('latin1') for g in [m.group(0)] + list(m.groups())])
    out.append(row)
print(json.dumps(out))
`;
    const usable = cases.filter((c) => py?.module === 'regex' || !/\(\?>|[*+?}]\+/.test(c.pattern));
    const r = spawnSync(py?.exe as string, ['-c', script], { input: JSON.stringify({ cases: usable, subjects: subs }), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const expected = JSON.parse(r.stdout) as ((string | null)[] | null)[][];
    // the comparison is meaningful: many subjects match
    expect(expected.flat().filter((row) => row !== null).length).toBeGreaterThan(500);
    const mismatches: string[] = [];
    usable.forEach((c, k) => {
      const flags: PcreFlags = { caseless: c.letters.includes('i'), dotAll: c.letters.includes('s') };
      subs.forEach((s, j) => {
        const got = groups(c.pattern, s, flags)?.map((g) => g ?? null) ?? null;
        const want = expected[k]?.[j] ?? null;
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(c.pattern)}/${c.letters} on ${JSON.stringify(s)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      });
    });
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

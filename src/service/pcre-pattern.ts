/**
 * Translation of PCRE patterns (as written in nmap's `nmap-service-probes`
 * `match`/`softmatch` lines, `m|...|flags`) to JavaScript regular expressions
 * that give the same answers as PCRE when matched against a latin1 string
 * (one char per response byte, char codes 0-255, built with
 * `Buffer.toString('latin1')`).
 *
 * nmap 7.x compiles patterns with libpcre (8.x, non-UTF mode, built-in "C"
 * locale tables). The translation follows that engine:
 *
 * - Character classes (and `.`, `\s`, `\w`, POSIX classes, caseless letters …)
 *   are computed as a set of the 256 byte values and emitted as an explicit JS
 *   class, so no JS-specific class semantics (Unicode spaces, `[]`, `[^]`, case
 *   folding of accented letters) can leak in. The output never uses the `i`,
 *   `u`, `s`, `m`, `g` or `y` flags.
 * - `$` becomes `(?=\n?$)` (PCRE's `$` also matches before a final newline).
 * - Atomic groups and possessive quantifiers are emulated with a capturing
 *   lookahead and a back-reference, `(?=(X))\N`, which shifts JS group
 *   numbers; {@link TranslatedPattern.groupMap} maps PCRE group numbers to JS
 *   ones.
 * - Inline options `(?i)`, `(?s)`, `(?m)`, `(?x)`, `(?U)` (and `(?-…)`, scoped
 *   `(?i:…)`) are applied at translation time.
 *
 * Refused with an error: recursion, subroutine calls, conditionals, branch
 * reset, `\K`, callouts, `(*VERB)`s, Unicode properties, code points above
 * 0xff, caseless back-references, and atomic groups / possessive quantifiers /
 * `\R` / back-references inside a lookbehind (JS evaluates lookbehinds right
 * to left, which breaks the emulation).
 *
 * Known differences that are not emulated: a back-reference to a group that
 * has not participated matches the empty string in JS but fails in PCRE; a
 * capture inside a repeated group is reset on each iteration in JS but keeps
 * its value from an earlier iteration in PCRE (`(?:(a)|b)+` on "ab").
 *
 * @module
 */

/** Options of a pattern: nmap's `i` (caseless) and `s` (dot matches newline) flags. */
export interface PcreFlags {
  /** nmap's `i` flag: ASCII letters match either case (PCRE_CASELESS). */
  readonly caseless?: boolean;
  /** nmap's `s` flag: `.` also matches `\n` (PCRE_DOTALL). */
  readonly dotAll?: boolean;
}

/** A translated pattern. `groupMap[n]` is the JS group number of PCRE group n (index 0 unused = 0). */
export interface TranslatedPattern {
  /** The JavaScript regular expression (no flags). */
  readonly regex: RegExp;
  /** The JavaScript source of {@link regex}. */
  readonly source: string;
  /** `groupMap[n]` is the JS group number of PCRE group `n`; `groupMap[0]` is 0. Its length is `groupCount + 1`. */
  readonly groupMap: readonly number[];
  /** The number of capturing groups of the PCRE pattern. */
  readonly groupCount: number;
}

/* ------------------------------------------------------------------------ */
/* Byte sets                                                                 */
/* ------------------------------------------------------------------------ */

/** A set of byte values, one flag per value 0-255. */
type ByteSet = Uint8Array;

const newSet = (): ByteSet => new Uint8Array(256);

function addRange(set: ByteSet, from: number, to: number): void {
  for (let c = from; c <= to; c++) set[c] = 1;
}

function setOf(...ranges: readonly (readonly [number, number])[]): ByteSet {
  const set = newSet();
  for (const [from, to] of ranges) addRange(set, from, to);
  return set;
}

function complement(set: ByteSet): ByteSet {
  const out = newSet();
  for (let c = 0; c < 256; c++) out[c] = set[c] ? 0 : 1;
  return out;
}

function addAll(target: ByteSet, source: ByteSet): void {
  for (let c = 0; c < 256; c++) if (source[c]) target[c] = 1;
}

/** Adds the other case of every ASCII letter in the set (PCRE's "C" tables fold ASCII only). */
function foldCase(set: ByteSet): void {
  for (let c = 0x41; c <= 0x5a; c++) {
    if (set[c] || set[c + 0x20]) {
      set[c] = 1;
      set[c + 0x20] = 1;
    }
  }
}

const DIGIT = setOf([0x30, 0x39]);
const WORD = setOf([0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]);
/** PCRE 8.34+ `\s`: HT, LF, VT, FF, CR, space. */
const SPACE = setOf([0x09, 0x0d], [0x20, 0x20]);
/** `\h` in non-UTF mode: HT, space, NBSP. */
const HSPACE = setOf([0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]);
/** `\v` in non-UTF mode: LF, VT, FF, CR, NEL. */
const VSPACE = setOf([0x0a, 0x0d], [0x85, 0x85]);

const NEWLINE = setOf([0x0a, 0x0a]);
const NOTHING = newSet();

/** The byte set of a shorthand escape letter valid both inside and outside classes (`\d \D \w \W \s \S \h \H \v \V`). */
function shorthandSet(letter: string): ByteSet | undefined {
  switch (letter) {
    case 'd': return DIGIT;
    case 'D': return not(DIGIT);
    case 'w': return WORD;
    case 'W': return not(WORD);
    case 's': return SPACE;
    case 'S': return not(SPACE);
    case 'h': return HSPACE;
    case 'H': return not(HSPACE);
    case 'v': return VSPACE;
    case 'V': return not(VSPACE);
    default: return undefined;
  }
}

/** POSIX bracket classes with PCRE's built-in "C" locale tables. */
const POSIX: Readonly<Record<string, ByteSet>> = {
  alpha: setOf([0x41, 0x5a], [0x61, 0x7a]),
  digit: DIGIT,
  alnum: setOf([0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]),
  space: SPACE,
  upper: setOf([0x41, 0x5a]),
  lower: setOf([0x61, 0x7a]),
  punct: setOf([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]),
  xdigit: setOf([0x30, 0x39], [0x41, 0x46], [0x61, 0x66]),
  print: setOf([0x20, 0x7e]),
  graph: setOf([0x21, 0x7e]),
  cntrl: setOf([0x00, 0x1f], [0x7f, 0x7f]),
  word: WORD,
  blank: setOf([0x09, 0x09], [0x20, 0x20]),
  ascii: setOf([0x00, 0x7f]),
};

const hex2 = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`;

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** A byte as a member of a JS character class. */
const classMember = (c: number): string => (isAlnum(c) ? String.fromCharCode(c) : hex2(c));

/** A byte as a JS literal outside a class. */
function literal(c: number): string {
  if (isAlnum(c) || c === 0x20 || c === 0x5f) return String.fromCharCode(c);
  if (c === 0x0a) return '\\n';
  if (c === 0x0d) return '\\r';
  if (c === 0x09) return '\\t';
  if (c > 0x20 && c < 0x7f) return `\\${String.fromCharCode(c)}`;
  return hex2(c);
}

/** The ranges of a set as JS class contents. */
function rangesOf(set: ByteSet): string {
  let out = '';
  for (let c = 0; c < 256; c++) {
    if (!set[c]) continue;
    let end = c;
    while (end < 255 && set[end + 1]) end++;
    if (end === c) out += classMember(c);
    else if (end === c + 1) out += classMember(c) + classMember(end);
    else out += `${classMember(c)}-${classMember(end)}`;
    c = end;
  }
  return out;
}

/** A JS expression matching exactly one char of the set (for latin1 subjects). */
function emitSet(set: ByteSet): string {
  let count = 0;
  let only = -1;
  for (let c = 0; c < 256; c++) {
    if (set[c]) {
      count++;
      only = c;
    }
  }
  if (count === 0) return '[]'; // an empty JS class: never matches
  if (count === 256) return '[\\s\\S]';
  if (count === 1) return literal(only);
  if (count > 128) return `[^${rangesOf(complement(set))}]`;
  return `[${rangesOf(set)}]`;
}

/** The JS text of the fixed sets (`\\d`, `\\S` …), computed once. */
const emitted = new WeakMap<ByteSet, string>();

/** {@link emitSet} for a set that is never modified afterwards (cached by identity). */
function emitCached(set: ByteSet): string {
  let text = emitted.get(set);
  if (text === undefined) {
    text = emitSet(set);
    emitted.set(set, text);
  }
  return text;
}

const NOT = new Map<ByteSet, ByteSet>();

/** The complement of a fixed set, computed once. */
function not(set: ByteSet): ByteSet {
  let out = NOT.get(set);
  if (out === undefined) {
    out = complement(set);
    NOT.set(set, out);
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Syntax tree                                                               */
/* ------------------------------------------------------------------------ */

/** A piece of translated pattern. Group numbers are assigned after parsing, since wrappers shift them. */
type Node =
  /** Translated text; `repeatable` is false for assertions such as `^`, `$`, `\b`, and for `|`. */
  | { readonly kind: 'text'; readonly text: string; readonly repeatable: boolean }
  /** A group: `open` is `(`, `(?:`, `(?=`, … ; `capture` is the PCRE group number or 0. */
  | { readonly kind: 'group'; readonly open: string; readonly body: Node[]; readonly capture: number }
  /** An atomic group, emitted as `(?=(body))\N`; `js` is the wrapper's JS group number. */
  | { readonly kind: 'atomic'; readonly body: Node[]; js: number }
  /** A back-reference to PCRE group `ref`. */
  | { readonly kind: 'backref'; readonly ref: number }
  /** A quantified atom; `quantifier` is the JS quantifier text (`*`, `{2,3}?`, …). */
  | { readonly kind: 'quant'; readonly atom: Node; readonly quantifier: string };

/** Options in force at a point of the pattern. */
interface Options {
  caseless: boolean;
  dotAll: boolean;
  multiline: boolean;
  extended: boolean;
  ungreedy: boolean;
}

/** A translation failure (caught by {@link translatePcre}). */
class Untranslatable extends Error {}

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { a: 0x07, e: 0x1b, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isOctal = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '7';
const isHex = (ch: string | undefined): boolean => ch !== undefined && /^[0-9a-fA-F]$/.test(ch);

/** Counts the capturing groups of a pattern (and the numbers of named ones), for back-reference resolution. */
function scanGroups(pattern: string): { count: number; names: Map<string, number> } {
  let count = 0;
  const names = new Map<string, number>();
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        i = end < 0 ? pattern.length : end + 1;
      } else i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      else if (ch === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end > 0) i = end + 1;
      }
    } else if (ch === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (ch === '(') {
      if (pattern[i + 1] !== '?' && pattern[i + 1] !== '*') count++;
      else if (pattern[i + 1] === '?') {
        const named = /^\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(pattern.slice(i, i + 40));
        if (named) {
          count++;
          const name = named[1] ?? named[2];
          if (name !== undefined && !names.has(name)) names.set(name, count);
        }
      }
    }
  }
  return { count, names };
}

/** The single-pass translator of one pattern. */
class Translator {
  private i = 0;
  private groupsOpened = 0;
  /** Depth of lookbehind nesting: JS matches lookbehinds right to left, which breaks the `(?=(X))\\N` emulation. */
  private lookbehind = 0;
  private readonly totalGroups: number;
  private readonly names: Map<string, number>;

  constructor(
    private readonly p: string,
    private readonly initial: Options,
  ) {
    const scan = scanGroups(p);
    this.totalGroups = scan.count;
    this.names = scan.names;
  }

  /** Parses the whole pattern. */
  run(): { nodes: Node[]; groupCount: number } {
    const nodes = this.sequence({ ...this.initial }, false);
    if (this.i < this.p.length) throw new Untranslatable(`unmatched ")" at offset ${this.i}`);
    return { nodes, groupCount: this.groupsOpened };
  }

  private fail(message: string): never {
    throw new Untranslatable(`${message} at offset ${this.i}`);
  }

  /** Parses alternatives until `)` (consumed by the caller) or the end. `opts` is mutated by inline options. */
  private sequence(opts: Options, inGroup: boolean): Node[] {
    const nodes: Node[] = [];
    const p = this.p;
    while (this.i < p.length) {
      this.skipExtended(opts);
      if (this.i >= p.length) break;
      const ch = p[this.i] as string;
      if (ch === ')') {
        if (!inGroup) this.fail('unmatched ")"');
        return nodes;
      }
      if (ch === '|') {
        this.i++;
        nodes.push({ kind: 'text', text: '|', repeatable: false });
        continue;
      }
      if (this.isQuantifierStart()) {
        const last = nodes[nodes.length - 1];
        if (!last || last.kind === 'quant' || (last.kind === 'text' && !last.repeatable)) this.fail('quantifier does not follow a repeatable item');
        nodes[nodes.length - 1] = this.quantify(last, opts);
        continue;
      }
      this.atom(opts, nodes);
    }
    if (inGroup) this.fail('missing ")"');
    return nodes;
  }

  /** In extended mode, skips whitespace and `#` comments. */
  private skipExtended(opts: Options): void {
    if (!opts.extended) return;
    const p = this.p;
    for (;;) {
      const ch = p[this.i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') this.i++;
      else if (ch === '#') {
        while (this.i < p.length && p[this.i] !== '\n') this.i++;
      } else return;
    }
  }

  /** Whether a quantifier starts here (`{` only when it forms a valid `{n}`, `{n,}` or `{n,m}`). */
  private isQuantifierStart(): boolean {
    const ch = this.p[this.i];
    if (ch === '*' || ch === '+' || ch === '?') return true;
    return ch === '{' && this.braceQuantifier() !== null;
  }

  /** The `{n}`, `{n,}` or `{n,m}` quantifier at the position, or null when `{` is literal. */
  private braceQuantifier(): { text: string; length: number; min: number } | null {
    const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.p.slice(this.i, this.i + 24));
    if (!m) return null;
    const min = Number(m[1]);
    const max = m[3] ? Number(m[3]) : undefined;
    if (min > 65535 || (max !== undefined && max > 65535)) this.fail('number too big in {} quantifier');
    if (max !== undefined && max < min) this.fail('numbers out of order in {} quantifier');
    return { text: m[0], length: m[0].length, min };
  }

  /** Applies the quantifier at the position to `atom`. */
  private quantify(atom: Node, opts: Options): Node {
    const p = this.p;
    let text: string;
    const ch = p[this.i] as string;
    if (ch === '{') {
      const q = this.braceQuantifier();
      if (!q) this.fail('invalid quantifier');
      text = q.text;
      this.i += q.length;
    } else {
      text = ch;
      this.i++;
    }
    let lazy = opts.ungreedy;
    let possessive = false;
    if (p[this.i] === '?') {
      lazy = !lazy;
      this.i++;
    } else if (p[this.i] === '+') {
      possessive = true;
      lazy = false;
      this.i++;
    }
    // JS cannot quantify a lookbehind directly, nor a `(?=(X))\N` sequence: wrap them.
    let target = atom;
    if (atom.kind === 'atomic' || (atom.kind === 'group' && atom.open.startsWith('(?<') && atom.capture === 0)) {
      target = { kind: 'group', open: '(?:', body: [atom], capture: 0 };
    }
    const quantified: Node = { kind: 'quant', atom: target, quantifier: text + (lazy ? '?' : '') };
    if (possessive) this.noAtomicInLookbehind();
    return possessive ? { kind: 'atomic', body: [quantified], js: 0 } : quantified;
  }

  /** Parses one atom (or an option setting / comment, which adds nothing) and appends it. */
  private atom(opts: Options, nodes: Node[]): void {
    const p = this.p;
    const ch = p[this.i] as string;
    switch (ch) {
      case '(':
        this.group(opts, nodes);
        return;
      case '[':
        nodes.push({ kind: 'text', text: emitSet(this.charClass(opts)), repeatable: true });
        return;
      case '.':
        this.i++;
        nodes.push({ kind: 'text', text: opts.dotAll ? '[\\s\\S]' : '[^\\n]', repeatable: true });
        return;
      case '^':
        this.i++;
        nodes.push({ kind: 'text', text: opts.multiline ? '(?:^|(?<=\\n)(?=[\\s\\S]))' : '^', repeatable: false });
        return;
      case '$':
        this.i++;
        nodes.push({ kind: 'text', text: opts.multiline ? '(?=\\n|$)' : '(?=\\n?$)', repeatable: false });
        return;
      case '\\':
        this.escape(opts, nodes);
        return;
      default:
        this.i++;
        nodes.push(this.char(ch.charCodeAt(0), opts));
    }
  }

  /** A literal byte, folded when caseless. */
  private char(code: number, opts: Options): Node {
    if (code > 0xff) this.fail(`character U+${code.toString(16)} is not a latin1 byte`);
    const lower = code | 0x20;
    if (!opts.caseless || lower < 0x61 || lower > 0x7a) return { kind: 'text', text: literal(code), repeatable: true };
    const set = newSet();
    set[code] = 1;
    if (opts.caseless) foldCase(set);
    return { kind: 'text', text: emitSet(set), repeatable: true };
  }

  /** Parses a group or a `(?…)` construct starting at `(`. */
  private group(opts: Options, nodes: Node[]): void {
    const p = this.p;
    const start = this.i;
    this.i++;
    if (p[this.i] === '*') this.fail('backtracking control verbs "(*…)" are not supported');
    if (p[this.i] !== '?') {
      const capture = ++this.groupsOpened;
      nodes.push({ kind: 'group', open: '(', body: this.groupBody({ ...opts }), capture });
      return;
    }
    this.i++;
    const rest = p.slice(this.i, this.i + 40);
    const c = p[this.i];
    if (c === '#') {
      const end = p.indexOf(')', this.i);
      if (end < 0) this.fail('missing ")" after comment');
      this.i = end + 1;
      return;
    }
    if (c === ':') {
      this.i++;
      nodes.push({ kind: 'group', open: '(?:', body: this.groupBody({ ...opts }), capture: 0 });
      return;
    }
    if (c === '>') {
      this.i++;
      this.noAtomicInLookbehind();
      nodes.push({ kind: 'atomic', body: this.groupBody({ ...opts }), js: 0 });
      return;
    }
    const look = /^(=|!|<=|<!)/.exec(rest);
    if (look) {
      const behind = (look[1] as string).startsWith('<');
      this.i += (look[1] as string).length;
      if (behind) this.lookbehind++;
      nodes.push({ kind: 'group', open: `(?${look[1] as string}`, body: this.groupBody({ ...opts }), capture: 0 });
      if (behind) this.lookbehind--;
      return;
    }
    const named = /^(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(rest);
    if (named) {
      this.i += named[0].length;
      const capture = ++this.groupsOpened;
      nodes.push({ kind: 'group', open: '(', body: this.groupBody({ ...opts }), capture });
      return;
    }
    const namedRef = /^P=([A-Za-z_]\w*)\)/.exec(rest);
    if (namedRef) {
      this.i += namedRef[0].length;
      nodes.push(this.backref(this.named(namedRef[1] as string), opts));
      return;
    }
    if (c === '|') this.fail('branch-reset groups "(?|…)" are not supported');
    if (c === '(') this.fail('conditional groups "(?(…)…)" are not supported');
    if (c === 'R' || isDigit(c) || c === '+' || /^-\d/.test(rest) || c === '&' || rest.startsWith('P>')) this.fail('recursion and subroutine calls are not supported');
    if (c === 'C') this.fail('callouts "(?C…)" are not supported');
    const options = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (options && (options[1] !== '' || options[2] !== undefined)) {
      const target = options[3] === ':' ? { ...opts } : opts;
      this.setOptions(target, options[1] as string, true);
      this.setOptions(target, options[2] ?? '', false);
      this.i += options[0].length;
      if (options[3] === ':') nodes.push({ kind: 'group', open: '(?:', body: this.groupBody(target), capture: 0 });
      return;
    }
    this.i = start;
    this.fail(`unrecognized group syntax "${p.slice(start, start + 4)}"`);
  }

  /** Atomic groups are emulated with a back-reference, which JS evaluates before its group inside a lookbehind. */
  private noAtomicInLookbehind(): void {
    if (this.lookbehind) this.fail('atomic group, possessive quantifier or \\R inside a lookbehind');
  }

  /** Applies inline option letters. */
  private setOptions(opts: Options, letters: string, on: boolean): void {
    for (const letter of letters) {
      if (letter === 'i') opts.caseless = on;
      else if (letter === 's') opts.dotAll = on;
      else if (letter === 'm') opts.multiline = on;
      else if (letter === 'x') opts.extended = on;
      else if (letter === 'U') opts.ungreedy = on;
      else if (letter === 'J') continue; // duplicate names: names are not kept, so nothing to do
      else this.fail(`unsupported inline option "${letter}"`);
    }
  }

  /** Parses a group's contents and its closing `)`. */
  private groupBody(opts: Options): Node[] {
    const body = this.sequence(opts, true);
    this.i++; // ')'
    return body;
  }

  private named(name: string): number {
    const n = this.names.get(name);
    if (n === undefined) this.fail(`reference to non-existent group "${name}"`);
    return n;
  }

  /** A back-reference node, after checking it can be translated. */
  private backref(n: number, opts: Options): Node {
    if (n < 1 || n > this.totalGroups) this.fail(`reference to non-existent group ${n}`);
    if (this.lookbehind) this.fail('back-reference inside a lookbehind');
    if (opts.caseless) this.fail(`caseless back-reference \\${n} (JS without the i flag compares case-sensitively)`);
    return { kind: 'backref', ref: n };
  }

  /** Reads `\x…`, `\o{…}`, `\0…`, `\c…` and octal escapes; `i` is after the backslash and letter. Returns the code. */
  private hexEscape(): number {
    const p = this.p;
    if (p[this.i] === '{') {
      const end = p.indexOf('}', this.i);
      const digits = end < 0 ? '' : p.slice(this.i + 1, end);
      if (!/^[0-9a-fA-F]+$/.test(digits)) this.fail('invalid \\x{…} escape');
      this.i = end + 1;
      const value = parseInt(digits, 16);
      if (value > 0xff) this.fail(`character value \\x{${digits}} is too large for a latin1 byte`);
      return value;
    }
    let digits = '';
    while (digits.length < 2 && isHex(p[this.i])) digits += p[this.i++] as string;
    return digits === '' ? 0 : parseInt(digits, 16);
  }

  private octalBraces(): number {
    const p = this.p;
    const end = p.indexOf('}', this.i);
    const digits = p[this.i] === '{' && end > 0 ? p.slice(this.i + 1, end) : '';
    if (!/^[0-7]+$/.test(digits)) this.fail('invalid \\o{…} escape');
    this.i = end + 1;
    const value = parseInt(digits, 8);
    if (value > 0xff) this.fail(`character value \\o{${digits}} is too large for a latin1 byte`);
    return value;
  }

  /** Reads up to `max` octal digits at the position. */
  private octalDigits(max: number): number {
    const p = this.p;
    let digits = '';
    while (digits.length < max && isOctal(p[this.i])) digits += p[this.i++] as string;
    const value = parseInt(digits, 8);
    if (value > 0xff) this.fail(`octal value \\${digits} is too large for a latin1 byte`);
    return value;
  }

  private controlEscape(): number {
    const ch = this.p[this.i];
    if (ch === undefined) this.fail('\\c at end of pattern');
    const code = ch.toUpperCase().charCodeAt(0);
    if (code > 0x7f) this.fail('\\c must be followed by an ASCII character');
    this.i++;
    return code ^ 0x40;
  }

  /** Parses an escape outside a class (the position is at the backslash). */
  private escape(opts: Options, nodes: Node[]): void {
    const p = this.p;
    this.i++;
    const c = p[this.i];
    if (c === undefined) this.fail('\\ at end of pattern');
    this.i++;
    const set = (s: ByteSet): void => void nodes.push({ kind: 'text', text: emitCached(s), repeatable: true });
    const assertion = (text: string): void => void nodes.push({ kind: 'text', text, repeatable: false });
    const shorthand = shorthandSet(c);
    if (shorthand) return set(shorthand);
    switch (c) {
      case 'N': return set(not(NEWLINE));
      case 'C': return set(not(NOTHING));
      case 'R':
        this.noAtomicInLookbehind();
        nodes.push({ kind: 'atomic', body: [{ kind: 'text', text: '(?:\\r\\n|[\\n\\x0b\\f\\r\\x85])', repeatable: true }], js: 0 });
        return;
      case 'b': return assertion('\\b');
      case 'B': return assertion('\\B');
      case 'A': return assertion('^');
      case 'G': return assertion('^'); // nmap matches once from offset 0
      case 'z': return assertion('$');
      case 'Z': return assertion('(?=\\n?$)');
      case 'E': return; // a stray \E is ignored
      case 'Q': {
        const end = p.indexOf('\\E', this.i);
        const stop = end < 0 ? p.length : end;
        for (; this.i < stop; this.i++) nodes.push(this.char(p.charCodeAt(this.i), opts));
        if (end >= 0) this.i = end + 2;
        return;
      }
      case 'x': nodes.push(this.char(this.hexEscape(), opts)); return;
      case 'o': nodes.push(this.char(this.octalBraces(), opts)); return;
      case 'c': nodes.push(this.char(this.controlEscape(), opts)); return;
      case '0':
        this.i--;
        nodes.push(this.char(this.octalDigits(3), opts));
        return;
      case 'g': {
        const m = /^(?:\{(-?\d+)\}|(-?\d+)|\{([A-Za-z_]\w*)\})/.exec(p.slice(this.i, this.i + 40));
        if (!m) this.fail('unsupported \\g syntax (subroutine calls are not supported)');
        this.i += m[0].length;
        const name = m[3];
        if (name !== undefined) {
          nodes.push(this.backref(this.named(name), opts));
          return;
        }
        let n = Number(m[1] ?? m[2]);
        if (n < 0) n = this.groupsOpened + 1 + n;
        nodes.push(this.backref(n, opts));
        return;
      }
      case 'k': {
        const m = /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/.exec(p.slice(this.i, this.i + 40));
        if (!m) this.fail('invalid \\k syntax');
        this.i += m[0].length;
        nodes.push(this.backref(this.named((m[1] ?? m[2] ?? m[3]) as string), opts));
        return;
      }
      case 'K': this.fail('\\K (reset match start) is not supported');
      // falls through (fail never returns)
      case 'p':
      case 'P':
      case 'X': this.fail(`\\${c} (Unicode property) is not supported in non-UTF mode`);
      // falls through
      case 'L':
      case 'l':
      case 'U':
      case 'u': this.fail(`PCRE does not support \\${c}`);
      // falls through
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      // PCRE 8.34+: a back-reference when < 8 or when that many groups were opened before; \8 \9 are literal; else octal.
      this.i--;
      const m = /^\d+/.exec(p.slice(this.i, this.i + 10)) as RegExpExecArray;
      const n = Number(m[0]);
      if (n < 8 || n <= this.groupsOpened) {
        this.i += m[0].length;
        nodes.push(this.backref(n, opts));
        return;
      }
      if (c === '8' || c === '9') {
        this.i++;
        nodes.push(this.char(c.charCodeAt(0), opts));
        return;
      }
      nodes.push(this.char(this.octalDigits(3), opts));
      return;
    }
    const control = CONTROL_ESCAPES[c];
    // Any other escaped character (punctuation, or an unknown letter in PCRE 8.x) stands for itself.
    nodes.push(this.char(control ?? c.charCodeAt(0), opts));
  }

  /** Parses a character class at `[` into a byte set. */
  private charClass(opts: Options): ByteSet {
    const p = this.p;
    this.i++;
    let negated = false;
    if (p[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const set = newSet();
    let first = true;
    for (;;) {
      if (this.i >= p.length) this.fail('missing terminating "]" for character class');
      const ch = p[this.i] as string;
      if (ch === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (ch === '\\' && p[this.i + 1] === 'Q') {
        const end = p.indexOf('\\E', this.i + 2);
        const stop = end < 0 ? p.length : end;
        for (let k = this.i + 2; k < stop; k++) {
          const code = p.charCodeAt(k);
          if (code > 0xff) this.fail('character is not a latin1 byte');
          set[code] = 1;
        }
        this.i = end < 0 ? p.length : end + 2;
        continue;
      }
      if (ch === '\\' && p[this.i + 1] === 'E') {
        this.i += 2;
        continue;
      }
      if (ch === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(this.i, this.i + 16));
        if (posix) {
          const cls = POSIX[posix[2] as string];
          if (!cls) this.fail(`unknown POSIX class name "${posix[2] as string}"`);
          addAll(set, posix[1] ? complement(cls) : cls);
          this.i += posix[0].length;
          continue;
        }
        if (/^\[[.=]/.test(p.slice(this.i, this.i + 2)) && /^\[([.=]).*?\1\]/.test(p.slice(this.i))) this.fail('POSIX collating elements are not supported');
      }
      const from = this.classAtom(set);
      if (from === null) continue;
      // A range?
      if (p[this.i] === '-' && p[this.i + 1] !== ']' && this.i + 1 < p.length) {
        const save = this.i;
        this.i++;
        if (p[this.i] === '[' && /^\[:\^?[a-z]+:\]/.test(p.slice(this.i, this.i + 16))) {
          // `a-[:digit:]`: the hyphen is literal
          set[from] = 1;
          set[0x2d] = 1;
          continue;
        }
        const scratch = newSet();
        const to = this.classAtom(scratch);
        if (to === null) {
          // `a-\d`: the hyphen is literal
          set[from] = 1;
          set[0x2d] = 1;
          addAll(set, scratch);
          continue;
        }
        if (to < from) {
          this.i = save;
          this.fail('range out of order in character class');
        }
        addRange(set, from, to);
        continue;
      }
      set[from] = 1;
    }
    if (opts.caseless) foldCase(set);
    return negated ? complement(set) : set;
  }

  /** Reads one class member: returns its byte, or null after adding a shorthand class (`\d` …) to `set`. */
  private classAtom(set: ByteSet): number | null {
    const p = this.p;
    const ch = p[this.i] as string;
    if (ch !== '\\') {
      this.i++;
      const code = ch.charCodeAt(0);
      if (code > 0xff) this.fail('character is not a latin1 byte');
      return code;
    }
    this.i++;
    const c = p[this.i];
    if (c === undefined) this.fail('\\ at end of pattern');
    this.i++;
    const add = (s: ByteSet): null => {
      addAll(set, s);
      return null;
    };
    const shorthand = shorthandSet(c);
    if (shorthand) return add(shorthand);
    switch (c) {
      case 'b': return 0x08;
      case 'x': return this.hexEscape();
      case 'o': return this.octalBraces();
      case 'c': return this.controlEscape();
      case 'B':
      case 'R':
      case 'X':
      case 'N': this.fail(`escape sequence \\${c} is invalid in a character class`);
      // falls through
      case 'p':
      case 'P': this.fail(`\\${c} (Unicode property) is not supported in non-UTF mode`);
      // falls through
      case 'L':
      case 'l':
      case 'U':
      case 'u': this.fail(`PCRE does not support \\${c}`);
      // falls through
      default:
        break;
    }
    if (isOctal(c)) {
      this.i--;
      return this.octalDigits(3);
    }
    return CONTROL_ESCAPES[c] ?? c.charCodeAt(0);
  }
}

/** Assigns JS group numbers (in order of opening parentheses in the output). */
function number(nodes: readonly Node[], state: { next: number; map: number[] }): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'group':
        if (node.capture) state.map[node.capture] = ++state.next;
        number(node.body, state);
        break;
      case 'atomic':
        node.js = ++state.next;
        number(node.body, state);
        break;
      case 'quant':
        number([node.atom], state);
        break;
      default:
        break;
    }
  }
}

/** Writes the JS source. */
function emit(nodes: readonly Node[], map: readonly number[]): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'group':
        out += `${node.open}${emit(node.body, map)})`;
        break;
      case 'atomic':
        out += `(?=(${emit(node.body, map)}))(?:\\${node.js})`;
        break;
      case 'backref':
        out += `(?:\\${map[node.ref] as number})`;
        break;
      case 'quant':
        out += emit([node.atom], map) + node.quantifier;
        break;
    }
  }
  return out;
}

/**
 * Translates a PCRE pattern (nmap's dialect: libpcre 8.x, non-UTF mode) to a
 * JavaScript `RegExp` with the same semantics on latin1 strings.
 *
 * Never throws: a pattern that cannot be translated (recursion, conditionals,
 * `\K`, caseless back-references, syntax errors …) gives `{ error }`.
 *
 * @param pattern - the pattern text between the delimiters of `m|…|`
 * @param flags - nmap's `i` and `s` options
 * @returns the translation, or `{ error }` saying what could not be translated
 * @example
 * ```ts
 * const t = translatePcre('^220 (?>[\\w.]+) FTP v([\\d.]+)$', { caseless: true });
 * if (!('error' in t)) {
 *   const m = t.regex.exec('220 host ftp V1.2\n');
 *   m?.[t.groupMap[1]!]; // '1.2'
 * }
 * ```
 */
export function translatePcre(pattern: string, flags: PcreFlags = {}): TranslatedPattern | { readonly error: string } {
  try {
    const { nodes, groupCount } = new Translator(pattern, {
      caseless: flags.caseless === true,
      dotAll: flags.dotAll === true,
      multiline: false,
      extended: false,
      ungreedy: false,
    }).run();
    const state = { next: 0, map: new Array<number>(groupCount + 1).fill(0) };
    number(nodes, state);
    const source = emit(nodes, state.map);
    let regex: RegExp;
    try {
      regex = new RegExp(source);
    } catch (error) {
      return { error: `the translation is not a valid JavaScript pattern (${(error as Error).message})` };
    }
    return { regex, source, groupMap: state.map, groupCount };
  } catch (error) {
    if (error instanceof Untranslatable) return { error: error.message };
    return { error: `unexpected failure: ${(error as Error).message}` };
  }
}

/**
 * Whether a translated pattern matches the empty string (nmap refuses such patterns).
 *
 * @example
 * ```ts
 * const t = translatePcre('x*');
 * if (!('error' in t)) matchesEmpty(t); // true
 * ```
 */
export function matchesEmpty(t: TranslatedPattern): boolean {
  if (startsWithInput(t.source)) return false;
  t.regex.lastIndex = 0;
  return t.regex.test('');
}

/**
 * A quick proof, on a translated (JavaScript) source, that a match needs at
 * least one character: no alternation at the top level, and the first item
 * after an optional `^` is a character, a class or an escape that stands for
 * one, with no quantifier that allows zero of it. Most nmap patterns start
 * this way (`^SSH-`, `^\x16\x03`), and running them on `''` to find out would
 * compile every one of them on the main thread. False means "not proven".
 */
export function startsWithInput(source: string): boolean {
  // no `|` outside groups and classes
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return false;
  }
  let i = source.startsWith('^') ? 1 : 0;
  const c = source[i];
  if (c === undefined) return false;
  if (c === '\\') {
    const e = source[i + 1];
    if (e === undefined || /[bBk1-9]/.test(e)) return false;
    // Without the u flag an escape that is not well formed is a literal letter (\x is "x"): measure what is there.
    if (e === 'x') i += /^[0-9a-fA-F]{2}$/.test(source.slice(i + 2, i + 4)) ? 4 : 2;
    else if (e === 'u') i += /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6)) ? 6 : 2;
    else if (e === 'c') i += /^[a-zA-Z]$/.test(source[i + 2] ?? '') ? 3 : 2;
    else if (e === '0' && /^[0-7]$/.test(source[i + 2] ?? '')) return false; // a legacy octal escape: leave it to the regex
    else i += 2;
  } else if (c === '[') {
    let j = i + 1;
    if (source[j] === '^') j++;
    if (source[j] === ']') return false; // JS's [] or [^]: leave it to the regex
    for (; j < source.length && source[j] !== ']'; j++) if (source[j] === '\\') j++;
    if (j >= source.length) return false;
    i = j + 1;
  } else if ('()[]{}|?*+$^'.includes(c)) {
    return false;
  } else {
    i += 1;
  }
  const q = source[i];
  if (q === '?' || q === '*') return false;
  if (q === '{') {
    const least = /^\{(\d*)/.exec(source.slice(i, i + 12))?.[1] ?? '';
    if (least === '' || Number(least) === 0) return false;
  }
  return true;
}

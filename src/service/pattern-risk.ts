/**
 * A static classifier of translated patterns: whether a JavaScript regular
 * expression could backtrack super-linearly (exponentially or polynomially)
 * on a hostile subject, and a generator of adversarial subjects that try to
 * make it do so.
 *
 * It works on the **translated JavaScript source** ({@link TranslatedPattern.source}
 * from `pcre-pattern.ts`), not on the PCRE text: there every character class,
 * `.`, `\s`, `\w`, caseless letter … is already an explicit set of the 256
 * byte values, so overlaps between sets are computed exactly. It understands
 * the translator's output (and ordinary JS syntax without flags): the
 * atomic-group emulation `(?=(X))(?:\N)` is recognised as such and is *not*
 * counted as a back-reference.
 *
 * A pattern is `'risky'` when any of these holds (see {@link analyzePatternRisk}
 * for the reason strings):
 *
 * 1. **back-reference**: a real back-reference (`\N` that is not the atomic emulation).
 * 2. **nested quantifier**: a quantified item that can repeat (max ≥ 2) whose
 *    body contains a variable-length quantifier (max > min), e.g. `(a+)+`,
 *    `(?:\w+\s?)*`, `(\d{1,3})*` — unless one iteration is delimited by a
 *    *separator*: the body's first or last top-level item is a mandatory
 *    single character whose set is disjoint from every other character set
 *    of the body (`(?:\.\d+)*`, `(?:[^\r\n]*\r\n)*`), and the body is not
 *    itself ambiguous (rule 4 without the "can fail afterwards" condition).
 * 3. **ambiguous alternation**: a repeatable item (max ≥ 2) whose body holds
 *    an alternation with two branches whose first characters overlap
 *    (`(a|a)*`, `(\w|\d)+`, `(?:a|ab)*`) or a nullable branch.
 * 4. **overlapping adjacent quantifiers** (polynomial): in the flattened
 *    sequence of the pattern (an unanchored pattern gets an implicit leading
 *    `[\s\S]*?`), two variable-length items X and Y, X before Y, whose
 *    character sets share some set T, where every mandatory item between them
 *    can match a character of T, and something after Y can fail (a mandatory
 *    item or an assertion): `\w+\w+x`, `^.*a.*b` with `s`, unanchored `\w+x`.
 *
 * It is deliberately conservative (it over-approximates: sets of composite
 * items are unions, lookarounds are analysed but count as zero-width). On
 * nmap's own `nmap-service-probes` it flags a small minority of the patterns.
 *
 * @module
 */
import type { TranslatedPattern } from './pcre-pattern.js';

/** A set of byte values, one flag per value 0-255. */
type ByteSet = Uint8Array;

/** The AST of a JS pattern, as far as the analysis needs it. */
type Node =
  | { readonly t: 'set'; readonly set: ByteSet }
  | { readonly t: 'assert'; readonly text: string }
  | { readonly t: 'look'; readonly body: Alt; readonly ahead: boolean; readonly negative: boolean }
  | { readonly t: 'group'; readonly body: Alt; readonly capture: number }
  | { readonly t: 'atomic'; readonly body: Alt }
  | { readonly t: 'backref'; readonly ref: number }
  | { readonly t: 'rep'; readonly body: Node; readonly min: number; readonly max: number; readonly lazy: boolean };
interface Alt {
  readonly t: 'alt';
  readonly branches: Node[][];
}

const ALL = (): ByteSet => new Uint8Array(256).fill(1);
const range = (set: ByteSet, a: number, b: number): void => {
  for (let c = a; c <= b; c++) set[c] = 1;
};
const DIGIT = new Uint8Array(256);
range(DIGIT, 0x30, 0x39);
const WORD = new Uint8Array(256);
range(WORD, 0x30, 0x39);
range(WORD, 0x41, 0x5a);
range(WORD, 0x61, 0x7a);
WORD[0x5f] = 1;
/** JS `\s` restricted to latin1. */
const SPACE = new Uint8Array(256);
range(SPACE, 0x09, 0x0d);
SPACE[0x20] = 1;
SPACE[0xa0] = 1;
const inverse = (s: ByteSet): ByteSet => s.map((v) => (v ? 0 : 1));
const single = (c: number): ByteSet => {
  const s = new Uint8Array(256);
  s[c & 0xff] = 1;
  return s;
};
const union = (a: ByteSet, b: ByteSet): ByteSet => a.map((v, i) => v | (b[i] as number));
const intersect = (a: ByteSet, b: ByteSet): ByteSet => a.map((v, i) => v & (b[i] as number));
const isEmpty = (s: ByteSet): boolean => !s.some((v) => v !== 0);

class ParseError extends Error {}

/** A recursive-descent parser of a flagless JS pattern (the translator's output). */
class Parser {
  i = 0;
  groups = 0;
  constructor(private readonly p: string) {}

  run(): Alt {
    const alt = this.alt();
    if (this.i < this.p.length) throw new ParseError(`unexpected ')' at ${this.i}`);
    return alt;
  }

  private alt(): Alt {
    const branches: Node[][] = [this.seq()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.seq());
    }
    return { t: 'alt', branches };
  }

  private seq(): Node[] {
    const nodes: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const atom = this.atom();
      const q = this.quantifier();
      if (q) nodes.push({ t: 'rep', body: atom, ...q });
      else nodes.push(atom);
      // The atomic emulation: (?=(X))(?:\N) where N is the lookahead's group.
      const last = nodes[nodes.length - 1];
      const prev = nodes[nodes.length - 2];
      if (last && prev && last.t === 'group' && last.capture === 0 && prev.t === 'look' && prev.ahead && !prev.negative) {
        const inner = last.body.branches;
        const ref = inner.length === 1 && inner[0]?.length === 1 ? inner[0][0] : undefined;
        const la = prev.body.branches;
        const cap = la.length === 1 && la[0]?.length === 1 ? la[0][0] : undefined;
        if (ref?.t === 'backref' && cap?.t === 'group' && cap.capture === ref.ref) {
          nodes.splice(nodes.length - 2, 2, { t: 'atomic', body: cap.body });
        }
      }
    }
    return nodes;
  }

  private quantifier(): { min: number; max: number; lazy: boolean } | undefined {
    const c = this.p[this.i];
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Infinity;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return undefined;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else return undefined;
    const lazy = this.p[this.i] === '?';
    if (lazy) this.i++;
    return { min, max, lazy };
  }

  private atom(): Node {
    const p = this.p;
    const c = p[this.i] as string;
    if (c === '(') {
      this.i++;
      let kind: 'cap' | 'nc' | 'la' | 'nla' | 'lb' | 'nlb' = 'cap';
      if (p.startsWith('?:', this.i)) kind = 'nc';
      else if (p.startsWith('?=', this.i)) kind = 'la';
      else if (p.startsWith('?!', this.i)) kind = 'nla';
      else if (p.startsWith('?<=', this.i)) kind = 'lb';
      else if (p.startsWith('?<!', this.i)) kind = 'nlb';
      else if (p.startsWith('?<', this.i)) {
        const end = p.indexOf('>', this.i);
        if (end < 0) throw new ParseError('bad group name');
        this.i = end + 1; // a named capturing group
      } else if (p[this.i] === '?') throw new ParseError(`unknown group at ${this.i}`);
      if (kind === 'nc' || kind === 'la' || kind === 'nla') this.i += 2;
      else if (kind === 'lb' || kind === 'nlb') this.i += 3;
      const capture = kind === 'cap' ? ++this.groups : 0;
      const body = this.alt();
      if (p[this.i] !== ')') throw new ParseError('missing )');
      this.i++;
      if (kind === 'cap' || kind === 'nc') return { t: 'group', body, capture };
      return { t: 'look', body, ahead: kind === 'la' || kind === 'nla', negative: kind === 'nla' || kind === 'nlb' };
    }
    if (c === '[') return { t: 'set', set: this.charClass() };
    this.i++;
    if (c === '^' || c === '$') return { t: 'assert', text: c };
    if (c === '.') {
      const s = ALL();
      s[0x0a] = 0;
      s[0x0d] = 0;
      return { t: 'set', set: s };
    }
    if (c === '\\') {
      const e = p[this.i] as string;
      if (e === 'b' || e === 'B') {
        this.i++;
        return { t: 'assert', text: `\\${e}` };
      }
      if (/[1-9]/.test(e)) {
        const m = /^\d+/.exec(p.slice(this.i)) as RegExpExecArray;
        this.i += m[0].length;
        return { t: 'backref', ref: Number(m[0]) };
      }
      if (e === 'k') {
        const end = p.indexOf('>', this.i);
        this.i = end + 1;
        return { t: 'backref', ref: -1 };
      }
      return { t: 'set', set: this.escape() };
    }
    return { t: 'set', set: single(c.charCodeAt(0)) };
  }

  /** After a backslash: a set for the escape (outside or inside a class). */
  private escape(): ByteSet {
    const p = this.p;
    const e = p[this.i++] as string;
    switch (e) {
      case 'd': return DIGIT.slice();
      case 'D': return inverse(DIGIT);
      case 'w': return WORD.slice();
      case 'W': return inverse(WORD);
      case 's': return SPACE.slice();
      case 'S': return inverse(SPACE);
      case 'n': return single(0x0a);
      case 'r': return single(0x0d);
      case 't': return single(0x09);
      case 'f': return single(0x0c);
      case 'v': return single(0x0b);
      case '0': return single(0);
      case 'x': {
        const h = p.slice(this.i, this.i + 2);
        this.i += 2;
        return single(parseInt(h, 16));
      }
      case 'u': {
        const h = p.slice(this.i, this.i + 4);
        this.i += 4;
        return single(parseInt(h, 16));
      }
      case 'c': return single((p.charCodeAt(this.i++) as number) % 32);
      default: return single(e.charCodeAt(0));
    }
  }

  private charClass(): ByteSet {
    const p = this.p;
    this.i++; // [
    const negated = p[this.i] === '^';
    if (negated) this.i++;
    const set = new Uint8Array(256);
    const member = (): { set: ByteSet; code?: number } => {
      const c = p[this.i] as string;
      if (c === '\\') {
        this.i++;
        const e = p[this.i] as string;
        const s = this.escape();
        const codes = s.reduce((n, v) => n + v, 0);
        if (codes === 1 && !'dDwWsS'.includes(e)) return { set: s, code: s.indexOf(1) };
        return { set: s };
      }
      this.i++;
      return { set: single(c.charCodeAt(0)), code: c.charCodeAt(0) };
    };
    while (this.i < p.length && p[this.i] !== ']') {
      const a = member();
      if (p[this.i] === '-' && p[this.i + 1] !== ']' && a.code !== undefined) {
        this.i++;
        const b = member();
        if (b.code !== undefined) range(set, a.code, Math.min(b.code, 255));
        else {
          set.set(union(set, a.set));
          set[0x2d] = 1;
          set.set(union(set, b.set));
        }
      } else set.set(union(set, a.set));
    }
    if (p[this.i] !== ']') throw new ParseError('unterminated class');
    this.i++;
    return negated ? inverse(set) : set;
  }
}

/* ------------------------------------------------------------------------ */
/* Properties of nodes                                                       */
/* ------------------------------------------------------------------------ */

function nullable(n: Node): boolean {
  switch (n.t) {
    case 'set': return false;
    case 'assert': case 'look': case 'backref': return true;
    case 'group': case 'atomic': return n.body.branches.some((b) => b.every(nullable));
    case 'rep': return n.min === 0 || nullable(n.body);
  }
}

/** Union of every character set an item can consume. */
function charsOf(n: Node): ByteSet {
  switch (n.t) {
    case 'set': return n.set;
    case 'assert': case 'look': return new Uint8Array(256);
    case 'backref': return ALL();
    case 'group': case 'atomic': return n.body.branches.flat().map(charsOf).reduce(union, new Uint8Array(256));
    case 'rep': return charsOf(n.body);
  }
}

/** The characters a match of a sequence can start with. */
function firstOfSeq(seq: readonly Node[]): ByteSet {
  let out: ByteSet = new Uint8Array(256);
  for (const n of seq) {
    out = union(out, firstOf(n));
    if (!nullable(n)) break;
  }
  return out;
}
function firstOf(n: Node): ByteSet {
  switch (n.t) {
    case 'set': return n.set;
    case 'assert': case 'look': return new Uint8Array(256);
    case 'backref': return ALL();
    case 'group': case 'atomic': return n.body.branches.map(firstOfSeq).reduce(union, new Uint8Array(256));
    case 'rep': return firstOf(n.body);
  }
}

/** Whether an item can match strings of different lengths. */
function variable(n: Node): boolean {
  switch (n.t) {
    case 'set': case 'assert': case 'look': return false;
    case 'backref': return true;
    case 'rep': return n.max > n.min || variable(n.body);
    case 'group': case 'atomic': {
      const lengths = new Set<number>();
      for (const b of n.body.branches) {
        if (b.some(variable)) return true;
        lengths.add(b.filter((x) => x.t === 'set' || x.t === 'group' || x.t === 'rep').length);
      }
      return lengths.size > 1 || n.body.branches.some((b) => b.some((x) => x.t === 'group'));
    }
  }
}

/** Every set atom inside an item. */
function atomsOf(n: Node, out: ByteSet[] = []): ByteSet[] {
  switch (n.t) {
    case 'set': out.push(n.set); break;
    case 'backref': out.push(ALL()); break;
    case 'group': case 'atomic': case 'look': for (const b of n.body.branches) for (const x of b) atomsOf(x, out); break;
    case 'rep': atomsOf(n.body, out); break;
    default: break;
  }
  return out;
}

/** Whether an item contains a variable-length quantifier (or a back-reference). */
function hasVariableRep(n: Node): boolean {
  switch (n.t) {
    case 'rep': return n.max > n.min || hasVariableRep(n.body);
    case 'backref': return true;
    case 'group': case 'atomic': case 'look': return n.body.branches.some((b) => b.some(hasVariableRep));
    default: return false;
  }
}

/** Whether an item contains an alternation whose branches can start alike (or one is nullable). */
function hasAmbiguousAlternation(n: Node): boolean {
  switch (n.t) {
    case 'rep': return hasAmbiguousAlternation(n.body);
    case 'group': case 'atomic': case 'look': {
      const bs = n.body.branches;
      if (bs.length > 1) {
        if (bs.some((b) => b.every(nullable))) return true;
        const firsts = bs.map(firstOfSeq);
        for (let a = 0; a < firsts.length; a++) {
          for (let b = a + 1; b < firsts.length; b++) if (!isEmpty(intersect(firsts[a] as ByteSet, firsts[b] as ByteSet))) return true;
        }
      }
      return bs.some((b) => b.some(hasAmbiguousAlternation));
    }
    default: return false;
  }
}

/** The top-level sequence of an item's body, when it has a single branch. */
function bodySeq(n: Node): Node[] | undefined {
  if (n.t === 'group' || n.t === 'atomic') return n.body.branches.length === 1 ? n.body.branches[0] : undefined;
  if (n.t === 'set') return [n];
  return [n];
}

/** Whether one iteration of a repeated body is delimited by a separator character (rule 2's exception). */
function hasSeparator(body: Node): boolean {
  const seq = bodySeq(body);
  if (!seq) return false;
  const items = seq.filter((x) => x.t !== 'assert' && x.t !== 'look');
  const candidates = [items[0], items[items.length - 1]];
  for (const [k, cand] of candidates.entries()) {
    if (!cand) continue;
    // a mandatory single character: a set, or a rep of a set with min >= 1 and max == min (fixed)
    const set = cand.t === 'set' ? cand.set : cand.t === 'rep' && cand.body.t === 'set' && cand.min >= 1 && cand.max === cand.min ? cand.body.set : undefined;
    if (!set) continue;
    const others = items.filter((_, i) => i !== (k === 0 ? 0 : items.length - 1)).flatMap((x) => atomsOf(x));
    if (others.every((o) => isEmpty(intersect(o, set)))) return true;
  }
  return false;
}

/* ------------------------------------------------------------------------ */
/* Rule 4: overlapping variable items in a flattened sequence                */
/* ------------------------------------------------------------------------ */

interface Item {
  readonly set: ByteSet;
  readonly variable: boolean;
  readonly nullable: boolean;
  /** A zero-width assertion that can fail ($, \b, lookaround). */
  readonly assertion: boolean;
}

/** Flattens a sequence: single-branch groups are inlined, everything else is one item. */
function flatten(seq: readonly Node[], out: Item[] = []): Item[] {
  for (const n of seq) {
    if ((n.t === 'group' || n.t === 'atomic') && n.body.branches.length === 1) flatten(n.body.branches[0] as Node[], out);
    else if (n.t === 'assert' || n.t === 'look') {
      if (n.t === 'look' || n.text !== '^') out.push({ set: new Uint8Array(256), variable: false, nullable: true, assertion: true });
    } else out.push({ set: charsOf(n), variable: variable(n), nullable: nullable(n), assertion: false });
  }
  return out;
}

/** Rule 4 on a flattened sequence; `needFail`: whether something after the second item must be able to fail. */
function overlappingPair(items: readonly Item[], needFail: boolean): boolean {
  for (let i = 0; i < items.length; i++) {
    const x = items[i] as Item;
    if (!x.variable) continue;
    for (let j = i + 1; j < items.length; j++) {
      const y = items[j] as Item;
      if (y.variable) {
        const t = intersect(x.set, y.set);
        if (!isEmpty(t)) {
          const between = items.slice(i + 1, j);
          const absorbable = between.every((b) => b.nullable || !isEmpty(intersect(b.set, t)));
          const after = items.slice(j + 1);
          const canFail = !needFail || after.some((a) => !a.nullable || a.assertion);
          if (absorbable && canFail) return true;
        }
      }
      // stop scanning when a mandatory item cannot be absorbed by x
      if (!y.nullable && isEmpty(intersect(y.set, x.set))) break;
    }
  }
  return false;
}

/** Rules 1-3 (and 4 inside repeated bodies) on every node. */
function walk(n: Node, reasons: Set<string>): void {
  switch (n.t) {
    case 'backref':
      reasons.add('back-reference');
      return;
    case 'group': case 'atomic': case 'look':
      for (const b of n.body.branches) {
        for (const x of b) walk(x, reasons);
        if (n.t !== 'look' && overlappingPair(flatten(b), true)) reasons.add('overlapping adjacent quantifiers');
      }
      return;
    case 'rep': {
      walk(n.body, reasons);
      if (n.max < 2) return;
      if (hasAmbiguousAlternation(n.body)) reasons.add('ambiguous alternation under a quantifier');
      if (hasVariableRep(n.body)) {
        const seq = bodySeq(n.body);
        const inner = seq ? overlappingPair(flatten(seq), false) : true;
        if (inner || !hasSeparator(n.body)) reasons.add('nested quantifier');
      }
      return;
    }
    default:
      return;
  }
}

function parse(source: string): Alt {
  return new Parser(source).run();
}

/** The classification of {@link analyzePatternRisk}. */
export interface PatternRiskAnalysis {
  /** `'risky'` when any rule fired (or the source could not be parsed). */
  readonly risk: 'safe' | 'risky';
  /** The rules that fired: `back-reference`, `nested quantifier`, `ambiguous alternation under a quantifier`, `overlapping adjacent quantifiers`, `unparsed`. */
  readonly reasons: readonly string[];
}

/**
 * Classifies a JavaScript pattern source (the translator's output, no flags)
 * and says which rules (see the module documentation) made it risky.
 *
 * @param source - a JS regex source, e.g. {@link TranslatedPattern.source}
 * @example
 * ```ts
 * analyzePatternRisk('^(a+)+$'); // { risk: 'risky', reasons: ['nested quantifier'] }
 * analyzePatternRisk('^SSH-([0-9.]+)-'); // { risk: 'safe', reasons: [] }
 * ```
 */
export function analyzePatternRisk(source: string): PatternRiskAnalysis {
  let ast: Alt;
  try {
    ast = parse(source);
  } catch {
    return { risk: 'risky', reasons: ['unparsed'] };
  }
  const reasons = new Set<string>();
  const root: Node = { t: 'group', body: ast, capture: 0 };
  walk(root, reasons);
  // Rule 4 at the top level, with the implicit leading [\s\S]*? of an unanchored search.
  for (const branch of ast.branches) {
    const anchored = branch[0]?.t === 'assert' && branch[0].text === '^';
    const items = flatten(branch);
    if (!anchored) items.unshift({ set: ALL(), variable: true, nullable: true, assertion: false });
    if (overlappingPair(items, true)) reasons.add('overlapping adjacent quantifiers');
  }
  return { risk: reasons.size > 0 ? 'risky' : 'safe', reasons: [...reasons] };
}

/**
 * Whether a JavaScript pattern source could backtrack super-linearly on a
 * hostile subject (see the module documentation for the rules). Works on the
 * translated JS source ({@link TranslatedPattern.source}), not on PCRE text.
 *
 * @param source - a JS regex source without flags
 * @returns `'risky'` or `'safe'`
 * @example
 * ```ts
 * patternRisk('^(a+)+$'); // 'risky'
 * patternRisk('(\\w|\\d)+x'); // 'risky'
 * patternRisk('^220 ([\\w.]+) ESMTP'); // 'safe'
 * ```
 */
export function patternRisk(source: string): 'safe' | 'risky' {
  return analyzePatternRisk(source).risk;
}

/* ------------------------------------------------------------------------ */
/* Adversarial subjects                                                      */
/* ------------------------------------------------------------------------ */

/** A representative character of a set (a printable one if there is one). */
function pick(set: ByteSet, prefer?: ByteSet): string {
  if (prefer) {
    const both = intersect(set, prefer);
    if (!isEmpty(both)) return pick(both);
  }
  for (const c of [0x61, 0x41, 0x31, 0x20, 0x2e, 0x2d, 0x0a]) if (set[c]) return String.fromCharCode(c);
  for (let c = 0x21; c < 0x7f; c++) if (set[c]) return String.fromCharCode(c);
  const c = set.indexOf(1);
  return c < 0 ? '' : String.fromCharCode(c);
}

/** A short string matching a node (best effort: lookarounds and back-references give ''). */
function witness(n: Node): string {
  switch (n.t) {
    case 'set': return pick(n.set);
    case 'assert': case 'look': case 'backref': return '';
    case 'group': case 'atomic': return (n.body.branches[0] ?? []).map(witness).join('');
    case 'rep': return witness(n.body).repeat(Math.min(n.min, 64));
  }
}

/** Every variable-length quantifier with the witness of what comes before it on its path. */
function pumpSites(seq: readonly Node[], prefix: string, out: { prefix: string; rep: Node & { t: 'rep' }; rest: Node[] }[], restAfter: Node[]): void {
  for (let k = 0; k < seq.length; k++) {
    const n = seq[k] as Node;
    const before = prefix + seq.slice(0, k).map(witness).join('');
    const rest = [...seq.slice(k + 1), ...restAfter];
    if (n.t === 'rep') {
      if (n.max > n.min) out.push({ prefix: before, rep: n, rest });
      const inner = n.body;
      if (inner.t === 'group' || inner.t === 'atomic') for (const b of inner.body.branches) pumpSites(b, before, out, rest);
    } else if (n.t === 'group' || n.t === 'atomic' || (n.t === 'look' && n.ahead && !n.negative)) {
      for (const b of n.body.branches) pumpSites(b, before, out, n.t === 'look' ? [] : rest);
    }
  }
}

/**
 * Adversarial subjects for a JS pattern source: for each variable-length
 * quantifier, the witness of the pattern up to it, then a long run of one
 * iteration's text (or of a character shared with a later quantifier, with
 * the text between them) up to `length` characters, then a character that
 * makes the match fail (or nothing). Deduplicated; at most `limit` subjects.
 *
 * @param source - a JS regex source without flags
 * @param length - the approximate length of each subject (e.g. 2048-16384)
 * @param limit - the most subjects returned
 * @example
 * ```ts
 * adversarialSubjects('^(a+)+$', 32); // ['aaaa…a\x00', 'aaaa…a!', 'aaaa…a', …]
 * ```
 */
export function adversarialSubjects(source: string, length: number, limit = 16): string[] {
  let ast: Alt;
  try {
    ast = parse(source);
  } catch {
    return [];
  }
  const sites: { prefix: string; rep: Node & { t: 'rep' }; rest: Node[] }[] = [];
  const root: Node = { t: 'group', body: ast, capture: 0 };
  pumpSites([root], '', sites, []);
  const out = new Set<string>();
  for (const site of sites) {
    const bodySet = charsOf(site.rep.body);
    const pumps = new Set<string>();
    const w = witness(site.rep.body) || pick(bodySet);
    if (w) pumps.add(w);
    pumps.add(pick(bodySet));
    // Shared with a later variable item: the text between them plus a shared char.
    const later = flatten(site.rest);
    let between = '';
    for (const item of later) {
      if (item.variable) {
        const t = intersect(bodySet, item.set);
        if (!isEmpty(t)) pumps.add(pick(t) + between);
      }
      if (!item.nullable && !item.assertion) between += pick(item.set);
      if (between.length > 64) break;
    }
    const fails = ['\x00', '!', '', '\r\n', '\xff'];
    for (const pump of pumps) {
      if (!pump) continue;
      const body = pump.repeat(Math.max(1, Math.ceil((length - site.prefix.length) / pump.length)));
      for (const fail of fails) {
        if (fail && bodySet[fail.charCodeAt(0)] && fail !== '') continue;
        out.add(site.prefix + body + fail);
        if (out.size >= limit) return [...out];
      }
    }
  }
  return [...out];
}

/**
 * Matching a response against a probe database, in nmap's order: the rules
 * of the probe that got the response, in file order, then those of its
 * `fallback` probes left to right, then (TCP) those of the NULL probe. The
 * first hard match wins; otherwise the first softmatch is the answer. It is
 * pure: it runs on any bytes, banners captured elsewhere too.
 *
 * @module
 */
import type { GuardedMatchOutcome, GuardedResult } from './guarded-match.js';
import type { MatchRule, ServiceProbe, ServiceProbeDatabase } from './probe-database.js';
import { MatcherPool } from './matcher-pool.js';
import { translationProgress, type TranslationProgress } from './probe-file.js';
import { cleanField, fillTemplate, type MatchGroups } from './version-template.js';

/** The version fields nmap reports for a service (its rule's `p v i h o d` and `cpe:` filled). */
export interface VersionFields {
  readonly product?: string;
  readonly version?: string;
  readonly extraInfo?: string;
  readonly hostname?: string;
  readonly osType?: string;
  readonly deviceType?: string;
  /** CPE names (`cpe:/a:openbsd:openssh:9.2p1`), lowercased, substituted values escaped. */
  readonly cpe: readonly string[];
}

/** What a response matched. */
export interface ServiceMatch extends VersionFields {
  /** The service name (`ssh`, `http`). */
  readonly name: string;
  /** Whether it came from a softmatch (the service, no version). */
  readonly soft: boolean;
  /** The probe whose rule matched (a fallback's or the NULL probe's name when the rule came from there). */
  readonly probe: string;
  /** The file and line of the rule. */
  readonly source: string;
  readonly line: number;
}

/**
 * Bytes of a response matched at most, as nmap reads at most this much of
 * one (longer responses are cut, so no pattern runs over more).
 */
export const MAX_MATCHED_BYTES = 64 * 1024;

/** The probes whose rules apply to a response to `probe`, in nmap's order. */
export function matchingChain(database: ServiceProbeDatabase, probe: ServiceProbe): ServiceProbe[] {
  const byName = (name: string): ServiceProbe | undefined => database.probes.find((p) => p.name === name && p.protocol === probe.protocol) ?? database.probes.find((p) => p.name === name);
  const chain: ServiceProbe[] = [probe];
  for (const name of probe.fallback) {
    const fallback = byName(name);
    if (fallback && !chain.includes(fallback)) chain.push(fallback);
  }
  if (probe.protocol === 'tcp') {
    const nullProbe = database.probes.find((p) => p.protocol === 'tcp' && p.name === 'NULL');
    if (nullProbe && !chain.includes(nullProbe)) chain.push(nullProbe);
  }
  return chain;
}

/** The groups of a rule's match, by PCRE group number. */
function groupsOf(rule: MatchRule, result: readonly (string | undefined)[]): MatchGroups {
  const groups: (string | undefined)[] = [result[0]];
  const map = rule.compiled.groupMap;
  for (let n = 1; n < map.length; n++) groups.push(result[map[n] as number]);
  return groups;
}

/** A rule's fields filled from its match. */
function filled(rule: MatchRule, probe: string, groups: MatchGroups): ServiceMatch {
  const t = rule.templates;
  const field = (template: string | undefined): string | undefined => (template === undefined ? undefined : cleanField(fillTemplate(template, groups)));
  const match: { -readonly [K in keyof ServiceMatch]: ServiceMatch[K] } = {
    name: rule.service,
    soft: rule.soft,
    cpe: t.cpe.map((template) => `cpe:/${fillTemplate(template, groups, { cpe: true }).toLowerCase()}`),
    probe,
    source: rule.source,
    line: rule.line,
  };
  const set = (key: 'product' | 'version' | 'extraInfo' | 'hostname' | 'osType' | 'deviceType', value: string | undefined): void => {
    if (value !== undefined) match[key] = value;
  };
  set('product', field(t.product));
  set('version', field(t.version));
  set('extraInfo', field(t.info));
  set('hostname', field(t.hostname));
  set('osType', field(t.osType));
  set('deviceType', field(t.deviceType));
  return match;
}

/** A pattern's time budget by default (ms): past it, the pattern counts as no match, as nmap's patterns do at PCRE's match limit. */
export const DEFAULT_MATCH_BUDGET_MS = 100;

/** Options of {@link matchServiceResponse}. */
export interface MatchResponseOptions {
  /** The protocol of the probe (`tcp` by default). */
  readonly protocol?: 'tcp' | 'udp';
  /** The most time one pattern may run (ms, default {@link DEFAULT_MATCH_BUDGET_MS}); past it the pattern is no match. */
  readonly budgetMs?: number;
  /** Responses with a lower number are matched first when the workers are busy (default 0): detection gives a probe's plan position. */
  readonly priority?: number;
  /**
   * Gives the matching up: a request still queued for a worker leaves the
   * queue, and a pattern running for it is stopped (its worker terminated).
   * The promise rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

/**
 * Starts the database's matching workers now, each compiling the patterns
 * ahead of use (in slices, between requests), so the first answers of a
 * scan do not pay for it. Detection calls it as it begins; the workers end
 * by themselves when idle.
 *
 * @example
 * ```ts
 * prepareMatching(database);
 * ```
 */
export function prepareMatching(database: ServiceProbeDatabase): void {
  matcherOf(database).pool.start();
}

/** A match and the rules that ran out of time on the way to it. */
export interface MatchOutcome {
  readonly match: ServiceMatch | undefined;
  /**
   * Rules that ran past the budget (counted as no match) before the result
   * was decided, in the order they were tried: those that ran out on this
   * answer and those known to run out on it (skipped), never a rule after
   * the match.
   */
  readonly overBudget: readonly MatchRule[];
}

/** The rules a response to one probe is matched against, in order, as the pool's indices. */
interface ChainPlan {
  readonly rules: readonly { readonly rule: MatchRule; readonly from: string }[];
  readonly indices: readonly number[];
  readonly soft: readonly boolean[];
}

interface DatabaseMatcher {
  readonly pool: MatcherPool;
  readonly chains: WeakMap<ServiceProbe, ChainPlan>;
  /**
   * Recent subjects on which patterns ran out of budget, with those
   * patterns: a service that sends the same crafted answer to every probe
   * costs each such pattern's budget once, not once per probe.
   */
  readonly slow: Map<string, Set<number>>;
}

/** Subjects remembered with their over-budget patterns (the oldest is forgotten first). */
const SLOW_SUBJECTS = 32;

/** Each database's workers (started on first use, ended when idle) and its chains, computed once. */
const matchers = new WeakMap<ServiceProbeDatabase, DatabaseMatcher>();

function matcherOf(database: ServiceProbeDatabase): DatabaseMatcher {
  let matcher = matchers.get(database);
  if (!matcher) {
    const progress = translationProgress(database);
    let sources: string[];
    if (progress) {
      // Still loading: the workers get the sources as they are translated (appended in file order,
      // which is the order below), and compile them meanwhile.
      sources = progress.rules.map((rule) => rule.compiled.source);
      const pool = new MatcherPool(sources);
      progress.onProgress(() => {
        for (let i = sources.length; i < progress.rules.length; i++) sources.push((progress.rules[i] as MatchRule).compiled.source);
        pool.grow();
      });
      matcher = { pool, chains: new WeakMap(), slow: new Map() };
    } else {
      sources = database.probes.flatMap((probe) => probe.matches.map((rule) => rule.compiled.source));
      matcher = { pool: new MatcherPool(sources), chains: new WeakMap(), slow: new Map() };
    }
    matchers.set(database, matcher);
  }
  return matcher;
}

function chainPlan(database: ServiceProbeDatabase, matcher: DatabaseMatcher, probe: ServiceProbe): ChainPlan {
  let plan = matcher.chains.get(probe);
  if (plan) return plan;
  const first = new Map<ServiceProbe, number>();
  let index = 0;
  for (const p of database.probes) {
    first.set(p, index);
    index += p.matches.length;
  }
  const rules: { rule: MatchRule; from: string }[] = [];
  const indices: number[] = [];
  for (const from of matchingChain(database, probe)) {
    const base = first.get(from) as number;
    from.matches.forEach((rule, i) => {
      rules.push({ rule, from: from.name });
      indices.push(base + i);
    });
  }
  plan = { rules, indices, soft: rules.map(({ rule }) => rule.soft) };
  matcher.chains.set(probe, plan);
  return plan;
}

/**
 * The rules that ran out of budget before the result was decided, in plan
 * order: those that ran out now, and the skipped ones (known to run out on
 * this subject) at a position matching reached (before the first hard match)
 * and would have run there (a softmatch after the first one is not run).
 */
function overBudgetRules(plan: ChainPlan, results: readonly (readonly (string | undefined)[] | null)[], skip: readonly number[], ran: readonly number[]): MatchRule[] {
  const ruleAt = new Map(plan.indices.map((index, pos) => [index, pos]));
  const positions = new Set<number>();
  for (const index of ran) positions.add(ruleAt.get(index) as number);
  if (skip.length > 0) {
    let firstSoft = Infinity;
    for (let pos = 0; pos < results.length; pos++) {
      if (results[pos] && plan.soft[pos]) {
        firstSoft = pos;
        break;
      }
    }
    for (const index of skip) {
      const pos = ruleAt.get(index) as number;
      if (pos < results.length && !(plan.soft[pos] && pos > firstSoft)) positions.add(pos);
    }
  }
  return [...positions].sort((a, b) => a - b).map((pos) => (plan.rules[pos] as { rule: MatchRule }).rule);
}

/**
 * Matching while the database is still loading: the rules of the chain in
 * nmap's order, a part at a time as their patterns are translated (the
 * chain's first probe's rules, then its fallbacks', then the NULL probe's,
 * each only once the ones before it are all there). Since the first hard
 * match in that order is the answer, one found in the translated part is
 * final; otherwise matching goes on with the next part once it is
 * translated. The result is what matching the loaded database gives.
 */
async function matchWhileLoading(
  database: ServiceProbeDatabase,
  progress: TranslationProgress,
  probe: ServiceProbe,
  matcher: DatabaseMatcher,
  text: string,
  run: (indices: readonly number[], soft: readonly boolean[], skip: readonly number[]) => Promise<GuardedMatchOutcome>,
  signal: AbortSignal | undefined,
): Promise<{ plan: ChainPlan; outcome: GuardedMatchOutcome; skip: number[] }> {
  const chain = matchingChain(database, probe);
  const rules: { rule: MatchRule; from: string }[] = [];
  const indices: number[] = [];
  const soft: boolean[] = [];
  const results: GuardedResult[] = [];
  const overBudget: number[] = [];
  const skip: number[] = [];
  let softFound = false;
  for (;;) {
    // The chain's rules translated so far, in order: a probe's only once every probe before it in the chain is complete.
    const complete = progress.done || chain.every((p) => progress.complete(p));
    const from = rules.length;
    let seen = 0;
    for (const p of chain) {
      const finished = progress.done || progress.complete(p);
      for (const rule of p.matches) {
        if (seen++ < from) continue;
        rules.push({ rule, from: p.name });
        indices.push(progress.indexOf(rule) as number);
        soft.push(rule.soft);
      }
      if (!finished) break;
    }
    if (rules.length > from) {
      // A softmatch after the first one is never taken: once one matched, the later ones are not run.
      const partIndices: number[] = [];
      const partSoft: boolean[] = [];
      const positions: number[] = [];
      for (let pos = from; pos < rules.length; pos++) {
        if (softFound && soft[pos]) continue;
        positions.push(pos);
        partIndices.push(indices[pos] as number);
        partSoft.push(soft[pos] as boolean);
      }
      const known = matcher.slow.get(text);
      const partSkip = known ? partIndices.filter((index) => known.has(index)) : [];
      skip.push(...partSkip);
      const part = partIndices.length === 0 ? { results: [], overBudget: [] } : await run(partIndices, partSoft, partSkip);
      overBudget.push(...part.overBudget);
      for (let pos = results.length; pos < from; pos++) results.push(null);
      let hard = false;
      part.results.forEach((result, k) => {
        const pos = positions[k] as number;
        while (results.length < pos) results.push(null);
        results[pos] = result;
        if (result && soft[pos]) softFound = true;
        else if (result) hard = true;
      });
      const plan: ChainPlan = { rules, indices, soft };
      if (hard) return { plan, outcome: { results, overBudget }, skip };
    }
    if (complete) {
      while (results.length < rules.length) results.push(null);
      return { plan: { rules, indices, soft }, outcome: { results, overBudget }, skip };
    }
    if (signal?.aborted) throw signal.reason;
    await progress.next();
  }
}

/**
 * Like {@link matchServiceResponse}, and also says which rules ran out of
 * time. Every pattern runs in a worker thread with its time budget (see
 * `guarded-match.ts`), so a response crafted to make a pattern backtrack
 * costs that pattern's budget and never blocks the event loop.
 *
 * @example
 * ```ts
 * const { match, overBudget } = await matchResponse(database, 'NULL', banner);
 * ```
 */
export async function matchResponse(database: ServiceProbeDatabase, probeName: string, bytes: Uint8Array, options: MatchResponseOptions = {}): Promise<MatchOutcome> {
  const protocol = options.protocol ?? 'tcp';
  const probe = database.probes.find((p) => p.name === probeName && p.protocol === protocol);
  if (!probe) return { match: undefined, overBudget: [] };
  const matcher = matcherOf(database);
  const length = Math.min(bytes.length, MAX_MATCHED_BYTES);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
  const progress = translationProgress(database);
  const run = (indices: readonly number[], soft: readonly boolean[], skip: readonly number[]): Promise<GuardedMatchOutcome> =>
    matcher.pool.match(text, indices, { budgetMs: options.budgetMs ?? DEFAULT_MATCH_BUDGET_MS, firstOnly: true, soft, skip, priority: options.priority ?? 0, ...(options.signal ? { signal: options.signal } : {}) });
  let plan: ChainPlan;
  let outcome: GuardedMatchOutcome;
  let skip: number[];
  if (progress) {
    ({ plan, outcome, skip } = await matchWhileLoading(database, progress, probe, matcher, text, run, options.signal));
  } else {
    plan = chainPlan(database, matcher, probe);
    if (plan.indices.length === 0) return { match: undefined, overBudget: [] };
    const known = matcher.slow.get(text);
    skip = known ? plan.indices.filter((index) => known.has(index)) : [];
    outcome = await run(plan.indices, plan.soft, skip);
  }
  if (outcome.overBudget.length > 0) {
    const slow = matcher.slow.get(text) ?? new Set<number>();
    for (const index of outcome.overBudget) slow.add(index);
    matcher.slow.delete(text);
    matcher.slow.set(text, slow);
    if (matcher.slow.size > SLOW_SUBJECTS) matcher.slow.delete(matcher.slow.keys().next().value as string);
  }
  const overBudget = overBudgetRules(plan, outcome.results, skip, outcome.overBudget);
  let soft: ServiceMatch | undefined;
  for (let pos = 0; pos < outcome.results.length; pos++) {
    const result = outcome.results[pos];
    if (!result) continue;
    const { rule, from } = plan.rules[pos] as { rule: MatchRule; from: string };
    if (rule.soft && soft) continue;
    const match = filled(rule, from, groupsOf(rule, result));
    if (!rule.soft) return { match, overBudget };
    soft = match;
  }
  return { match: soft, overBudget };
}

/**
 * Matches a response to the probe `probeName` (of `protocol`, TCP by
 * default) against the database: the first hard match in nmap's order, or
 * the first softmatch, or undefined. The bytes are read as latin1, at most
 * {@link MAX_MATCHED_BYTES} of them. Each pattern has a time budget
 * (`budgetMs`); one that runs past it counts as no match and matching goes
 * on, as nmap does at PCRE's match limit. The patterns run in worker threads
 * (two per database, started on first use and ended when idle).
 *
 * @example
 * ```ts
 * const { database } = parseServiceProbes('Probe TCP NULL q||\nmatch ssh m|^SSH-([\\d.]+)-| p/SSH/ i/protocol $1/\n');
 * await matchServiceResponse(database, 'NULL', Buffer.from('SSH-2.0-Example\r\n'));
 * // { name: 'ssh', soft: false, product: 'SSH', extraInfo: 'protocol 2.0', ... }
 * ```
 */
export async function matchServiceResponse(database: ServiceProbeDatabase, probeName: string, bytes: Uint8Array, options: MatchResponseOptions = {}): Promise<ServiceMatch | undefined> {
  return (await matchResponse(database, probeName, bytes, options)).match;
}

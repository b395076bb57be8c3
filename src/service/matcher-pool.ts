/**
 * A few {@link GuardedMatcher}s over the same patterns, so that one hostile
 * response (a pattern running to its budget, again and again) holds one
 * worker while the other ports' responses are matched on another.
 *
 * @module
 */
import { GuardedMatcher, type GuardedMatchOptions, type GuardedMatchOutcome } from './guarded-match.js';

/** Workers per pool: one can be held by a hostile response while another serves the rest. */
export const MATCHER_POOL_SIZE = 2;

/**
 * Guarded matchers sharing one list of pattern sources; each request goes to
 * the one with the least work queued. Workers start on first use and end
 * when idle, so a pool never keeps the process alive.
 *
 * @example
 * ```ts
 * const pool = new MatcherPool(['^SSH-([\\d.]+)-', '^220 ']);
 * const { results } = await pool.match('SSH-2.0-x', [0, 1], { budgetMs: 100 });
 * await pool.close();
 * ```
 */
export class MatcherPool {
  private readonly matchers: GuardedMatcher[] = [];

  /**
   * @param sources - JavaScript regex sources (no flags); pattern `i` is `sources[i]`. The list may grow (appended), with {@link MatcherPool.grow} after.
   * @param size - how many workers at most (default {@link MATCHER_POOL_SIZE}).
   * @example
   * ```ts
   * const pool = new MatcherPool(rules.map((rule) => rule.compiled.source));
   * ```
   */
  constructor(
    private readonly sources: readonly string[],
    private readonly size = MATCHER_POOL_SIZE,
  ) {}

  /**
   * Runs patterns against a subject on the least busy worker (see {@link GuardedMatcher.match}).
   *
   * @param subject - the text (a response's bytes as latin1)
   * @param indices - indices into the constructor's `sources`, in the order to try them
   * @param options - the budget per pattern, `firstOnly`, `soft`
   * @example
   * ```ts
   * const out = await pool.match(text, [3, 7], { budgetMs: 100, firstOnly: true });
   * ```
   */
  match(subject: string, indices: readonly number[], options: GuardedMatchOptions): Promise<GuardedMatchOutcome> {
    let best: GuardedMatcher | undefined;
    for (const matcher of this.matchers) if (!best || matcher.load < best.load) best = matcher;
    if (!best || (best.load > 0 && this.matchers.length < this.size)) {
      best = new GuardedMatcher(this.sources, { warm: true });
      this.matchers.push(best);
    }
    return best.match(subject, indices, options);
  }

  /**
   * Starts every worker now, each compiling the patterns ahead of use, so
   * that the first answers of a scan are matched at full speed.
   *
   * @example
   * ```ts
   * pool.start(); // when detection begins
   * ```
   */
  start(): void {
    while (this.matchers.length < this.size) this.matchers.push(new GuardedMatcher(this.sources, { warm: true }));
    for (const matcher of this.matchers) matcher.start();
  }

  /**
   * Says that sources were appended to the constructor's list (a database
   * still loading): running workers get them now and compile them ahead of
   * use; indices of the earlier sources stay what they were.
   *
   * @example
   * ```ts
   * sources.push(next.compiled.source);
   * pool.grow();
   * ```
   */
  grow(): void {
    for (const matcher of this.matchers) matcher.grow();
  }

  /**
   * Ends every worker; pending requests are rejected. The pool can be used again afterwards (new workers start).
   *
   * @example
   * ```ts
   * await pool.close();
   * ```
   */
  async close(): Promise<void> {
    const matchers = this.matchers.splice(0);
    await Promise.all(matchers.map((matcher) => matcher.close()));
  }
}

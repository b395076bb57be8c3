/**
 * matchResponse's list of rules over budget: only the rules that ran out of
 * budget before the result was decided, never one past the match (such as a
 * rule remembered as slow on this subject, skipped).
 */
import { describe, expect, it } from 'vitest';
import { matchResponse } from '../../src/service/match-response.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';

describe('matchResponse overBudget', () => {
  it('lists a rule known to be slow on the subject only where matching reached it', async () => {
    // NULL's chain: [evil]; Other's chain: [banner, evil] (its own rules, then NULL's).
    const { database, diagnostics } = parseServiceProbes(['Probe TCP NULL q||', 'match evil m|^(a+)+$|', 'Probe TCP Other q|x|', 'match banner m|^a+(b)| p/Banner/ v/$1/'].join('\n'), { source: 'over' });
    expect(diagnostics).toEqual([]);
    const subject = Buffer.from('a'.repeat(40) + 'b');
    const first = await matchResponse(database, 'NULL', subject, { budgetMs: 50 });
    expect(first.match).toBeUndefined();
    expect(first.overBudget.map((rule) => rule.line)).toEqual([2]);
    // The same subject again: evil is skipped (known slow), and banner, before it, matches.
    const second = await matchResponse(database, 'Other', subject, { budgetMs: 50 });
    expect(second.match).toMatchObject({ name: 'banner', version: 'b' });
    expect(second.overBudget).toEqual([]);
    // Where matching does reach it, the skipped rule is listed (it ran out on this subject).
    const third = await matchResponse(database, 'NULL', subject, { budgetMs: 50 });
    expect(third.overBudget.map((rule) => rule.line)).toEqual([2]);
  });

  it('gives matching up on abort: the promise rejects with the reason', async () => {
    const { database } = parseServiceProbes('Probe TCP NULL q||\nmatch evil m|^(a+)+$|\n', { source: 'abort' });
    const stop = new AbortController();
    const t0 = performance.now();
    const pending = matchResponse(database, 'NULL', Buffer.from('a'.repeat(40) + 'c'), { budgetMs: 60_000, signal: stop.signal });
    setTimeout(() => stop.abort(new Error('stopped')), 100);
    await expect(pending).rejects.toThrow('stopped');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

/**
 * Issue 10's "quality of the database itself": every pattern of portscout's
 * own database is either classified safe by analyzePatternRisk, or runs
 * under the matching budget (100 ms) on each of its 16 KB adversarial
 * subjects (adversarialSubjects). No root, no network.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultServiceProbeDiagnostics, defaultServiceProbes } from '../../src/service/default-probes.js';
import { GuardedMatcher } from '../../src/service/guarded-match.js';
import { adversarialSubjects, analyzePatternRisk } from '../../src/service/pattern-risk.js';

const BUDGET_MS = 100;
const SUBJECT_LENGTH = 16_384;

describe("portscout's own probe database", () => {
  const rules = defaultServiceProbes().probes.flatMap((p) => p.matches);
  const matcher = new GuardedMatcher(rules.map((r) => r.compiled.source));
  afterAll(() => matcher.close());

  it('parses without diagnostics', () => {
    expect(defaultServiceProbeDiagnostics()).toEqual([]);
    expect(rules.length).toBeGreaterThan(40);
  });

  it('has no pattern that is risky and runs past the budget on 16 KB adversarial subjects', async () => {
    const over: { line: number; ms: number; reasons: readonly string[] }[] = [];
    let risky = 0;
    let subjects = 0;
    for (const [i, rule] of rules.entries()) {
      const analysis = analyzePatternRisk(rule.compiled.source);
      if (analysis.risk === 'safe') continue;
      risky++;
      let worst = 0;
      for (const subject of adversarialSubjects(rule.compiled.source, SUBJECT_LENGTH)) {
        subjects++;
        const out = await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true });
        let ms = out.timesMs![0]!;
        // Over budget once: measure again, to rule out a GC pause or a busy machine.
        if (ms >= BUDGET_MS) ms = Math.min(ms, (await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true })).timesMs![0]!);
        worst = Math.max(worst, ms);
      }
      if (worst >= BUDGET_MS) over.push({ line: rule.line, ms: Math.round(worst), reasons: analysis.reasons });
    }
    console.log(`[own database] ${rules.length} patterns, ${risky} classified risky, ${subjects} adversarial subjects run; over ${BUDGET_MS} ms: ${over.length}`);
    expect(over).toEqual([]);
  }, 120_000);

  it('and every pattern, safe or not, stays under the budget on its adversarial subjects', async () => {
    const over: { line: number; ms: number }[] = [];
    for (const [i, rule] of rules.entries()) {
      for (const subject of adversarialSubjects(rule.compiled.source, SUBJECT_LENGTH, 6)) {
        const out = await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true });
        let ms = out.timesMs![0]!;
        if (ms >= BUDGET_MS) ms = Math.min(ms, (await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true })).timesMs![0]!);
        if (ms >= BUDGET_MS) over.push({ line: rule.line, ms: Math.round(ms) });
      }
    }
    expect(over).toEqual([]);
  }, 120_000);
});

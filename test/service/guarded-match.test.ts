/**
 * The guarded matcher (a time budget per pattern, in a worker thread) and the
 * static risk classifier, including a sweep of nmap's own probe file (read at
 * test time, never copied; skipped when absent): every pattern runs on
 * adversarial subjects under the matching budget (100 ms), the sweep ends,
 * and every pattern that ran past the budget twice is one the classifier
 * calls risky (a linear pattern takes a few ms on these subjects, so the
 * margin to the budget is wide).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { GuardedMatcher } from '../../src/service/guarded-match.js';
import { adversarialSubjects, analyzePatternRisk, patternRisk } from '../../src/service/pattern-risk.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';

const NMAP_FILE = '/usr/share/nmap/nmap-service-probes';
const BUDGET_MS = 100;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('patternRisk', () => {
  it('flags nested quantifiers, ambiguous alternations, overlapping neighbours and back-references', () => {
    for (const risky of ['^(a+)+$', '(?:\\w+\\s?)*$', '(a|a)*x', '(\\w|\\d)+x', '\\w+\\w+x', '^[\\s\\S]*a[\\s\\S]*b', '\\w+x', '^(\\d{1,3})*$', '^(a)\\1', '^(?:a|ab)*c']) {
      expect(patternRisk(risky), risky).toBe('risky');
    }
  });
  it('passes linear patterns', () => {
    for (const safe of ['^SSH-([0-9.]+)-', '^220 ([\\w.]+) ESMTP', '^HTTP/1\\.[01] \\d\\d\\d [^\\r\\n]*\\r\\n', '^(?:\\.\\d+)*$', '^(?:[^\\r\\n]*\\r\\n)*\\r\\n', '^(?=([a-z]+))(?:\\1)x', '<title>([\\d.]+)</title>']) {
      expect(analyzePatternRisk(safe), safe).toEqual({ risk: 'safe', reasons: [] });
    }
  });
  it('generates subjects that blow up a catastrophic pattern', () => {
    const subjects = adversarialSubjects('^(a+)+$', 26);
    expect(subjects.some((s) => /^a+[^a]$/.test(s))).toBe(true);
  });
});

describe('GuardedMatcher', () => {
  const matcher = new GuardedMatcher(['^(a+)+$', '^(a+)(b)?', 'b$', '(x', '^(c)|(a)']);
  afterAll(() => matcher.close());

  it('stops a catastrophic pattern at its budget and goes on with the next ones', async () => {
    const subject = 'a'.repeat(30) + 'b';
    const t0 = performance.now();
    const out = await matcher.match(subject, [0, 1, 2, 0, 4], { budgetMs: 50 });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1500);
    expect(out.overBudget).toEqual([0, 0]);
    expect(out.results).toEqual([null, ['a'.repeat(30) + 'b', 'a'.repeat(30), 'b'], ['b'], null, ['a', undefined, 'a']]);
  });

  it('gives the same results as exec for benign patterns, firstOnly stops at the first match', async () => {
    const sources = ['^(a+)(b)?', 'b$', '^(c)|(a)', 'z'];
    const plain = new GuardedMatcher(sources);
    try {
      for (const subject of ['aab', 'cab', 'xyz', '', 'a'.repeat(5000) + 'b']) {
        const out = await plain.match(subject, [0, 1, 2, 3], { budgetMs: 1000, measure: true });
        expect(out.results).toEqual(sources.map((s) => {
          const m = new RegExp(s).exec(subject);
          return m ? Array.from(m) : null;
        }));
        expect(out.overBudget).toEqual([]);
        expect(out.timesMs).toHaveLength(4);
      }
      const first = await plain.match('cab', [3, 1, 0, 2], { budgetMs: 1000, firstOnly: true });
      expect(first.results).toEqual([null, ['b']]);
      // concurrent requests are served in order
      const both = await Promise.all([plain.match('ab', [0], { budgetMs: 100 }), plain.match('cb', [2], { budgetMs: 100 })]);
      expect(both.map((o) => o.results[0]?.[0])).toEqual(['ab', 'c']);
    } finally {
      await plain.close();
    }
    await expect(plain.match('a', [0], { budgetMs: 10 })).rejects.toThrow(/closed/);
  });

  it('an invalid source never matches', async () => {
    expect((await matcher.match('(x', [3], { budgetMs: 100 })).results).toEqual([null]);
  });

  it('leaves no handle behind: a process using it exits by itself', () => {
    const code = `
      import { GuardedMatcher } from './src/service/guarded-match.ts';
      const m = new GuardedMatcher(['^(a+)+$', 'a']);
      const out = await m.match('a'.repeat(30) + 'b', [0, 1], { budgetMs: 30 });
      if (out.overBudget[0] !== 0 || !out.results[1]) process.exit(3);
      // idle without close(): the worker is unref'd
      const idle = new GuardedMatcher(['a']);
      await idle.match('a', [0], { budgetMs: 100 });
      await m.close();
      const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      console.log(JSON.stringify(left));
    `;
    const t0 = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(run.stdout).not.toMatch(/Worker|MessagePort/);
  });
});

/**
 * A subject on which `^(?:a|aa)+$|^a` (exponential in the length of `a…ab`, then a match of
 * `a`) takes about `targetMs` of the worker's time: its length found by growing it on a large budget.
 */
async function calibrated(matcher: GuardedMatcher, index: number, targetMs: number): Promise<string> {
  for (let n = 16; n < 64; n++) {
    const subject = 'a'.repeat(n) + 'b';
    const ms = (await matcher.match(subject, [index], { budgetMs: 60_000, measure: true })).timesMs![0]!;
    if (ms >= targetMs) return subject;
  }
  throw new Error('could not calibrate');
}

describe('GuardedMatcher: the verdict', () => {
  const SLOW = '^(?:a|aa)+$|^a';
  const sources = [SLOW, '^(a+)+$', 'a'];

  it('counts the pattern the watchdog saw past its budget, even if it ends (and the next starts) before the worker stops', async () => {
    const matcher = new GuardedMatcher(sources);
    const proto = Worker.prototype as { terminate(): Promise<number> };
    const terminate = proto.terminate;
    try {
      const subject = await calibrated(matcher, 0, 120);
      // The worker is stopped a while after the verdict: long enough for the slow pattern (about
      // three budgets) to end and the catastrophic one after it to start.
      proto.terminate = function (this: Worker) {
        return new Promise<void>((resolve) => setTimeout(resolve, 400)).then(() => terminate.call(this));
      };
      const out = await matcher.match(subject, [2, 0, 1, 2], { budgetMs: 40 });
      expect(out.overBudget).toEqual([0, 1]);
      expect(out.results).toEqual([['a'], null, null, ['a']]);
    } finally {
      proto.terminate = terminate;
      await matcher.close();
    }
  }, 20_000);

  it('the budget is CPU time: a pattern that waits for the CPU on a busy machine is not over budget', async () => {
    const matcher = new GuardedMatcher(sources);
    const hogs: ChildProcess[] = [];
    try {
      const subject = await calibrated(matcher, 0, 25);
      // One busy process per core at the normal priority: the worker (niced) gets a small share.
      for (let i = 0; i < 2; i++) hogs.push(spawn(process.execPath, ['-e', 'const end = Date.now() + 4000; while (Date.now() < end);'], { stdio: 'ignore' }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const out = await matcher.match(subject, [0], { budgetMs: 100, measure: true });
      expect(out.overBudget).toEqual([]);
      expect(out.results).toEqual([['a']]);
      console.log(`[cpu budget] a ${subject.length}-character subject took ${out.timesMs![0]!.toFixed(0)} ms of wall time beside two busy processes`);
    } finally {
      for (const hog of hogs) hog.kill();
      await matcher.close();
    }
  }, 20_000);

  it('a request given up (signal) leaves the queue, or stops its pattern; the others are served', async () => {
    const matcher = new GuardedMatcher(sources);
    try {
      const stop = new AbortController();
      const t0 = performance.now();
      const running = matcher.match('a'.repeat(40) + 'b', [1], { budgetMs: 60_000, signal: stop.signal });
      const queued = matcher.match('a', [2], { budgetMs: 100, signal: stop.signal });
      const other = matcher.match('aa', [2], { budgetMs: 100 });
      setTimeout(() => stop.abort(new Error('scan gone')), 200);
      await expect(running).rejects.toThrow('scan gone');
      await expect(queued).rejects.toThrow('scan gone');
      expect((await other).results).toEqual([['a']]);
      expect(performance.now() - t0).toBeLessThan(10_000);
      await expect(matcher.match('a', [2], { budgetMs: 100, signal: stop.signal })).rejects.toThrow('scan gone');
    } finally {
      await matcher.close();
    }
  });
});

describe.skipIf(!existsSync(NMAP_FILE))("nmap's probe file", () => {
  it('every pattern past the budget on adversarial subjects is classified risky; few are flagged', async () => {
    const { database } = parseServiceProbes(readFileSync(NMAP_FILE, 'latin1'), { source: NMAP_FILE });
    const rules = database.probes.flatMap((p) => p.matches);
    const sources = rules.map((r) => r.compiled.source);
    const slow: { line: number; ms: number; risk: string; reasons: readonly string[] }[] = [];
    let flagged = 0;
    // Two matchers (one worker each) share the rules, one core each, so the sweep takes about half
    // the wall time. The figures are each worker's wall time per pattern; a safe pattern over the
    // budget is measured again (below) before it counts.
    const sweep = async (from: number, to: number): Promise<void> => {
      const matcher = new GuardedMatcher(sources);
      try {
        for (let i = from; i < to; i++) {
          const rule = rules[i]!;
          const analysis = analyzePatternRisk(rule.compiled.source);
          if (analysis.risk === 'risky') flagged++;
          let worst = 0;
          for (const subject of adversarialSubjects(rule.compiled.source, 8192, 6)) {
            const out = await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true });
            let ms = out.timesMs![0]!;
            // a safe pattern over budget: measure again, to rule out a GC pause or a busy machine
            if (ms >= BUDGET_MS && analysis.risk === 'safe') ms = Math.min(ms, (await matcher.match(subject, [i], { budgetMs: BUDGET_MS, measure: true })).timesMs![0]!);
            worst = Math.max(worst, ms);
          }
          if (worst >= BUDGET_MS) slow.push({ line: rule.line, ms: Math.round(worst), risk: analysis.risk, reasons: analysis.reasons });
        }
      } finally {
        await matcher.close();
      }
    };
    const half = Math.ceil(rules.length / 2);
    await Promise.all([sweep(0, half), sweep(half, rules.length)]);
    slow.sort((a, b) => b.ms - a.ms);
    const fraction = flagged / rules.length;
    console.log(`risky: ${flagged}/${rules.length} (${(fraction * 100).toFixed(1)}%); over the ${BUDGET_MS} ms budget: ${slow.length}`);
    for (const s of slow.slice(0, 25)) console.log(`  line ${s.line}: ${s.ms} ms ${s.risk} (${s.reasons.join(', ')})`);
    expect(slow.filter((s) => s.risk !== 'risky')).toEqual([]);
    expect(fraction).toBeLessThan(0.15);
  }, 600_000);
});

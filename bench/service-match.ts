/**
 * Matching speed of the service matcher: one 4 KB response against every
 * pattern of a probe database, warm, medians of many runs.
 *
 * - portscout's own database (src/service/default-probes.ts), target
 *   (issue 10): under 2 ms, on each of a few 4 KB responses (an HTTP answer
 *   no rule names, one of nothing but headers, a banner-like text line,
 *   random bytes), and through the engine's worker (GuardedMatcher, one
 *   request for all patterns) for comparison;
 * - nmap's file (read at run time when it is installed; never copied), or
 *   the file given, target (issue 9): under 20 ms. Also the time to parse
 *   and translate the whole file.
 *
 *   npx tsx bench/service-match.ts [path]
 */
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { defaultServiceProbes } from '../src/service/default-probes.js';
import { GuardedMatcher } from '../src/service/guarded-match.js';
import type { ServiceProbeDatabase } from '../src/service/probe-database.js';
import { parseServiceProbes } from '../src/service/probe-file.js';

const path = process.argv[2] ?? '/usr/share/nmap/nmap-service-probes';

// A 4 KB HTTP response of a kind no rule names exactly, so every pattern runs to its end.
const body = 'x'.repeat(4096 - 120);
const response = `HTTP/1.1 200 OK\r\nServer: benchd/0.0\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`.slice(0, 4096);
// The same size in header lines and no Server header: the HTTP rules walk every line.
const headers = `HTTP/1.1 200 OK\r\n${Array.from({ length: 200 }, (_, i) => `X-Bench-${String(i).padStart(3, '0')}: ${'h'.repeat(8)}\r\n`).join('')}`.slice(0, 4096);
// One long printable line (a banner no rule names), and random bytes (latin1, one byte a character).
const banner = `220 ${'benchd ready '.repeat(400)}`.slice(0, 4094) + '\r\n';
const random = randomBytes(4096).toString('latin1');
const SUBJECTS: readonly (readonly [string, string])[] = [
  ['HTTP answer, unnamed server', response],
  ['HTTP headers only', headers],
  ['banner line', banner],
  ['random bytes', random],
];

interface Timing {
  readonly ms: number;
  readonly matched: number;
  readonly slowest: { readonly ms: number; readonly line: number };
}

function once(database: ServiceProbeDatabase, subject: string): Timing {
  const rules = database.probes.flatMap((p) => p.matches);
  let matched = 0;
  let slowest = { ms: 0, line: 0 };
  const started = performance.now();
  for (const rule of rules) {
    const t = performance.now();
    rule.compiled.regex.lastIndex = 0;
    if (rule.compiled.regex.exec(subject)) matched++;
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms, line: rule.line };
  }
  return { ms: performance.now() - started, matched, slowest };
}

/** Warm runs of `run`, sorted by time: two discarded first, then `count`. */
function warm(count: number, run: () => Timing): Timing[] {
  run();
  run();
  return Array.from({ length: count }, run).sort((a, b) => a.ms - b.ms);
}

const mid = <T>(sorted: readonly T[]): T => sorted[Math.floor(sorted.length / 2)]!;

// portscout's own database.
const ours = defaultServiceProbes();
const ourRules = ours.probes.flatMap((p) => p.matches);
const OUR_RUNS = 1001;
let worst = 0;
console.log(`portscout's own database: ${ours.probes.length} probes, ${ourRules.length} rules`);
for (const [label, subject] of SUBJECTS) {
  const runs = warm(OUR_RUNS, () => once(ours, subject));
  const m = mid(runs);
  worst = Math.max(worst, m.ms);
  console.log(
    `  match one 4 KB response (${label}) against all ${ourRules.length} patterns (warm, ${OUR_RUNS} runs): median ${m.ms.toFixed(3)} ms, min ${runs[0]!.ms.toFixed(3)} ms, p99 ${runs[Math.floor(OUR_RUNS * 0.99)]!.ms.toFixed(3)} ms; ${m.matched} matched; slowest pattern line ${m.slowest.line} (${m.slowest.ms.toFixed(3)} ms)`,
  );
}
// Through the engine's worker thread: one request for every pattern, as detection sends them (plus the round trip).
const matcher = new GuardedMatcher(ourRules.map((r) => r.compiled.source));
const indices = ourRules.map((_, i) => i);
const guarded: number[] = [];
for (let i = 0; i < 2 + 201; i++) {
  const t = performance.now();
  await matcher.match(response, indices, { budgetMs: 100 });
  if (i >= 2) guarded.push(performance.now() - t);
}
matcher.close();
guarded.sort((a, b) => a - b);
console.log(`  through the worker (GuardedMatcher, one request of all ${ourRules.length} patterns, HTTP answer, warm, ${guarded.length} runs): median ${mid(guarded).toFixed(3)} ms, min ${guarded[0]!.toFixed(3)} ms`);
console.log(`  target (issue 10): under 2 ms once warm, on each response: ${worst < 2 ? 'met' : 'NOT met'} (worst median ${worst.toFixed(3)} ms)`);

// nmap's file (or the one given).
if (!existsSync(path)) {
  console.log(`no probe file at ${path}: install nmap, or pass a path`);
} else {
  const text = readFileSync(path, 'latin1');
  const parseStarted = performance.now();
  const { database, diagnostics } = parseServiceProbes(text, { source: path });
  const parseMs = performance.now() - parseStarted;
  const rules = database.probes.flatMap((p) => p.matches);
  const runs = warm(20, () => once(database, response));
  const median = runs[10]!;
  console.log(`file: ${path}: ${database.probes.length} probes, ${rules.length} rules, ${diagnostics.length} diagnostics; parsed and translated in ${Math.round(parseMs)} ms`);
  console.log(`match one 4 KB response against all ${rules.length} patterns (warm): median ${median.ms.toFixed(1)} ms, min ${runs[0]!.ms.toFixed(1)} ms, max ${runs[19]!.ms.toFixed(1)} ms; ${median.matched} matched; slowest pattern line ${median.slowest.line} (${median.slowest.ms.toFixed(2)} ms)`);
  console.log(`target: under 20 ms: ${median.ms < 20 ? 'met' : 'NOT met'}`);
}

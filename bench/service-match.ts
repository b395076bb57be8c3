/**
 * Matching speed of the service matcher: one 4 KB response against every
 * pattern of a probe file (nmap's, read at run time when it is installed;
 * never copied), warm, median of 20 runs. Target (issue 9): under 20 ms.
 * Also the time to parse and translate the whole file.
 *
 *   npx tsx bench/service-match.ts [path]
 */
import { readFileSync, existsSync } from 'node:fs';
import { parseServiceProbes } from '../src/service/probe-file.js';

const path = process.argv[2] ?? '/usr/share/nmap/nmap-service-probes';
if (!existsSync(path)) {
  console.log(`no probe file at ${path}: install nmap, or pass a path`);
  process.exit(0);
}
const text = readFileSync(path, 'latin1');
const parseStarted = performance.now();
const { database, diagnostics } = parseServiceProbes(text, { source: path });
const parseMs = performance.now() - parseStarted;
const rules = database.probes.flatMap((p) => p.matches);

// A 4 KB HTTP response of a kind no rule names exactly, so every pattern runs to its end.
const body = 'x'.repeat(4096 - 120);
const response = `HTTP/1.1 200 OK\r\nServer: benchd/0.0\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`.slice(0, 4096);

function once(): { ms: number; matched: number; slowest: { ms: number; line: number } } {
  let matched = 0;
  let slowest = { ms: 0, line: 0 };
  const started = performance.now();
  for (const rule of rules) {
    const t = performance.now();
    rule.compiled.regex.lastIndex = 0;
    if (rule.compiled.regex.exec(response)) matched++;
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms, line: rule.line };
  }
  return { ms: performance.now() - started, matched, slowest };
}

once();
once();
const runs = Array.from({ length: 20 }, once).sort((a, b) => a.ms - b.ms);
const median = runs[10]!;
console.log(`file: ${path}: ${database.probes.length} probes, ${rules.length} rules, ${diagnostics.length} diagnostics; parsed and translated in ${Math.round(parseMs)} ms`);
console.log(`match one 4 KB response against all ${rules.length} patterns (warm): median ${median.ms.toFixed(1)} ms, min ${runs[0]!.ms.toFixed(1)} ms, max ${runs[19]!.ms.toFixed(1)} ms; ${median.matched} matched; slowest pattern line ${median.slowest.line} (${median.slowest.ms.toFixed(2)} ms)`);
console.log(`target: under 20 ms: ${median.ms < 20 ? 'met' : 'NOT met'}`);

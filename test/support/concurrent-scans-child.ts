/**
 * Runs several scans at once in one process, through the public API, and
 * prints one JSON line per scan when all have ended:
 *   { "type": "scan", "index", "ports": [[port, state, reason], ...], "stats", "warnings": [code...], "error"? }
 * and a last line { "type": "raw-drops", "drops" } with the drops column of
 * /proc/net/raw summed over this process's raw sockets at the end (the
 * kernel's count of replies it could not queue).
 * Lab tests start it inside the scanner's namespace:
 *   ip netns exec <ns> node --import tsx test/support/concurrent-scans-child.ts '[{ "scanner": "tcpSynScan", "options": {...} }, ...]'
 */
import { readFileSync } from 'node:fs';
import type * as Portscout from '../../src/index.js';

type ScannerName = 'tcpConnectScan' | 'tcpSynScan' | 'udpScan';
const requests = JSON.parse(process.argv[2] ?? '[]') as { scanner: ScannerName; options: Record<string, unknown> }[];
const portscout = (await import('../../src/index.js')) as typeof Portscout;

/** Sum of the drops column of /proc/net/raw and raw6 (this namespace's raw sockets). */
function rawDrops(): number {
  let drops = 0;
  for (const file of ['/proc/net/raw', '/proc/net/raw6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const value = Number(fields[fields.length - 1]);
      if (fields.length > 10 && Number.isFinite(value)) drops += value;
    }
  }
  return drops;
}

let peakDrops = 0;
const watch = setInterval(() => (peakDrops = Math.max(peakDrops, rawDrops())), 50);
const results = await Promise.all(
  requests.map(async ({ scanner, options }, index) => {
    const run = portscout[scanner] as (options: never) => AsyncIterable<Portscout.ScanEvent>;
    const ports: [number, string, string][] = [];
    const warnings: string[] = [];
    let stats: Portscout.ScanStats | undefined;
    const startedAt = performance.now();
    try {
      for await (const event of run(options as never)) {
        if (event.type === 'port') ports.push([event.port, event.state, event.reason]);
        else if (event.type === 'warning') warnings.push(event.code);
        else if (event.type === 'done') stats = event.stats;
      }
      return { type: 'scan', index, ports, stats, warnings, wallMs: performance.now() - startedAt };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      return { type: 'scan', index, ports, stats, warnings, wallMs: performance.now() - startedAt, error: { code: e.code, message: e.message } };
    }
  }),
);
clearInterval(watch);
for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
process.stdout.write(`${JSON.stringify({ type: 'raw-drops', drops: Math.max(peakDrops, rawDrops()) })}\n`);

/**
 * Benchmark of the targets layer: iterate every (address, port) pair of
 * 10.0.0.0/8 x 1 port and of fd00::/104 x 1 port in seeded random order,
 * touching each pair's address, protocol and port, and report pairs per second
 * and peak RSS above the baseline measured at start. Each case runs in a
 * process of its own, so each peak is its own. Pure computation: nothing is sent.
 *
 * Run: npx tsx bench/targets.ts
 * Targets (issue 3): at least 5 M pairs per second, under 50 MB above the baseline.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { planScan } from '../src/targets/index.js';

const MB = 1024 * 1024;
// maxRSS is in kilobytes.
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
const baseline = peakRss();

interface Result {
  readonly name: string;
  readonly pairs: number;
  readonly seconds: number;
  readonly pairsPerSecond: number;
  readonly peakRssAboveBaselineMb: number;
}

async function run(name: string, targets: string, ports: string): Promise<Result> {
  const plan = await planScan({ targets: [targets], ports, order: { random: true, seed: 'bench' } });
  const started = process.hrtime.bigint();
  let pairs = 0;
  let checksum = 0;
  for (const pair of plan.pairs()) {
    pairs++;
    checksum = (checksum + pair.address.length + pair.port + (pair.protocol === 'tcp' ? 1 : 2) + pair.family) | 0;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (pairs !== plan.size) throw new Error(`iterated ${pairs} pairs, plan says ${plan.size}`);
  if (checksum === 0) console.log('(checksum zero)');
  return { name, pairs, seconds, pairsPerSecond: pairs / seconds, peakRssAboveBaselineMb: (peakRss() - baseline) / MB };
}

const CASES: Record<string, [string, string, string]> = {
  v4: ['10.0.0.0/8 x 1 port, random order', '10.0.0.0/8', '80'],
  v6: ['fd00::/104 x 1 port, random order', 'fd00::/104', '80'],
};
const TARGET_PAIRS_PER_SECOND = 5e6;
const TARGET_RSS_MB = 50;

const only = process.argv[2];
if (only !== undefined) {
  const [name, targets, ports] = CASES[only]!;
  console.log(JSON.stringify({ ...(await run(name, targets, ports)), baselineMb: baseline / MB }));
} else {
  const results = Object.keys(CASES).map((key) => {
    const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), key], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Result & { baselineMb: number };
  });
  console.log(`baseline maxRSS: ${results.map((r) => `${r.baselineMb.toFixed(1)} MB`).join(', ')} (node ${process.version})`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(36)} ${r.pairs.toLocaleString('en-US').padStart(11)} pairs in ${r.seconds.toFixed(2)} s: ` +
        `${(r.pairsPerSecond / 1e6).toFixed(2)} M pairs/s, peak RSS +${r.peakRssAboveBaselineMb.toFixed(1)} MB`,
    );
  }
  const speed = results.every((r) => r.pairsPerSecond >= TARGET_PAIRS_PER_SECOND);
  const memory = results.every((r) => r.peakRssAboveBaselineMb < TARGET_RSS_MB);
  console.log(`targets (>= ${TARGET_PAIRS_PER_SECOND / 1e6} M pairs/s, < ${TARGET_RSS_MB} MB): speed ${speed ? 'met' : 'NOT met'}, memory ${memory ? 'met' : 'NOT met'}`);
}

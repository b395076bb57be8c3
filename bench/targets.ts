/**
 * Benchmark of the targets layer: iterate every (address, port) pair of
 * 10.0.0.0/8 x 1 port and of fd00::/104 x 1 port in seeded random order,
 * touching each pair's address, protocol and port, and report pairs per second
 * and peak RSS above the baseline measured at start. Pure computation: nothing
 * is sent.
 *
 * Run: npx tsx bench/targets.ts
 */
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

const results = [await run('10.0.0.0/8 x 1 port, random order', '10.0.0.0/8', '80'), await run('fd00::/104 x 1 port, random order', 'fd00::/104', '80')];
console.log(`baseline maxRSS: ${(baseline / MB).toFixed(1)} MB (node ${process.version})`);
for (const r of results) {
  console.log(
    `${r.name.padEnd(36)} ${r.pairs.toLocaleString('en-US').padStart(11)} pairs in ${r.seconds.toFixed(2)} s: ` +
      `${(r.pairsPerSecond / 1e6).toFixed(2)} M pairs/s, peak RSS +${r.peakRssAboveBaselineMb.toFixed(1)} MB`,
  );
}

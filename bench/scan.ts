/**
 * bench/scan: portscout against nmap in the namespace lab, same host, same run.
 *
 *   npm run build && npx tsx bench/scan.ts   (root; builds and tears down its own lab)
 *   BENCH_ONLY=syn,connect npx tsx bench/scan.ts   (only some rows: syn, connect, udp, sweep, memory, big)
 *   BENCH_RUNS=5 ...   (runs of each TCP row, ours and nmap's alternating; default 3, medians compared)
 *
 * Prints wall time, packets per second and whether the states match nmap's for:
 * a full TCP SYN scan (1-65535) of one host, a connect scan of all ports, an
 * ICMP sweep of a /24 with five live hosts, a UDP scan of 100 common ports,
 * the peak RSS of a full-port SYN scan of one host (1-65535, the process's
 * whole peak, node and portscout loaded included, against nmap -sS's), and
 * the peak RSS of a SYN scan of a /16 x 100 ports (198.19.0.0/16, answered
 * by t1 for every address with an AnyIP local route). Both memory rows run
 * the built package with a consumer that only counts port events by state,
 * so what they measure is the library's, not a consumer's that keeps events.
 *
 * The SYN row also runs the physical floor in the same runs, alternating:
 * bench/syn-floor.c (compiled here with the system's C compiler, skipped with
 * a line when there is none) sends the same SYNs with one `sendto` per
 * packet, and with `sendmmsg`/`recvmmsg` in batches of 32, about 1,000 in
 * flight, and times the last reply (issue 14's goal: portscout within 1.5x
 * of the batched floor), and the same SYN scan on the raw-socket fallback
 * (PORTSCOUT_RAW_IO=raw-socket), for what the native addon gains. The big
 * row (/16 x 100) runs the same floor over 65,536 hosts x 100 ports once
 * per mode after the scan (each takes about as long as the scan).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from '../test/lab/lab.js';
import { comparePortStates, findHost, runNmap } from '../test/lab/nmap.js';
import { scanInLab } from '../test/lab/scan-in-lab.js';
import { topPorts } from '../src/index.js';

const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const wanted = (row: string): boolean => only === undefined || only.has(row);

/** Judgements against issue 4's targets, printed after the table. */
const verdicts: string[] = [];
const judge = (what: string, met: boolean, detail: string): void => {
  verdicts.push(`${what}: ${met ? 'met' : 'NOT met'} (${detail})`);
};

const rows: string[][] = [['scan', 'portscout s', 'nmap s', 'ratio', 'pkts/s', 'states match', 'notes']];

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** Runs of each TCP row (ours and nmap's, alternating); the verdict compares medians. BENCH_RUNS overrides. */
const TCP_RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** bench/syn-floor.c compiled, or undefined without a C compiler. */
function compileFloor(): string | undefined {
  const binary = join(mkdtempSync(join(tmpdir(), 'portscout-floor-')), 'syn-floor');
  const source = new URL('./syn-floor.c', import.meta.url).pathname;
  const cc = spawnSync('cc', ['-O2', '-o', binary, source], { encoding: 'utf8' });
  if (cc.status !== 0) {
    console.error(`bench/scan: no C floor (cc: ${cc.error?.message ?? cc.stderr.trim()})`);
    return undefined;
  }
  return binary;
}

/** One run of the C floor over ports 1-65535 of the target, in the scanner's namespace. */
async function floorRun(lab: Lab, binary: string, mode: 'sendto' | 'mmsg'): Promise<{ seconds: number; answered: number }> {
  const run = await lab.exec('scan', [binary, lab.scanner.ipv4[0], lab.t1.ipv4[0], '1', '65535', '1000', mode], { timeoutMs: 60_000 });
  const result = JSON.parse(run.stdout.trim()) as { seconds: number; answered: number };
  return { seconds: result.seconds, answered: result.answered };
}

const floorRuns: Record<'sendto' | 'mmsg', number[]> = { sendto: [], mmsg: [] };
/** SYN scan durations on the raw-socket fallback (PORTSCOUT_RAW_IO=raw-socket), in the same runs. */
const fallbackSeconds: number[] = [];
let floorBinary: string | undefined;

async function portScan(lab: Lab, name: string, scanner: 'tcpSynScan' | 'tcpConnectScan' | 'udpScan', nmapFlag: string, ports: string, portList: number[], protocol: 'tcp' | 'udp'): Promise<void> {
  const target = lab.t1.ipv4[0];
  const runs = protocol === 'tcp' ? TCP_RUNS : 1;
  const oursSeconds: number[] = [];
  const nmapSeconds: number[] = [];
  let diffCount = 0;
  let last: Awaited<ReturnType<typeof scanInLab>> | undefined;
  for (let run = 0; run < runs; run++) {
    if (scanner === 'tcpSynScan' && floorBinary) {
      for (const mode of ['sendto', 'mmsg'] as const) floorRuns[mode].push((await floorRun(lab, floorBinary, mode)).seconds);
    }
    if (scanner === 'tcpSynScan') {
      // The same scan on the raw-socket fallback (the addon forced off), for the addon's share.
      const fallback = await scanInLab(lab, scanner, { targets: target, ports, skipDiscovery: true, timing: 'T4' }, { timeoutMs: 600_000, dist: true, compact: true, env: { PORTSCOUT_RAW_IO: 'raw-socket' } });
      if (fallback.errors.length > 0) throw new Error(`${name} on raw-socket: ${JSON.stringify(fallback.errors)}`);
      fallbackSeconds.push(fallback.stats.durationMs / 1000);
    }
    const ours = await scanInLab(lab, scanner, { targets: target, ports, skipDiscovery: true, timing: 'T4' }, { timeoutMs: 600_000, dist: true, compact: true });
    if (ours.errors.length > 0) throw new Error(`${name}: ${JSON.stringify(ours.errors)}`);
    const nmap = await runNmap(lab, [nmapFlag, '-Pn', '-T4', '-p', ports, target], { timeoutMs: 900_000 });
    const host = findHost(nmap, target);
    const diffs = host ? comparePortStates(host, ours.ports, protocol === 'tcp' ? { tcp: portList } : { udp: portList }, { reasons: false }) : ['nmap did not report the host'];
    if (diffs.length > 0) console.error(name, diffs.slice(0, 10));
    diffCount += diffs.length;
    oursSeconds.push(ours.stats.durationMs / 1000);
    nmapSeconds.push(nmap.elapsedSeconds);
    last = ours;
  }
  const seconds = median(oursSeconds);
  const nmapMedian = median(nmapSeconds);
  const ratio = seconds / nmapMedian;
  const spread = runs > 1 ? ` (runs: ours ${oursSeconds.map((v) => fmt(v)).join(' ')}; nmap ${nmapSeconds.map((v) => fmt(v)).join(' ')})` : '';
  if (scanner === 'tcpSynScan') judge('SYN scan in at most half of nmap -sS -T4 time, same states', ratio <= 0.5 && diffCount === 0, `median ratio ${fmt(ratio)}${spread}`);
  if (scanner === 'tcpSynScan' && floorRuns.mmsg.length > 0) {
    const batched = median(floorRuns.mmsg);
    judge('SYN scan 1-65535 within 1.5x of the batched C floor', seconds <= 1.5 * batched, `${fmt(seconds)} s against ${fmt(batched, 3)} s: ${fmt(seconds / batched)}x; floor runs sendmmsg ${floorRuns.mmsg.map((v) => fmt(v, 3)).join(' ')}, sendto ${floorRuns.sendto.map((v) => fmt(v, 3)).join(' ')}`);
    rows.push(['C floor, one sendto per SYN', fmt(median(floorRuns.sendto), 3), '-', '-', fmt(65535 / median(floorRuns.sendto), 0), '-', 'bench/syn-floor.c, ~1000 in flight, time of the last reply']);
    rows.push(['C floor, sendmmsg/recvmmsg x32', fmt(batched, 3), '-', '-', fmt(65535 / batched, 0), '-', 'the same, batched']);
    if (fallbackSeconds.length > 0) {
      const onRawSocket = median(fallbackSeconds);
      rows.push(['SYN scan on raw-socket (fallback)', fmt(onRawSocket), '-', '-', fmt(65536 / onRawSocket, 0), '-', `PORTSCOUT_RAW_IO=raw-socket, median of ${fallbackSeconds.length}: ${fmt(onRawSocket / batched)}x the batched floor; runs ${fallbackSeconds.map((v) => fmt(v)).join(' ')}`]);
    }
  }
  if (scanner === 'tcpConnectScan') judge('connect scan no slower than nmap -sT -T4, same states', ratio <= 1 && diffCount === 0, `median ratio ${fmt(ratio)}${spread}`);
  const stats = last!.stats;
  rows.push([
    runs > 1 ? `${name} (median of ${runs})` : name,
    fmt(seconds),
    fmt(nmapMedian),
    fmt(ratio),
    fmt(stats.sent / (stats.durationMs / 1000), 0),
    diffCount === 0 ? 'yes' : `NO (${diffCount})`,
    `sent ${stats.sent}, retx ${stats.retransmitted}, child wall ${fmt(last!.wallMs / 1000)} s (last run)`,
  ]);
}

async function main(): Promise<void> {
  // The scans run the built package (dist/), as users run it.
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('bench/scan runs the built package: run npm run build first');
  floorBinary = wanted('syn') || wanted('big') ? compileFloor() : undefined;
  const lab = await createLab({ loss: 0 });
  try {
    const all = Array.from({ length: 65535 }, (_, i) => i + 1);
    if (wanted('syn')) await portScan(lab, 'SYN scan 1-65535', 'tcpSynScan', '-sS', '1-65535', all, 'tcp');
    if (wanted('connect')) await portScan(lab, 'connect scan 1-65535', 'tcpConnectScan', '-sT', '1-65535', all, 'tcp');
    const udp = topPorts(100, 'udp');
    if (wanted('udp')) await portScan(lab, `UDP scan, ${udp.length} common ports (the built-in table's top 100)`, 'udpScan', '-sU', udp.join(','), udp, 'udp');

    if (wanted('sweep')) {
      const ours = await scanInLab(lab, 'discoverHosts', { targets: lab.sweep.cidr, timing: 'T4', maxRetries: 1 }, { dist: true, compact: true });
      const nmap = await runNmap(lab, ['-sn', '-T4', lab.sweep.cidr]);
      const nmapUp = nmap.hosts.filter((h) => h.status === 'up').map((h) => h.address).sort();
      const oursUp = ours.hosts.filter((h) => h.status === 'up').map((h) => h.address).sort();
      const seconds = ours.stats.durationMs / 1000;
      judge('sweep of a /24 under 2 s, same hosts up', seconds < 2 && JSON.stringify(oursUp) === JSON.stringify(nmapUp), `${fmt(seconds)} s`);
      rows.push(['ICMP sweep /24 (5 live + self)', fmt(seconds), fmt(nmap.elapsedSeconds), fmt(seconds / nmap.elapsedSeconds), fmt(ours.stats.sent / seconds, 0), JSON.stringify(oursUp) === JSON.stringify(nmapUp) ? 'yes' : 'NO', `up ${oursUp.length}; nmap uses ARP, portscout ICMP echo + TCP pings`]);
    }

    if (wanted('memory')) {
      // Issue 14: a one-host full-port SYN scan under 60 MB peak RSS (nmap: about 27 MB). Median of 3 runs.
      const child = new URL('./scan-memory-child.mjs', import.meta.url).pathname;
      const options = { targets: lab.t1.ipv4[0], ports: '1-65535', skipDiscovery: true, timing: 'T4' };
      const runs: { peakMb: number; aboveMb: number; counts: Record<string, number> }[] = [];
      for (let run = 0; run < 3; run++) {
        const result = await lab.exec('scan', [process.execPath, child, JSON.stringify(options)], { timeoutMs: 600_000 });
        const line = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { baselineRssKb: number; maxRssKb: number; counts: Record<string, number>; error?: unknown };
        if (line.error !== undefined || !(line.maxRssKb > 0)) throw new Error(`memory: ${result.stdout} ${result.stderr.slice(0, 2000)}`);
        runs.push({ peakMb: line.maxRssKb / 1024, aboveMb: (line.maxRssKb - line.baselineRssKb) / 1024, counts: line.counts });
      }
      const nmap = await lab.exec('scan', ['/usr/bin/time', '-f', 'maxrss %M', 'nmap', '-n', '-sS', '-Pn', '-T4', '-p', '1-65535', '-oN', '/dev/null', lab.t1.ipv4[0]], { timeoutMs: 900_000 });
      const nmapKb = Number(/maxrss (\d+)/.exec(nmap.stderr)?.[1] ?? Number.NaN);
      const peak = median(runs.map((r) => r.peakMb));
      judge('SYN scan 1-65535 of one host under 60 MB peak RSS', peak < 60, `${fmt(peak, 1)} MB (runs ${runs.map((r) => fmt(r.peakMb, 1)).join(' ')}; +${fmt(median(runs.map((r) => r.aboveMb)), 1)} MB above the baseline with portscout loaded); nmap ${fmt(nmapKb / 1024, 1)} MB`);
      rows.push(['SYN 1-65535 peak RSS (memory)', '-', '-', '-', '-', '-', `peak ${fmt(peak, 1)} MB (+${fmt(median(runs.map((r) => r.aboveMb)), 1)} above baseline), nmap ${fmt(nmapKb / 1024, 1)} MB; states ${JSON.stringify(runs.at(-1)!.counts)}`]);
    }

    if (wanted('big')) {
      // Every address of 198.19.0.0/16 answers from t1 (AnyIP): a /16 x 100 ports of real replies.
      await lab.exec('t1', ['ip', 'route', 'add', 'local', '198.19.0.0/16', 'dev', 'lo']);
      await lab.exec('scan', ['ip', 'route', 'add', '198.19.0.0/16', 'via', lab.t1.ipv4[0]]);
      const big = await scanInLab(
        lab,
        'tcpSynScan',
        { targets: '198.19.0.0/16', ports: topPorts(100, 'tcp').join(','), skipDiscovery: true, timing: 'T5', maxRetries: 1, order: { random: true, seed: 1 } },
        { timeoutMs: 900_000, reportRss: true, quiet: true, dist: true },
      );
      if (big.errors.length > 0) throw new Error(JSON.stringify(big.errors));
      const bigSeconds = big.stats.durationMs / 1000;
      const rssMb = (big.rssAboveBaselineKb ?? 0) / 1024;
      judge('SYN scan of a /16 x 100 ports under 100 MB peak RSS', rssMb < 100, `+${fmt(rssMb, 1)} MB`);
      if (floorBinary) {
        // The floor of the same job: 65,536 hosts x 100 ports (1-100: the cost is per packet, not per port number), one run each.
        const floors: Record<'sendto' | 'mmsg', number> = { sendto: 0, mmsg: 0 };
        let floorsWhole = true;
        for (const mode of ['mmsg', 'sendto'] as const) {
          const run = await lab.exec('scan', [floorBinary, lab.scanner.ipv4[0], '198.19.0.0', '1', '100', '1000', mode, '65536'], { timeoutMs: 900_000 });
          const result = JSON.parse(run.stdout.trim()) as { seconds: number; ports: number; answered: number };
          floors[mode] = result.seconds;
          if (result.answered !== result.ports) floorsWhole = false;
          rows.push([`C floor /16 x 100, ${mode === 'mmsg' ? 'sendmmsg/recvmmsg x32' : 'one sendto per SYN'}`, fmt(result.seconds), '-', '-', fmt(result.ports / result.seconds, 0), '-', `bench/syn-floor.c with 65536 hosts, ~1000 in flight; ${result.answered} of ${result.ports} answered`]);
        }
        // A floor that lost replies stopped early (it has no retransmission): no verdict from it.
        if (floorsWhole) judge('SYN /16 x 100 ports within 1.5x of the batched C floor', bigSeconds <= 1.5 * floors.mmsg, `${fmt(bigSeconds)} s against ${fmt(floors.mmsg)} s: ${fmt(bigSeconds / floors.mmsg)}x (one run each; sendto floor ${fmt(floors.sendto)} s)`);
        else console.log('SYN /16 x 100 ports within 1.5x of the batched C floor: no verdict (a floor run lost replies and stopped early)');
      }
      rows.push(['SYN /16 x 100 ports', fmt(bigSeconds), '-', '-', fmt(big.stats.sent / bigSeconds, 0), '-', `peak RSS +${fmt((big.rssAboveBaselineKb ?? 0) / 1024, 1)} MB above baseline; states ${JSON.stringify(big.stateCounts)}`]);
    }
  } finally {
    await lab.destroy();
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  for (const verdict of verdicts) console.log(verdict);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

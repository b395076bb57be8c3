/**
 * bench/os: OS detection of lab hosts, portscout's detectOs against
 * `nmap -O --osscan-guess` on the same ports, same run (issue 12's target:
 * at most half of nmap's time for one host, with the same fingerprint and
 * the same guesses), and how both grow with 1, 16 and 256 hosts.
 *
 *   npx tsx bench/os.ts   (root; builds and tears down its own lab; needs nmap and its nmap-os-db)
 *   BENCH_RUNS=5 ...      (runs of the one-host row, alternating; default 3, medians)
 *
 * The extra hosts are addresses 198.18.8.0/24 on t1's loopback, routed from
 * the scanner through t1: one Linux stack behind 256 addresses. Both tools
 * scan ports 1, 22 and 80 (a SYN scan, then OS detection), skipping host
 * discovery. Times are nmap's own `<finished elapsed>` and portscout's
 * detection time measured in the child (both without process start-up and
 * without reading the database, which nmap does before its clock starts).
 *
 * The floor: one round cannot take less than its protocol waits: the six
 * SEQ probes go 100 ms apart (0.5 s), and the probes a Linux host never
 * answers (T2, T3) are sent four times, each after the minimum RTT
 * timeout (T4: 100 ms): 0.9 s, with no CPU or I/O time at all.
 */
import { existsSync } from 'node:fs';
import { createLab, type Lab } from '../test/lab/lab.js';
import { tsxArgv } from '../test/lab/exec.js';
import type { OsEvent } from '../src/index.js';
import { decodeXmlEntities } from '../test/lab/xml.js';
import { fingerprintDifferences } from '../test/support/os-oracle.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const OS_DB = '/usr/share/nmap/nmap-os-db';
const PORTS = '1,22,80';
const EXTRA_NET = '198.18.8';

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface NmapRun {
  seconds: number;
  hosts: { address: string; fingerprint: string; best?: string }[];
}

async function runNmap(lab: Lab, targets: string[], extra: string[] = []): Promise<NmapRun> {
  const run = await lab.exec('scan', ['nmap', '-O', '--osscan-guess', ...extra, '-n', '-Pn', '-p', PORTS, '-oX', '-', ...targets], { timeoutMs: 600_000 });
  const xml = run.stdout;
  const seconds = Number(/<finished [^>]*elapsed="([\d.]+)"/.exec(xml)?.[1] ?? NaN);
  const hosts = [...xml.matchAll(/<host[\s>][\s\S]*?<\/host>/g)].map((h) => ({
    address: /<address addr="([^"]+)" addrtype="ipv4"/.exec(h[0])?.[1] ?? '',
    fingerprint: decodeXmlEntities(/<osfingerprint fingerprint="([^"]*)"/.exec(h[0])?.[1] ?? ''),
    ...(/<osmatch name="([^"]*)" accuracy="(\d+)"/.exec(h[0]) ? { best: `${decodeXmlEntities(/<osmatch name="([^"]*)"/.exec(h[0])![1]!)} (${/<osmatch name="[^"]*" accuracy="(\d+)"/.exec(h[0])![1]}%)` } : {}),
  }));
  return { seconds, hosts };
}

interface OursRun {
  seconds: number;
  events: OsEvent[];
}

async function runOurs(lab: Lab, targets: string[]): Promise<OursRun> {
  const run = await lab.spawnInScanner(tsxArgv('test/support/detect-os-child.ts', [JSON.stringify({ targets: targets.join(','), ports: PORTS, dbFile: OS_DB, dist: true, options: { hostConcurrency: 256 } })]), { timeoutMs: 600_000 });
  const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; detectMs?: number; message?: string });
  const error = lines.find((l) => l.type === 'error');
  if (error) throw new Error(`portscout failed: ${error.message}`);
  const timing = lines.find((l) => l.type === 'timing');
  return { seconds: (timing?.detectMs ?? NaN) / 1000, events: lines.filter((l): l is OsEvent => l.type === 'os') };
}

async function main(): Promise<void> {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('bench/os runs the built package: run npm run build first');
  if (!existsSync(OS_DB)) throw new Error(`no ${OS_DB}: install nmap`);
  const lab = await createLab({ loss: 0 });
  try {
    const t1 = lab.t1.ipv4[0];
    const extra = Array.from({ length: 256 }, (_, i) => `${EXTRA_NET}.${i}`);
    await lab.exec('t1', ['ip', '-batch', '-'], { input: extra.map((a) => `addr add ${a}/32 dev lo`).join('\n') + '\n' });
    await lab.exec('scan', ['ip', 'route', 'add', `${EXTRA_NET}.0/24`, 'via', t1]);

    const nmapSeconds: number[] = [];
    const nmapOneTry: number[] = [];
    const oursSeconds: number[] = [];
    const probing: number[] = [];
    const notes: string[] = [];
    for (let run = 0; run < (process.env.BENCH_SKIP_ONE ? 0 : RUNS); run++) {
      const nmap = await runNmap(lab, [t1]);
      const nmap1 = await runNmap(lab, [t1], ['--max-os-tries', '1']);
      const ours = await runOurs(lab, [t1]);
      nmapSeconds.push(nmap.seconds);
      nmapOneTry.push(nmap1.seconds);
      oursSeconds.push(ours.seconds);
      const event = ours.events[0]!;
      probing.push(event.elapsedMs / 1000);
      const diff = fingerprintDifferences(nmap.hosts[0]?.fingerprint ?? '', event.tests);
      notes.push(`run ${run + 1}: nmap best ${nmap.hosts[0]?.best ?? 'none'}, portscout best ${event.matches[0] ? `${event.matches[0].name} (${event.matches[0].accuracy}%)` : 'none'}; fingerprint differences outside SP/ISR/TS/GCD: ${diff.length === 0 ? 'none' : diff.join(', ')}`);
    }
    console.log(`bench/os: one host (${t1}), ports ${PORTS}, ${RUNS} runs, medians`);
    console.log(`  protocol floor of one round          ${(0.5 + 4 * 0.1).toFixed(2)} s`);
    console.log(`  portscout detectOs (scan + 1 round)  ${median(oursSeconds).toFixed(2)} s   (probing ${median(probing).toFixed(2)} s)`);
    console.log(`  nmap -O --max-os-tries 1             ${median(nmapOneTry).toFixed(2)} s`);
    console.log(`  nmap -O (default tries)              ${median(nmapSeconds).toFixed(2)} s   ratio portscout/nmap ${(median(oursSeconds) / median(nmapSeconds)).toFixed(3)} (target <= 0.5)`);
    for (const note of notes) console.log(`  ${note}`);

    for (const count of [16, 256]) {
      const targets = extra.slice(0, count);
      const nmap = await runNmap(lab, targets);
      const ours = await runOurs(lab, targets);
      const agree = ours.events.filter((e) => e.matches[0]?.name === nmap.hosts.find((h) => h.address === e.address)?.best?.replace(/ \(\d+%\)$/, '')).length;
      console.log(`  ${String(count).padStart(3)} hosts: portscout ${ours.seconds.toFixed(2)} s, nmap ${nmap.seconds.toFixed(2)} s, ratio ${(ours.seconds / nmap.seconds).toFixed(3)}; same best guess on ${agree}/${count}`);
      let shown = 0;
      for (const e of ours.events) {
        const theirs = nmap.hosts.find((h) => h.address === e.address);
        const mine = e.matches[0] ? `${e.matches[0].name} (${e.matches[0].accuracy}%)` : 'none';
        if (theirs?.best === mine || shown++ >= 5) continue;
        const diff = theirs?.fingerprint ? fingerprintDifferences(theirs.fingerprint, e.tests) : ['nmap printed no fingerprint'];
        const seq = (text: string): string => /SEQ\([^)]*\)/.exec(text)?.[0] ?? '';
        console.log(`    ${e.address}: nmap ${theirs?.best ?? 'none'}, portscout ${mine} [${e.reasons.join(',')}]; differences: ${diff.join(', ') || 'none'}; nmap ${seq(theirs?.fingerprint.replace(/\nOS:/g, '') ?? '')} ours ${seq(e.fingerprint ?? '')}`);
      }
    }
  } finally {
    await lab.destroy();
  }
}

await main();

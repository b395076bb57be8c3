/**
 * bench/service: version detection of the lab's real services, portscout
 * against nmap -sV, same ports, same run (issue 9's target: at most half of
 * nmap's wall time, with the same results).
 *
 *   npm run build && npx tsx bench/service.ts   (root; builds and tears down its own lab)
 *   BENCH_RUNS=5 ...   (runs of each row, alternating nmap and portscout; default 3, medians compared)
 *
 * The lab's t1 runs sshd 22, dnsmasq TCP and UDP 53, nginx 80 and 443 (plain
 * HTTP), and, started here (test/support/lab-services.ts), vsftpd 21,
 * Postfix 25, MariaDB 3306 and nginx with TLS on 8443. Each run is one
 * `nmap -sS -sU -sV -Pn -p T:<tcp>,U:53` and two portscout runs in a child
 * in the scanner namespace (detectServices on TCP, and on a UDP scan, at
 * once): with nmap's own probe file (read at run time from
 * /usr/share/nmap/nmap-service-probes, never copied) and with portscout's
 * default database. Times: nmap's own `<finished elapsed>` against
 * portscout's load + detection time measured in the child (both exclude
 * process start-up; nmap's includes reading its probe file, as ours does).
 * The child gives detectServices the promise of loadServiceProbes, so
 * probing starts once the file's lines are read and the patterns are
 * translated meanwhile: the load then counts inside the detection time, and
 * the loading column (time spent loading before detection began) is about 0.
 * "identical" compares name, product, version and tunnel with nmap's on every port.
 */
import { existsSync } from 'node:fs';
import { createLab } from '../test/lab/lab.js';
import { startLabServices } from '../test/support/lab-services.js';
import { core, detectInLab, nmapServices, NMAP_SERVICE_PROBES, serviceDiffs, type DetectInLabResult, type ServiceMap } from '../test/support/service-oracle.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

interface Row {
  readonly label: string;
  readonly seconds: number[];
  readonly wallSeconds: number[];
  /** Loading the probe database, part of seconds (portscout rows). */
  readonly loadSeconds: number[];
  /** Differences from nmap on name, product, version and tunnel, per run. */
  readonly diffs: string[][];
  /** Per port, when it was identified (last run), in seconds since detection started. */
  lastTimes?: string;
}

async function main(): Promise<void> {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('bench/service runs the built package: run npm run build first');
  if (!existsSync(NMAP_SERVICE_PROBES)) throw new Error(`no ${NMAP_SERVICE_PROBES}: install nmap`);
  const lab = await createLab({ loss: 0 });
  const services = await startLabServices(lab).catch(async (e: unknown) => {
    await lab.destroy();
    throw e;
  });
  const target = lab.t1.ipv4[0];
  const tcpPorts = services.tcpPorts.join(',');
  const udpPorts = services.udpPorts.join(',');
  const nmapRow: Row = { label: 'nmap -sV', seconds: [], wallSeconds: [], loadSeconds: [], diffs: [] };
  const withNmapFile: Row = { label: "portscout, nmap's probe file", seconds: [], wallSeconds: [], loadSeconds: [], diffs: [] };
  const withOurs: Row = { label: 'portscout, own database', seconds: [], wallSeconds: [], loadSeconds: [], diffs: [] };
  let reference: ServiceMap | undefined;
  const timesOf = (r: DetectInLabResult): string =>
    [...r.events]
      .sort((a, b) => a.atMs - b.atMs)
      .map((e) => `${e.protocol}/${e.port} ${fmt(e.atMs / 1000, 1)}`)
      .join(', ');
  try {
    for (let run = 0; run < RUNS; run++) {
      const nmap = await nmapServices(lab, ['-sS', '-sU', '-sV', '-Pn', '-p', `T:${tcpPorts},U:${udpPorts}`, target], 300_000);
      nmapRow.seconds.push(nmap.elapsedSeconds);
      nmapRow.wallSeconds.push(nmap.wallMs / 1000);
      if (reference !== undefined) nmapRow.diffs.push(serviceDiffs(reference, nmap.services, ['name', 'product', 'version', 'tunnel']));
      reference ??= nmap.services;
      for (const [row, probeFile] of [[withNmapFile, NMAP_SERVICE_PROBES], [withOurs, undefined]] as const) {
        const ours = await detectInLab(lab, { target, tcpPorts, udpPorts, probeFile, dist: true, timeoutMs: 300_000 });
        row.seconds.push((ours.loadMs + ours.detectMs) / 1000);
        row.wallSeconds.push(ours.wallMs / 1000);
        row.loadSeconds.push(ours.loadMs / 1000);
        row.diffs.push(serviceDiffs(nmap.services, ours.services, ['name', 'product', 'version', 'tunnel']));
        row.lastTimes = timesOf(ours);
      }
      console.error(`run ${run + 1}/${RUNS}: nmap ${fmt(nmap.elapsedSeconds)} s, portscout (nmap's file) ${fmt(withNmapFile.seconds.at(-1)!)} s, portscout (own) ${fmt(withOurs.seconds.at(-1)!)} s`);
    }
  } finally {
    await services.stop();
    await lab.destroy();
  }

  const nmapMedian = median(nmapRow.seconds);
  const table = [['', `median s (${RUNS} runs)`, 'runs s', 'loading before detection s', 'process wall s', 'ratio to nmap', 'identical to nmap']];
  for (const row of [nmapRow, withNmapFile, withOurs]) {
    const differing = row.diffs.filter((d) => d.length > 0).length;
    table.push([
      row.label,
      fmt(median(row.seconds)),
      row.seconds.map((s) => fmt(s)).join(' '),
      row === nmapRow ? '(in nmap\'s time)' : row.loadSeconds.map((s) => fmt(s)).join(' '),
      row.wallSeconds.map((s) => fmt(s)).join(' '),
      row === nmapRow ? '1.00' : fmt(median(row.seconds) / nmapMedian),
      row === nmapRow ? (differing === 0 ? 'same each run' : `differs between runs (${differing})`) : differing === 0 ? 'yes' : `NO in ${differing} of ${row.diffs.length} runs`,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  for (const r of table) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  console.log(`nmap found: ${JSON.stringify(Object.fromEntries([...(reference ?? new Map())].map(([k, s]) => [k, core(s)])))}`);
  for (const row of [withNmapFile, withOurs]) {
    const seen = [...new Set(row.diffs.flat())];
    if (seen.length > 0) console.log(`${row.label} differs from nmap: ${seen.join('; ')}`);
    console.log(`${row.label}, ports identified at (s, last run): ${row.lastTimes ?? ''}`);
  }
  const ratio = median(withNmapFile.seconds) / nmapMedian;
  const identical = withNmapFile.diffs.every((d) => d.length === 0);
  console.log(`target: portscout with nmap's file in at most half of nmap -sV's time, same results: ${ratio <= 0.5 && identical ? 'met' : 'NOT met'} (median ratio ${fmt(ratio, 3)}, ${identical ? 'identical' : 'NOT identical'})`);
  const oursRatio = median(withOurs.seconds) / nmapMedian;
  console.log(`portscout with its own database: median ratio ${fmt(oursRatio, 3)} (${oursRatio <= 0.5 ? 'within' : 'over'} half of nmap's time; where it names things differently from nmap is listed above)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

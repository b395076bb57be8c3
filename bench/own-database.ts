/**
 * bench/own-database: version detection of every real server of the lab
 * (issue 10's benchmark), portscout with its own database against
 * `nmap -sV` with its own file, same ports, same run: wall time, and how
 * many services each identifies with the product, and with product and
 * version, against the installed packages (`dpkg-query -W`).
 *
 *   npm run build && npm run bench:own-database   (root; builds and tears down its own lab)
 *   BENCH_RUNS=5 ...   (runs of each row, alternating which goes first; default 3, medians compared)
 *
 * The servers: the lab's t1 runs sshd 22, dnsmasq TCP and UDP 53 and nginx
 * 80 and 443; test/support/lab-services.ts adds vsftpd, Postfix, MariaDB and
 * nginx with TLS, test/support/lab-extra-services.ts issue 10's 27 servers.
 * The ground truth is test/support/service-ground-truth.ts. Each run is one
 * `nmap -sS -sU -sV -Pn -p T:<tcp>,U:<udp>` (nmap's probe file, read by nmap
 * at run time from /usr/share/nmap/nmap-service-probes) and one portscout
 * child in the scanner namespace (detectServices on TCP, and on a UDP scan,
 * at once, with the library's defaults and its own database), both from the
 * scanner namespace to t1 (198.18.0.0/15, no default route). Times: nmap's
 * own `<finished elapsed>` against portscout's load + detection time in the
 * child (both exclude process start-up). Two more portscout rows show what
 * the default row's time is made of: the UDP scan with `maxRetries: 1` (the
 * allowance nmap keeps while it sees no loss; portscout's UDP scan gives
 * silent ports every retry), and that with one connection per TCP port at
 * once (`hostConcurrency`, default 8 per host, which queues the NULL
 * probe's waits).
 *
 * The floor: a TCP service that sends no banner makes any prober wait the
 * NULL probe's `totalwaitms` (6 s in both files) before another probe's
 * answer may count; a UDP service silent to the scan's datagram is only
 * open|filtered after the scan's timeout, and only then probed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createLab, type Lab } from '../test/lab/lab.js';
import { startExtraLabServices, type ExtraLabServices } from '../test/support/lab-extra-services.js';
import { startLabServices, type LabServices } from '../test/support/lab-services.js';
import { judgeService, labServiceTruth, type ServiceTruth } from '../test/support/service-ground-truth.js';
import { detectInLab, nmapServices, NMAP_SERVICE_PROBES, type ServiceFields, type ServiceMap } from '../test/support/service-oracle.js';
import { defaultServiceProbes } from '../src/service/default-probes.js';
import { parseServiceProbes } from '../src/service/probe-file.js';

const RUNS = Math.max(1, Math.min(20, Number(process.env.BENCH_RUNS ?? 3)));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** One tool's runs: times, and what it said per port in each run. */
interface Row {
  readonly label: string;
  readonly seconds: number[];
  readonly wallSeconds: number[];
  readonly services: ServiceMap[];
  /** Per port, when portscout identified it (last run), in seconds since detection started. */
  lastTimes?: Map<string, number>;
  /** Per port, the probe whose answer matched (last run; portscout). */
  lastProbes?: Map<string, string | undefined>;
}

interface Score {
  readonly name: number;
  readonly product: number;
  readonly version: number;
  readonly otherVersion: number;
}

function score(truth: readonly ServiceTruth[], services: ServiceMap): Score {
  const verdicts = truth.map((t) => judgeService(t, services.get(t.key)));
  const count = (f: (v: (typeof verdicts)[number]) => boolean): number => verdicts.filter(f).length;
  return { name: count((v) => v.name), product: count((v) => v.product), version: count((v) => v.version), otherVersion: count((v) => v.otherVersion) };
}

const said = (s: ServiceFields | undefined): string => (s === undefined ? 'nothing' : [s.name + (s.tunnel ? `/${s.tunnel}` : ''), s.product ?? '-', s.version ?? '-'].join(' | '));

/** The NULL probe's wait in a probe file. */
function nullWaitMs(probes: { probes: readonly { protocol: string; name: string; totalWaitMs: number | undefined }[] }): number {
  return probes.probes.find((p) => p.protocol === 'tcp' && p.name === 'NULL')?.totalWaitMs ?? 5000;
}

async function main(): Promise<void> {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('bench/own-database runs the built package: run npm run build first');
  if (!existsSync(NMAP_SERVICE_PROBES)) throw new Error(`no ${NMAP_SERVICE_PROBES}: install nmap`);
  let lab: Lab | undefined;
  let base: LabServices | undefined;
  let extra: ExtraLabServices | undefined;
  const teardown = async (): Promise<void> => {
    await extra?.stop();
    await base?.stop();
    await lab?.destroy();
  };
  // Ctrl-C or a kill: the lab's namespaces and servers go too.
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: tearing the lab down`);
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const nmapRow: Row = { label: 'nmap -sV (its own file)', seconds: [], wallSeconds: [], services: [] };
  const oursRow: Row = { label: 'portscout (own database), defaults', seconds: [], wallSeconds: [], services: [] };
  // What the default row's time is made of: the UDP scan's retries, then the connections per host.
  const udpOneRetry: Row = { label: '  same, UDP scan maxRetries 1', seconds: [], wallSeconds: [], services: [] };
  const allAtOnce: Row = { label: '  same, and hostConcurrency = TCP ports', seconds: [], wallSeconds: [], services: [] };
  const oursRows = [oursRow, udpOneRetry, allAtOnce];
  let truth: ServiceTruth[] = [];
  let skipped: Readonly<Record<string, string>> = {};
  const started = performance.now();
  try {
    lab = await createLab({ loss: 0 });
    base = await startLabServices(lab);
    extra = await startExtraLabServices(lab);
    skipped = extra.skipped;
    truth = labServiceTruth(base, extra);
    console.error(`lab and ${truth.length} services up in ${fmt((performance.now() - started) / 1000, 1)} s`);
    const target = lab.t1.ipv4[0];
    const ports = (protocol: 'tcp' | 'udp'): string =>
      truth
        .filter((t) => t.key.startsWith(`${protocol}/`))
        .map((t) => Number(t.key.slice(4)))
        .sort((a, b) => a - b)
        .join(',');
    const tcpPorts = ports('tcp');
    const udpPorts = ports('udp');
    for (let run = 0; run < RUNS; run++) {
      const runNmap = async (): Promise<void> => {
        const nmap = await nmapServices(lab!, ['-sS', '-sU', '-sV', '-Pn', '-p', `T:${tcpPorts},U:${udpPorts}`, target], 600_000);
        nmapRow.seconds.push(nmap.elapsedSeconds);
        nmapRow.wallSeconds.push(nmap.wallMs / 1000);
        nmapRow.services.push(nmap.services);
      };
      const tcpCount = tcpPorts.split(',').length;
      const runOurs = async (): Promise<void> => {
        for (const [row, more] of [
          [oursRow, {}],
          [udpOneRetry, { udpScanOptions: { maxRetries: 1 } }],
          [allAtOnce, { udpScanOptions: { maxRetries: 1 }, options: { hostConcurrency: tcpCount } }],
        ] as const) {
          const ours = await detectInLab(lab!, { target, tcpPorts, udpPorts, dist: true, timeoutMs: 300_000, ...more });
          row.seconds.push((ours.loadMs + ours.detectMs) / 1000);
          row.wallSeconds.push(ours.wallMs / 1000);
          row.services.push(ours.services);
          row.lastTimes = new Map(ours.events.map((e) => [`${e.protocol}/${e.port}`, e.atMs / 1000]));
          row.lastProbes = new Map(ours.events.map((e) => [`${e.protocol}/${e.port}`, e.probe]));
        }
      };
      // Alternating which goes first, so that neither always meets servers just woken by the other.
      for (const step of run % 2 === 0 ? [runNmap, runOurs] : [runOurs, runNmap]) await step();
      console.error(`run ${run + 1}/${RUNS}: nmap ${fmt(nmapRow.seconds.at(-1)!)} s, portscout ${oursRows.map((r) => fmt(r.seconds.at(-1)!)).join(' / ')} s`);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await teardown();
  }

  // The floor, from the files' own waits and from what the services did.
  const oursNull = nullWaitMs(defaultServiceProbes());
  const nmapNull = nullWaitMs(parseServiceProbes(readFileSync(NMAP_SERVICE_PROBES, 'latin1'), { source: NMAP_SERVICE_PROBES }).database);
  const lastOurs = oursRow.services.at(-1)!;
  // A TCP service whose answer came to another probe than NULL sent no banner (the TLS port counts once, outside TLS).
  const bannerless = [...(oursRow.lastProbes ?? new Map<string, string | undefined>())].filter(([k, probe]) => k.startsWith('tcp/') && probe !== 'NULL').length;

  console.log(`bench/own-database: ${truth.length} services (${truth.filter((t) => t.key.startsWith('tcp/')).length} TCP, ${truth.filter((t) => t.key.startsWith('udp/')).length} UDP) of the lab, ${RUNS} runs, medians`);
  if (Object.keys(skipped).length > 0) console.log(`  not started (missing here): ${JSON.stringify(skipped)}`);
  const table = [['', 'median s', 'runs s', 'process wall s', 'ratio to nmap', 'name right', 'with product', 'with product and version', 'other version']];
  const nmapMedian = median(nmapRow.seconds);
  const versioned = truth.filter((t) => t.version !== undefined).length;
  const withProduct = truth.filter((t) => t.product !== undefined).length;
  for (const row of [nmapRow, ...oursRows]) {
    const scores = row.services.map((s) => score(truth, s));
    const cell = (f: keyof Score, of: number): string => {
      const values = [...new Set(scores.map((s) => s[f]))];
      return `${values.join('/')} of ${of}`;
    };
    table.push([
      row.label,
      fmt(median(row.seconds)),
      row.seconds.map((s) => fmt(s)).join(' '),
      row.wallSeconds.map((s) => fmt(s)).join(' '),
      fmt(median(row.seconds) / nmapMedian, 3),
      cell('name', truth.length),
      cell('product', withProduct),
      cell('version', versioned),
      cell('otherVersion', truth.length),
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  for (const r of table) console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`);
  console.log(`  (of ${truth.length}: ${withProduct} servers name their product, ${versioned} their version; "other version": a version that is not the installed one, or where the server hides it)`);
  const slots = 8;
  console.log(
    `  floor: ${fmt(Math.max(oursNull, nmapNull) / 1000)} s, the NULL probe's wait (ours ${oursNull} ms, nmap's ${nmapNull} ms), which each of the ${bannerless} TCP services that send no banner imposes before any other probe's answer may count;` +
      ` with ${slots} connections per host (detectServices' default hostConcurrency) those waits queue: ceil(${bannerless}/${slots}) x ${fmt(oursNull / 1000)} s = ${fmt((Math.ceil(bannerless / slots) * oursNull) / 1000)} s`,
  );
  for (const row of oursRows) {
    const times = [...(row.lastTimes ?? new Map<string, number>())];
    const last = (protocol: string): string => fmt(Math.max(0, ...times.filter(([k]) => k.startsWith(`${protocol}/`)).map(([, t]) => t)), 1);
    const slowest = [...times].sort((a, b) => b[1] - a[1]).slice(0, 4);
    console.log(`  ${row.label.trim()}: last TCP port at ${last('tcp')} s, last UDP port at ${last('udp')} s (last run); slowest ${slowest.map(([k, t]) => `${k} ${fmt(t, 1)}`).join(', ')}`);
  }

  // Per service, where the two differ (last run of each), with the installed version as the judge.
  const lastNmap = nmapRow.services.at(-1)!;
  console.log('  where nmap and portscout differ (last runs; installed package = ground truth):');
  let differing = 0;
  for (const t of truth) {
    const n = lastNmap.get(t.key);
    const o = lastOurs.get(t.key);
    if (said(n) === said(o)) continue;
    differing++;
    const vn = judgeService(t, n);
    const vo = judgeService(t, o);
    const right = (v: ReturnType<typeof judgeService>): number => Number(v.name) + Number(v.product) + Number(v.version) - Number(v.otherVersion);
    const verdict = right(vo) > right(vn) ? 'ours closer' : right(vn) > right(vo) ? 'nmap closer' : 'as close';
    console.log(`    ${t.key.padEnd(9)} ${t.id.padEnd(13)} installed ${t.package} ${t.installed}: nmap ${said(n)}; ours ${said(o)}  [${verdict}]`);
  }
  if (differing === 0) console.log('    none');
  for (const row of [nmapRow, ...oursRows]) {
    const changing = truth.filter((t) => new Set(row.services.map((s) => said(s.get(t.key)))).size > 1);
    if (changing.length > 0) console.log(`  ${row.label} answered differently between runs on: ${changing.map((t) => `${t.key} (${row.services.map((s) => said(s.get(t.key))).join(' / ')})`).join('; ')}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Runs a portscout scanner inside the lab's scanner namespace (a child process
 * through the public API, test/support/scan-child.ts) and collects its events.
 */
import type { Lab } from './lab.js';
import { tsxArgv } from './exec.js';
import type { HostEvent, PortEvent, ScanEvent, ScanStats } from '../../src/index.js';

/** The scanners the child can run. */
export type ScannerName = 'discoverHosts' | 'tcpConnectScan' | 'tcpSynScan' | 'tcpFlagScan' | 'udpScan';

/** What one scan in the lab produced. */
export interface LabScanResult {
  events: ScanEvent[];
  ports: PortEvent[];
  hosts: HostEvent[];
  stats: ScanStats;
  errors: { code?: string; message?: string }[];
  /** Peak RSS of the child above its baseline after loading portscout, in KiB (with reportRss). */
  rssAboveBaselineKb?: number;
  /** Port events counted by state (with quiet: the events themselves are not printed). */
  stateCounts?: Record<string, number>;
  /** Wall time of the child, start-up included. */
  wallMs: number;
  /** The event loop's delay during the scan and how late the abort timer fired (with lag). */
  lag?: { p99Ms: number; maxMs: number; abortLateMs?: number };
  /** Whether the child dropped its iterator (with dropAfter). */
  dropped: boolean;
  /** The child's exit code (null when killed). */
  exitCode: number | null;
  /** Whether the child had to be killed at the timeout (it did not exit by itself). */
  timedOut: boolean;
}

type ChildLine =
  | ScanEvent
  | { type: 'error'; code?: string; message?: string }
  | { type: 'process'; baselineRssKb: number; maxRssKb: number }
  | { type: 'summary'; counts: Record<string, number> }
  | { type: 'lag'; p99Ms: number; maxMs: number; abortLateMs?: number }
  | { type: 'dropped' }
  | { type: 'compact-ports'; rows: [4 | 6, string, number, PortEvent['state'], PortEvent['reason'], PortEvent['method']][] };

export async function scanInLab(
  lab: Lab,
  scanner: ScannerName,
  options: Record<string, unknown>,
  opts: { timeoutMs?: number; reportRss?: boolean; quiet?: boolean; /** load the built dist/ (benchmarks) */ dist?: boolean; breakAfter?: number; abortAfter?: number; abortAfterMs?: number; lag?: boolean; dropAfter?: number; pauseAfter?: number; pauseMs?: number; compact?: boolean; /** argv put before node (e.g. setpriv to drop privileges) */ wrapper?: readonly string[]; /** extra environment of the child (e.g. PORTSCOUT_RAW_IO) */ env?: Readonly<Record<string, string>> } = {},
): Promise<LabScanResult> {
  const started = performance.now();
  const run = await lab.spawnInScanner([...(opts.wrapper ?? []), ...tsxArgv('test/support/scan-child.ts', [JSON.stringify({ scanner, options, reportRss: opts.reportRss, quiet: opts.quiet, dist: opts.dist, breakAfter: opts.breakAfter, abortAfter: opts.abortAfter, abortAfterMs: opts.abortAfterMs, lag: opts.lag, dropAfter: opts.dropAfter, pauseAfter: opts.pauseAfter, pauseMs: opts.pauseMs, compact: opts.compact })])], {
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const wallMs = performance.now() - started;
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  const parsed = lines.map((line) => JSON.parse(line) as ChildLine);
  const errors: { code?: string; message?: string }[] = [];
  const events: ScanEvent[] = [];
  let rssAboveBaselineKb: number | undefined;
  let stateCounts: Record<string, number> | undefined;
  let lag: LabScanResult['lag'];
  let dropped = false;
  for (const line of parsed) {
    if (line.type === 'dropped') {
      dropped = true;
      continue;
    }
    if (line.type === 'lag') {
      const { type: _type, ...figures } = line;
      lag = figures;
      continue;
    }
    if (line.type === 'error') errors.push(line);
    else if (line.type === 'process') rssAboveBaselineKb = line.maxRssKb - line.baselineRssKb;
    else if (line.type === 'summary') stateCounts = line.counts;
    else if (line.type === 'compact-ports') {
      for (const [family, address, port, state, reason, method] of line.rows) events.push({ type: 'port', family, address, protocol: scanner === 'udpScan' ? 'udp' : 'tcp', port, state, reason, method });
    }
    else events.push(line);
  }
  const done = events.find((e) => e.type === 'done');
  if (errors.length === 0 && !done && opts.breakAfter === undefined && opts.abortAfterMs === undefined && opts.dropAfter === undefined) throw new Error(`scan ended without done (exit ${run.code}): ${run.stderr.slice(0, 2000)}`);
  return {
    events,
    ports: events.filter((e): e is PortEvent => e.type === 'port'),
    hosts: events.filter((e): e is HostEvent => e.type === 'host'),
    stats: done?.type === 'done' ? done.stats : ({} as ScanStats),
    errors,
    ...(rssAboveBaselineKb !== undefined ? { rssAboveBaselineKb } : {}),
    ...(stateCounts !== undefined ? { stateCounts } : {}),
    ...(lag !== undefined ? { lag } : {}),
    dropped,
    wallMs,
    exitCode: run.code,
    timedOut: run.timedOut,
  };
}

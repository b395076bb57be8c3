/**
 * Runs one scanner through the public API and prints its events as JSON lines.
 * Lab tests start it inside the scanner's network namespace:
 *   ip netns exec <ns> node --import tsx test/support/scan-child.ts '<json>'
 * where json is { "scanner": "tcpSynScan" | ..., "options": { ... }, "reportRss"?: true }.
 * With quiet, port events are only counted by state (a { "type": "summary", counts } line before done).
 * With dist, the built package in dist/ is loaded instead of src/ (benchmarks; run npm run build first).
 * With breakAfter (abortAfter), the loop is left (the signal aborted) after that many events;
 * an abort ends in an error line with the abort's name as code.
 * With compact, port events are printed as rows in one line before done (see scan-in-lab.ts).
 * With reportRss, a last line { "type": "process", baselineRssKb, maxRssKb } gives the peak RSS.
 * With dropAfter, that many events are taken with next() and the iterator is then dropped (no
 * return()): the process must exit by itself (a { "type": "dropped" } line says it got there).
 * With pauseAfter and pauseMs, the consumer stops reading for pauseMs after that many events.
 * With abortAfterMs, a timer aborts the scan's signal after that many milliseconds.
 * With lag, a last line { "type": "lag", p99Ms, maxMs, abortLateMs? } gives the event loop's delay
 * during the scan (perf_hooks.monitorEventLoopDelay) and how late the abort timer fired.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as Portscout from '../../src/index.js';

type ScannerName = 'discoverHosts' | 'tcpConnectScan' | 'tcpSynScan' | 'tcpFlagScan' | 'udpScan';

const request = JSON.parse(process.argv[2] ?? '{}') as {
  scanner: ScannerName;
  options: Record<string, unknown>;
  reportRss?: boolean;
  quiet?: boolean;
  dist?: boolean;
  /** Leave the for-await loop after this many events (the process must then exit by itself). */
  breakAfter?: number;
  /** Abort the scan's signal after this many events. */
  abortAfter?: number;
  /** Keep port events as [family, address, port, state, reason, method] rows and print them in one line before done (benchmarks: the consumer costs next to nothing). */
  compact?: boolean;
  abortAfterMs?: number;
  lag?: boolean;
  dropAfter?: number;
  pauseAfter?: number;
  pauseMs?: number;
};
// With dist, the built package runs as users run it: without tsx's source-mapped stack traces,
// which cost every Error (a refused connect is one) a source-map lookup.
if (request.dist) process.setSourceMapsEnabled(false);
const portscout = (await import(request.dist ? '../../dist/index.js' : '../../src/index.js')) as typeof Portscout;
const baselineRssKb = process.resourceUsage().maxRSS;
const scanner = portscout[request.scanner] as (options: never) => AsyncIterable<Portscout.ScanEvent>;
if (typeof scanner !== 'function') {
  console.error(`unknown scanner ${request.scanner}`);
  process.exit(2);
}

const controller = new AbortController();
const options = request.abortAfter === undefined && request.abortAfterMs === undefined ? request.options : { ...request.options, signal: controller.signal };
const lag = request.lag ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
lag?.enable();
let abortLateMs: number | undefined;
const abortTimer =
  request.abortAfterMs === undefined
    ? undefined
    : setTimeout(
        (armedAt: number) => {
          abortLateMs = performance.now() - armedAt - request.abortAfterMs!;
          controller.abort();
        },
        request.abortAfterMs,
        performance.now(),
      );
let seen = 0;
if (request.dropAfter !== undefined) {
  const iterator = scanner(options as never)[Symbol.asyncIterator]();
  for (let i = 0; i < request.dropAfter; i++) {
    const next = await iterator.next();
    if (next.done) break;
    process.stdout.write(`${JSON.stringify(next.value)}\n`);
  }
  process.stdout.write(`${JSON.stringify({ type: 'dropped' })}\n`);
} else try {
  const counts: Record<string, number> = {};
  const rows: unknown[][] = [];
  for await (const event of scanner(options as never)) {
    seen++;
    if (request.pauseAfter !== undefined && seen === request.pauseAfter) await new Promise((resolve) => setTimeout(resolve, request.pauseMs ?? 5000));
    if (request.abortAfter !== undefined && seen >= request.abortAfter) controller.abort();
    if (request.breakAfter !== undefined && seen > request.breakAfter) break;
    if (request.compact && event.type === 'port') {
      rows.push([event.family, event.address, event.port, event.state, event.reason, event.method]);
      continue;
    }
    if (request.compact && event.type === 'done') process.stdout.write(`${JSON.stringify({ type: 'compact-ports', rows })}\n`);
    if (request.quiet && event.type === 'port') {
      counts[event.state] = (counts[event.state] ?? 0) + 1;
      continue;
    }
    if (request.quiet && event.type === 'done') process.stdout.write(`${JSON.stringify({ type: 'summary', counts })}\n`);
    const printable = event.type === 'port' && event.data ? { ...event, data: Buffer.from(event.data).toString('hex') } : event;
    process.stdout.write(`${JSON.stringify(printable)}\n`);
  }
} catch (error) {
  const e = error as { code?: unknown; message?: string; name?: string };
  process.stdout.write(`${JSON.stringify({ type: 'error', code: typeof e.code === 'string' ? e.code : e.name, message: e.message })}\n`);
  process.exitCode = 1;
}
if (abortTimer) clearTimeout(abortTimer);
if (lag) {
  lag.disable();
  const line: Record<string, number> = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 };
  if (abortLateMs !== undefined) line.abortLateMs = abortLateMs;
  process.stdout.write(`${JSON.stringify({ type: 'lag', ...line })}\n`);
}
if (request.reportRss) {
  process.stdout.write(`${JSON.stringify({ type: 'process', baselineRssKb, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

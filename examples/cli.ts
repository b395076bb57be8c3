#!/usr/bin/env node
/**
 * The `portscout` command: nmap's flags over portscout's public API, and
 * nothing more. It parses arguments with `node:util` `parseArgs`, runs
 * `scan()` (and `detectServices()` for `-sV`), and hands the one event
 * stream to every output asked for (`-oN -oX -oG -oJ -oA`, `-` for stdout;
 * nmap's normal output on stdout by default).
 *
 * - No scan type: a SYN scan with raw-socket permission, else a connect scan,
 *   as nmap does. An explicit `-sS` without permission says so and runs a
 *   connect scan, or exits 1 with `--no-fallback`.
 * - Exit codes: 0 done, 1 scan error, 2 usage error (one line naming the flag).
 * - Ctrl-C and SIGTERM stop the scan; every output is still completed, and a
 *   resume file (`--resume FILE` continues it) is written. A resumed scan
 *   appends to the saved outputs, or writes those its command line names.
 *
 * Run from a checkout with `npx tsx examples/cli.ts 127.0.0.1 -p 22,80`.
 */
import { createWriteStream, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  PortscoutError,
  detectOs,
  detectServices,
  hasRawPermission,
  loadOsDatabase,
  loadServiceProbes,
  planScan,
  readTargetFile,
  scan,
  topPorts,
  writeGrepableOutput,
  writeJsonLines,
  writeNmapXml,
  writeNormalOutput,
  type ReportInputEvent,
  type ScanCursor,
  type ScanRequest,
  type TechniqueName,
  type TextSink,
} from '../src/index.js';

/** A usage error: exit code 2, one line that names the flag. */
class UsageError extends Error {}

/** nmap's `-sX`-style and `-oX`-style flags, turned into long options parseArgs knows. */
const NMAP_STYLE = /^-(s[nSTUAFNXVLMW]|P[n]|o[NXGAJ]|T[0-5]|iL|6|R|n|O)$/;

const OPTIONS = {
  p: { type: 'string', short: 'p' },
  'top-ports': { type: 'string' },
  'exclude-ports': { type: 'string' },
  exclude: { type: 'string' },
  excludefile: { type: 'string' },
  iL: { type: 'string' },
  'min-rate': { type: 'string' },
  'max-rate': { type: 'string' },
  'max-retries': { type: 'string' },
  'host-timeout': { type: 'string' },
  'version-intensity': { type: 'string' },
  'version-all': { type: 'boolean' },
  versiondb: { type: 'string' },
  O: { type: 'boolean' },
  osdb: { type: 'string' },
  'osscan-guess': { type: 'boolean' },
  oN: { type: 'string' },
  oX: { type: 'string' },
  oG: { type: 'string' },
  oJ: { type: 'string' },
  oA: { type: 'string' },
  reason: { type: 'boolean' },
  open: { type: 'boolean' },
  'stats-every': { type: 'string' },
  seed: { type: 'string' },
  shard: { type: 'string' },
  resume: { type: 'string' },
  'no-fallback': { type: 'boolean' },
  stylesheet: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  sn: { type: 'boolean' },
  sS: { type: 'boolean' },
  sT: { type: 'boolean' },
  sU: { type: 'boolean' },
  sA: { type: 'boolean' },
  sF: { type: 'boolean' },
  sN: { type: 'boolean' },
  sX: { type: 'boolean' },
  sM: { type: 'boolean' },
  sW: { type: 'boolean' },
  sV: { type: 'boolean' },
  sL: { type: 'boolean' },
  Pn: { type: 'boolean' },
  n: { type: 'boolean' },
  R: { type: 'boolean' },
  '6': { type: 'boolean' },
  T0: { type: 'boolean' },
  T1: { type: 'boolean' },
  T2: { type: 'boolean' },
  T3: { type: 'boolean' },
  T4: { type: 'boolean' },
  T5: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const USAGE = `Usage: portscout [scan type] [options] {targets}
Scan types: -sS (SYN, root) -sT (connect) -sU (UDP) -sA -sF -sN -sX -sM -sW -sn (hosts only) -sL (list) -sV (versions)
Discovery: -Pn (no discovery) -n (no DNS) -R (reverse DNS) -6 (IPv6 names)
Ports: -p SPEC, --top-ports N, --exclude-ports SPEC
Targets: --exclude LIST, --excludefile FILE, -iL FILE
Timing: -T0..-T5, --min-rate N, --max-rate N, --max-retries N, --host-timeout TIME (30s, 5m)
Versions: --version-intensity 0-9, --version-all, --versiondb FILE (a file in nmap-service-probes format)
OS: -O (root; IPv4), --osdb FILE (a file in nmap-os-db format; without one, the fingerprint only), --osscan-guess (guesses are always shown)
Output: -oN/-oX/-oG/-oJ FILE ('-' for stdout), -oA BASE, --reason, --open, --stats-every TIME, --stylesheet URL
portscout: --seed S (random order), --shard i/n, --resume FILE, --no-fallback
Only scan networks you are authorised to scan.`;

type Values = ReturnType<typeof parseCommandLine>['values'];

function parseCommandLine(argv: readonly string[]): { values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean }; positionals: string[] } {
  const args = argv.map((arg) => (NMAP_STYLE.test(arg) ? `--${arg.slice(1)}` : arg));
  try {
    const parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    return parsed as never;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

/** A whole number of a flag, or a usage error naming it. */
function integerOf(flag: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${flag} needs a whole number from ${min} to ${max}; got "${text}".`);
  return value;
}

/** nmap's time syntax: `500ms`, `30s`, `5m`, `2h`, or seconds. */
function millisecondsOf(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new UsageError(`--${flag} needs a time such as 500ms, 30s, 5m or 2h; got "${text}".`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * scale);
}

/** The technique the flags ask for (one at most), or nmap's default. */
function techniqueOf(values: Values): { technique: TechniqueName; explicit: boolean; list: boolean } {
  const chosen: [boolean | undefined, TechniqueName][] = [
    [values.sS, 'syn'], [values.sT, 'connect'], [values.sU, 'udp'], [values.sA, 'ack'], [values.sF, 'fin'],
    [values.sN, 'null'], [values.sX, 'xmas'], [values.sM, 'maimon'], [values.sW, 'window'], [values.sn, 'ping'],
  ];
  const asked = chosen.filter(([on]) => on === true).map(([, name]) => name);
  if (asked.length > 1) throw new UsageError(`Choose one scan type; got ${asked.map((n) => `-s${n}`).join(' and ')} (portscout runs one technique per scan).`);
  if (values.sL) return { technique: 'ping', explicit: true, list: true };
  if (asked[0]) return { technique: asked[0], explicit: true, list: false };
  return { technique: hasRawPermission(4) ? 'syn' : 'connect', explicit: false, list: false };
}

/** Where each output goes. */
function outputsOf(values: Values): { format: 'N' | 'X' | 'G' | 'J'; path: string }[] {
  const out: { format: 'N' | 'X' | 'G' | 'J'; path: string }[] = [];
  for (const format of ['N', 'X', 'G', 'J'] as const) {
    const path = values[`o${format}`];
    if (path !== undefined) out.push({ format, path });
  }
  if (values.oA !== undefined) {
    for (const [format, ext] of [['N', 'nmap'], ['X', 'xml'], ['G', 'gnmap'], ['J', 'jsonl']] as const) out.push({ format, path: `${values.oA}.${ext}` });
  }
  if (out.filter((o) => o.path === '-').length > 1) throw new UsageError('Only one output can go to stdout (-); give the others file names.');
  if (out.length === 0) out.push({ format: 'N', path: '-' });
  return out;
}

/** What a resume file holds: the command line and where the scan got to. */
interface ResumeFile {
  readonly portscout: 'resume';
  readonly argv: readonly string[];
  readonly cursor?: ScanCursor;
}

async function readList(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const token of readTargetFile(path)) out.push(token);
  return out;
}

/** The scan request of the flags. */
async function requestOf(values: Values, positionals: string[], technique: TechniqueName, cursor: ScanCursor | undefined): Promise<ScanRequest> {
  const targets = [...positionals];
  if (values.iL !== undefined) targets.push(...(await readList(values.iL)));
  if (targets.length === 0) throw new UsageError('No targets given: name hosts, networks or ranges (such as 127.0.0.1 or 198.18.0.0/24), or -iL FILE.');
  const exclude = [...(values.exclude?.split(',').filter(Boolean) ?? []), ...(values.excludefile !== undefined ? await readList(values.excludefile) : [])];
  const timing = (['T0', 'T1', 'T2', 'T3', 'T4', 'T5'] as const).filter((t) => values[t]);
  if (timing.length > 1) throw new UsageError(`Choose one timing template; got -${timing.join(' and -')}.`);
  let ports = values.p;
  const top = integerOf('top-ports', values['top-ports'], 1, 65535);
  if (top !== undefined) {
    if (ports !== undefined) throw new UsageError('Give -p or --top-ports, not both.');
    ports = topPorts(top, technique === 'udp' ? 'udp' : 'tcp').join(',');
  }
  const shard = values.shard === undefined ? undefined : /^(\d+)\/(\d+)$/.exec(values.shard);
  if (values.shard !== undefined && (!shard || Number(shard[1]) >= Number(shard[2]))) throw new UsageError(`--shard needs i/n with 0 <= i < n (such as 0/4); got "${values.shard}".`);
  const rate = integerOf('max-rate', values['max-rate'], 1) ?? integerOf('min-rate', values['min-rate'], 1);
  const request: Record<string, unknown> = {
    technique,
    targets,
    ...(exclude.length > 0 ? { exclude } : {}),
    ...(ports !== undefined && technique !== 'ping' ? { ports } : {}),
    ...(values['exclude-ports'] !== undefined ? { excludePorts: values['exclude-ports'] } : {}),
    ...(values.Pn ? { skipDiscovery: true } : {}),
    ...(timing[0] ? { timing: timing[0] } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(values['max-retries'] !== undefined ? { maxRetries: integerOf('max-retries', values['max-retries'], 0, 50) } : {}),
    ...(values['host-timeout'] !== undefined ? { hostTimeout: millisecondsOf('host-timeout', values['host-timeout']) } : {}),
    ...(values.R ? { reverseDns: true } : {}),
    ...(values['6'] ? { family: 6 } : {}),
    ...(values.seed !== undefined ? { order: { random: true, seed: values.seed } } : {}),
    ...(shard ? { shard: { index: Number(shard[1]), count: Number(shard[2]) } } : {}),
    ...(cursor ? { resume: cursor } : {}),
    progressInterval: millisecondsOf('stats-every', values['stats-every']) ?? 1000,
  };
  return request as unknown as ScanRequest;
}

/** One event stream fed to several consumers (each gets every event; an error reaches each). */
function fanOut(count: number): { streams: AsyncIterable<ReportInputEvent>[]; push(event: ReportInputEvent): void; end(error?: unknown): void } {
  const queues = Array.from({ length: count }, () => ({ items: [] as ReportInputEvent[], wake: undefined as (() => void) | undefined }));
  let finished: { error?: unknown } | undefined;
  const streams = queues.map((queue) => ({
    async *[Symbol.asyncIterator](): AsyncGenerator<ReportInputEvent> {
      for (;;) {
        while (queue.items.length > 0) yield queue.items.shift() as ReportInputEvent;
        if (finished) {
          if ('error' in finished) throw finished.error;
          return;
        }
        await new Promise<void>((resolve) => (queue.wake = resolve));
      }
    },
  }));
  const wakeAll = (): void => {
    for (const queue of queues) {
      const wake = queue.wake;
      queue.wake = undefined;
      wake?.();
    }
  };
  return {
    streams,
    push(event) {
      for (const queue of queues) queue.items.push(event);
      wakeAll();
    },
    end(error) {
      finished = error === undefined ? {} : { error };
      wakeAll();
    },
  };
}

/** A scan's events until `signal` stops it: then the stream just ends (detection finishes the ports it has). */
async function* untilStopped<T>(events: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** A progress line for people: on stderr when it is a terminal (or with --stats-every). */
function progressLine(event: Extract<ReportInputEvent, { type: 'progress' }>): string {
  const eta = event.etaMs === undefined ? '' : ` ETA ${Math.floor(event.etaMs / 60_000)}:${String(Math.round(event.etaMs / 1000) % 60).padStart(2, '0')}`;
  const found = event.phase === 'discovery' ? 'up' : event.phase === 'service' ? 'identified' : 'open';
  return `${event.phase}: ${(event.fraction * 100).toFixed(1)}% ${event.rate}/s${eta}, ${event.found} ${found}`;
}

/** Where an interrupted scan's resume file goes: the one it was resumed from, else portscout.resume.json. */
function resumeFileOf(argv: readonly string[]): string {
  return parseCommandLine(argv).values.resume ?? 'portscout.resume.json';
}

async function main(argv: readonly string[]): Promise<number> {
  let { values, positionals } = parseCommandLine(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let cursor: ScanCursor | undefined;
  let commandLine = [...argv];
  // Outputs named with --resume replace the saved ones; without, the saved ones are appended to.
  const named = ['oN', 'oX', 'oG', 'oJ', 'oA'].some((flag) => values[flag as 'oN'] !== undefined);
  const given = named ? outputsOf(values) : undefined;
  let append = false;
  if (values.resume !== undefined) {
    let saved: ResumeFile;
    try {
      saved = JSON.parse(readFileSync(values.resume, 'utf8')) as ResumeFile;
    } catch (error) {
      throw new UsageError(`--resume ${values.resume}: cannot read it as a portscout resume file (${(error as Error).message}).`);
    }
    if (saved.portscout !== 'resume' || !Array.isArray(saved.argv)) throw new UsageError(`--resume ${values.resume}: not a portscout resume file.`);
    commandLine = [...saved.argv];
    ({ values, positionals } = parseCommandLine(saved.argv));
    cursor = saved.cursor;
    append = given === undefined;
  }
  const { technique: chosen, explicit, list } = techniqueOf(values);
  let technique = chosen;
  const outputs = given ?? outputsOf(values);
  const intensity = integerOf('version-intensity', values['version-intensity'], 0, 9);
  const request = await requestOf(values, positionals, technique, cursor);

  if (list) {
    const plan = await planScan({ targets: request.targets, ...(request.exclude ? { exclude: request.exclude } : {}) });
    for (const host of plan.hosts()) process.stdout.write(`portscout scan report for ${host.hostname ? `${host.hostname} (${host.address})` : host.address}\n`);
    return 0;
  }

  let fallback: 'connect' | undefined;
  if (technique === 'syn' && !hasRawPermission(request.family === 6 ? 6 : 4)) {
    if (values['no-fallback']) {
      process.stderr.write('portscout: -sS needs raw sockets (root or CAP_NET_RAW); run as root, or drop --no-fallback to run a connect scan.\n');
      return 1;
    }
    if (explicit) fallback = 'connect';
    else technique = 'connect';
  }

  if (values.O && !hasRawPermission(4)) {
    process.stderr.write('portscout: -O needs raw sockets (root or CAP_NET_RAW); run as root, or drop -O.\n');
    return 1;
  }

  // The first Ctrl-C (or SIGTERM) stops the scan; with -sV, the ports already found are still
  // identified, so the resume file's cursor leaves none without its service. A second one stops now.
  const stop = new AbortController();
  const now = new AbortController();
  const onSignal = (): void => {
    if (!stop.signal.aborted) {
      stop.abort(new Error('interrupted'));
      if (values.sV) process.stderr.write('\nportscout: stopping; identifying the services of the ports found (Ctrl-C again to stop at once)\n');
    } else now.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // With -O, the SYN scan records the SYN/ACKs' options too: a passive hint beside the probes' answer.
  const run = scan({ ...request, technique, ...(fallback ? { fallback } : {}), ...(values.O && technique === 'syn' && !fallback ? { tcpOptions: true } : {}), signal: stop.signal } as ScanRequest);
  let events: AsyncIterable<ReportInputEvent> = run;
  if (values.sV) {
    const probes = values.versiondb !== undefined ? (await loadServiceProbes(values.versiondb)).database : undefined;
    events = detectServices({ from: untilStopped(run, stop.signal), ...(probes ? { probes } : {}), ...(intensity !== undefined ? { intensity } : {}), ...(values['version-all'] ? { allProbes: true } : {}), progressInterval: request.progressInterval ?? 1000, signal: now.signal });
  }
  if (values.O) {
    const database = values.osdb !== undefined ? (await loadOsDatabase(values.osdb)).database : undefined;
    events = detectOs({ from: values.sV ? events : untilStopped(events, stop.signal), ...(database ? { database } : {}), signal: now.signal });
  }

  const sinks: { stream?: WriteStream; sink: TextSink }[] = outputs.map(({ path }) => {
    if (path === '-') return { sink: process.stdout };
    const stream = createWriteStream(path, { flags: append ? 'a' : 'w' });
    stream.on('error', () => {}); // reported through its formatter
    return { stream, sink: stream };
  });
  const tee = fanOut(outputs.length);
  const common = { openOnly: values.open === true, serviceDetection: values.sV === true, osDetection: values.O === true, args: `portscout ${commandLine.join(' ')}` };
  // An output that fails (a directory that is not there, a full disk, a closed pipe) is reported
  // at the end and makes the exit code 1; the scan and the other outputs go on.
  const outputProblems: { path: string; message: string }[] = [];
  const writers = outputs.map(({ format, path }, i) => writerOf(format, i).catch((error: unknown) => {
    if (error === failureOf()) return; // the scan's own error (an interruption): the formatter ended its document
    if (path === '-' && (error as NodeJS.ErrnoException).code === 'EPIPE') return; // stdout's reader left (| head), as with nmap
    outputProblems.push({ path, message: (error as Error).message ?? String(error) });
  }));
  function writerOf(format: 'N' | 'X' | 'G' | 'J', i: number): Promise<unknown> {
    const stream = tee.streams[i] as AsyncIterable<ReportInputEvent>;
    const sink = (sinks[i] as { sink: TextSink }).sink;
    switch (format) {
      case 'N':
        return writeNormalOutput(stream, sink, { ...common, reason: values.reason === true });
      case 'X':
        return writeNmapXml(stream, sink, { ...common, ...(values.stylesheet !== undefined ? { stylesheet: values.stylesheet } : {}) });
      case 'G':
        return writeGrepableOutput(stream, sink, common);
      case 'J':
        return writeJsonLines(stream, sink);
    }
  }
  const failureOf = (): unknown => failure;

  const showProgress = process.stderr.isTTY || values['stats-every'] !== undefined;
  process.stdout.on('error', () => {}); // a closed pipe (| head): the formatter on stdout reports it
  let failure: unknown;
  let lastCursor: ScanCursor | undefined = cursor;
  try {
    for await (const event of events) {
      if (event.type === 'progress') {
        if (event.cursor) lastCursor = event.cursor;
        if (showProgress) process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${progressLine(event)}` : `${progressLine(event)}\n`);
      }
      if (event.type === 'warning' && event.code === 'FALLBACK_CONNECT') process.stderr.write(`portscout: ${event.message}\n`);
      tee.push(event);
    }
    tee.end();
  } catch (error) {
    failure = error;
    tee.end(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (showProgress && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  // Every output is completed, also after an interruption (formatters end their documents on the error).
  await Promise.all(writers);
  await Promise.all(sinks.map(async ({ stream }) => {
    if (!stream || stream.destroyed) return;
    stream.end();
    await finished(stream).catch(() => undefined);
  }));
  for (const problem of outputProblems) process.stderr.write(`portscout: output ${problem.path}: ${problem.message}\n`);
  if (stop.signal.aborted) {
    const resumePath = resumeFileOf(argv);
    const saved: ResumeFile = { portscout: 'resume', argv: commandLine, ...((run.cursor() ?? lastCursor) ? { cursor: run.cursor() ?? lastCursor } : {}) };
    writeFileSync(resumePath, `${JSON.stringify(saved)}\n`);
    process.stderr.write(`portscout: interrupted; continue with: portscout --resume ${resumePath}\n`);
    return 1;
  }
  if (outputProblems.length > 0) return 1;
  if (failure !== undefined) throw failure;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`portscout: ${error.message}\n${USAGE.split('\n')[0]}\n`);
      process.exitCode = 2;
    } else if (error instanceof PortscoutError && (error.code.startsWith('ERR_INVALID') || error.code === 'ERR_SCAN_SPACE_TOO_LARGE')) {
      process.stderr.write(`portscout: ${error.message} (${error.code})\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`portscout: ${(error as Error).message ?? String(error)}${error instanceof PortscoutError ? ` (${error.code})` : ''}\n`);
      process.exitCode = 1;
    }
  },
);

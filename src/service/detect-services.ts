/**
 * `detectServices()`: service and version detection over any scanner's
 * stream. It passes every event through unchanged and adds a `service`
 * event for each open TCP port (and open or open|filtered UDP port) as soon
 * as that port is identified; the scan's `done` event comes last, after
 * every identification. Without `from`, it runs a connect scan first.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { PortscoutError } from '../errors.js';
import { serviceName } from '../targets/index.js';
import { tcpConnectScan, type ConnectScanOptions, type PortEvent, type ProgressEvent, type ScanEvent } from '../scan/index.js';
import { lazyGenerator } from '../scan/lazy-generator.js';
import { checkNumberOption } from '../scan/option-check.js';
import { ConnectionSlots } from './connection-slots.js';
import { defaultServiceProbes } from './default-probes.js';
import { identifyService, type ServiceIdentification } from './identify-service.js';
import { prepareMatching } from './match-response.js';
import { serviceFingerprint } from './service-fingerprint.js';
import type { ServiceProbeDatabase } from './probe-database.js';
import { probesKnownOf, translationProgress, type ParsedServiceProbes } from './probe-file.js';
import { DEFAULT_INTENSITY } from './probe-plan.js';
import type { DetectionEvent, ServiceEvent } from './service-event.js';

/** Options of {@link detectServices}. */
export interface DetectServicesOptions extends Partial<ConnectScanOptions> {
  /** A scanner's event stream to add services to; without it a connect scan of `targets` and `ports` runs. */
  readonly from?: AsyncIterable<ScanEvent>;
  /**
   * The probe database (default: portscout's own, `defaultServiceProbes()`),
   * or a promise of one (or of `loadServiceProbes`' result). Given the
   * promise `loadServiceProbes` returns, detection plans and sends probes as
   * soon as the file's lines are read, while its patterns are still being
   * translated, and matches once they are: the same answers, sooner. A
   * promise that rejects ends detection with its error.
   */
  readonly probes?: ServiceProbeDatabase | PromiseLike<ServiceProbeDatabase | ParsedServiceProbes>;
  /** nmap's `--version-intensity`, 0-9 (default 7). */
  readonly intensity?: number;
  /** nmap's `--version-all` (intensity 9). */
  readonly allProbes?: boolean;
  /** Ports identified at once (default 32). */
  readonly concurrency?: number;
  /**
   * Connections to one host at once (default 16), across its ports; one port
   * (one service) gets at most 8 of them, so a small service is not
   * overwhelmed. nmap runs every port of a host at once, one connection each.
   */
  readonly hostConcurrency?: number;
  /**
   * The most time one pattern may run on one answer, in ms (default 100).
   * A pattern past it counts as no match and matching goes on, as nmap's do
   * at PCRE's match limit; the port's `service` event lists such rules in
   * `overBudget`.
   */
  readonly matchBudgetMs?: number;
}

/**
 * Events read ahead of the consumer at most: past this, the scan's stream is
 * not read on until the consumer takes some (identifications under way still
 * add theirs).
 */
export const MAX_BUFFERED_EVENTS = 1024;

/** Connections to one host at once by default. */
const DEFAULT_HOST_CONCURRENCY = 16;
/** Connections to one port (one service) at once, within its host's. */
const PORT_CONCURRENCY = 8;

const SERVICE_OPTION_NAMES = new Set(['from', 'probes', 'intensity', 'allProbes', 'concurrency', 'hostConcurrency', 'matchBudgetMs']);

/** Checks the detection options at the call (the scan's own are checked by the scanner). */
function checkOptions(options: DetectServicesOptions): void {
  if (typeof options !== 'object' || options === null) throw new PortscoutError('ERR_INVALID_OPTION', `detectServices needs an options object (from, or targets and ports); got ${String(options)}.`);
  checkNumberOption('intensity', options.intensity, { min: 0, max: 9, integer: true, unit: 'nmap version intensity' });
  checkNumberOption('concurrency', options.concurrency, { min: 1, integer: true, unit: 'ports at once' });
  checkNumberOption('hostConcurrency', options.hostConcurrency, { min: 1, integer: true, unit: 'connections per host' });
  checkNumberOption('matchBudgetMs', options.matchBudgetMs, { min: 1, unit: 'ms per pattern' });
  checkNumberOption('progressInterval', options.progressInterval, { min: 0, minInclusive: false, unit: 'milliseconds' });
  if (options.from !== undefined && (typeof options.from !== 'object' || options.from === null || !(Symbol.asyncIterator in options.from))) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Invalid from: expected an async iterable of scan events (a scanner\'s result).');
  }
  if (options.from === undefined && options.targets === undefined) throw new PortscoutError('ERR_INVALID_OPTION', 'detectServices needs from (a scanner\'s events) or targets to scan.');
  if (options.probes !== undefined && !isThenable(options.probes) && (typeof options.probes !== 'object' || options.probes === null || !Array.isArray(options.probes.probes))) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Invalid probes: expected a database from parseServiceProbes() or loadServiceProbes(), or the promise loadServiceProbes() returns.');
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** A database given as it is, as a promise of it, or as the promise of loadServiceProbes' result. */
function databaseOf(value: ServiceProbeDatabase | ParsedServiceProbes): ServiceProbeDatabase {
  if (typeof value !== 'object' || value === null) throw new PortscoutError('ERR_INVALID_OPTION', 'Invalid probes: the promise did not give a probe database.');
  const database = 'database' in value ? value.database : value;
  if (typeof database !== 'object' || database === null || !Array.isArray(database.probes)) throw new PortscoutError('ERR_INVALID_OPTION', 'Invalid probes: the promise did not give a probe database.');
  return database;
}

/**
 * The database to plan with (as soon as its probes are known) and the one
 * to match with (once every pattern is translated): the same object, at
 * two moments of a load by loadServiceProbes; for anything else, both when
 * it is there.
 */
function databasesOf(probes: DetectServicesOptions['probes']): { planned: Promise<ServiceProbeDatabase>; matched: Promise<ServiceProbeDatabase> } {
  if (probes === undefined || !isThenable(probes)) {
    const database = Promise.resolve(probes ?? defaultServiceProbes());
    return { planned: database, matched: database };
  }
  const matched = Promise.resolve(probes).then(databaseOf);
  return { planned: probesKnownOf(probes) ?? matched, matched };
}

/** The connect scan's options: everything but detection's own. */
function scanOptionsOf(options: DetectServicesOptions): ConnectScanOptions {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !SERVICE_OPTION_NAMES.has(key))) as unknown as ConnectScanOptions;
}

/**
 * nmap's submission fingerprint of a port that answered but got no hard
 * match, at intensity 7 or more, as nmap prints it.
 */
function fingerprintOf(port: PortEvent, found: ServiceIdentification, intensity: number): { fingerprint?: string } {
  // A hard match is recognised, except ssl found with nothing known through it (nmap's ssl/unknown).
  const recognised = found.match !== undefined && !found.match.soft && !(found.tls && found.match.name === 'ssl');
  if (recognised || found.tcpwrapped || found.responses.length === 0 || intensity < 7) return {};
  const text = serviceFingerprint({ port: port.port, protocol: port.protocol, ...(found.tls ? { tunnel: 'ssl' as const } : {}), responses: found.responses, intensity, date: new Date() });
  return text === undefined ? {} : { fingerprint: text };
}

/** The `service` event of an identification. */
function serviceEvent(port: PortEvent, found: ServiceIdentification, intensity: number): ServiceEvent {
  const base = { type: 'service' as const, address: port.address, family: port.family, protocol: port.protocol, port: port.port };
  const tunnel = { ...(found.tls ? { tunnel: 'ssl' as const } : {}), ...(found.overBudget.length > 0 ? { overBudget: found.overBudget } : {}), ...fingerprintOf(port, found, intensity) };
  if (found.tcpwrapped) return { ...base, name: 'tcpwrapped', cpe: [], method: 'probed', confidence: 10, soft: false, probe: 'NULL', ...tunnel };
  const match = found.match;
  if (match) {
    const { name, soft, cpe, probe, source, line, ...fields } = match;
    return { ...base, ...fields, name: found.tls && name === 'ssl' ? 'ssl' : name, cpe, method: 'probed', confidence: 10, soft, probe, rule: { source, line }, ...tunnel };
  }
  const table = serviceName(port.port, port.protocol) ?? 'unknown';
  return { ...base, name: table, cpe: [], method: 'table', confidence: 3, soft: false, ...tunnel };
}

/** Whether a port event asks for identification. */
function wanted(event: ScanEvent): event is PortEvent {
  return event.type === 'port' && (event.state === 'open' || (event.protocol === 'udp' && event.state === 'open|filtered'));
}

/**
 * Service and version detection (nmap's `-sV`) over a scanner's events, or
 * over a connect scan it runs.
 *
 * @example
 * ```ts
 * for await (const event of detectServices({ targets: '127.0.0.1', ports: '22,80', skipDiscovery: true })) {
 *   if (event.type === 'service') console.log(event.port, event.name, event.product ?? '', event.version ?? '');
 * }
 * ```
 */
export function detectServices(options: DetectServicesOptions): AsyncGenerator<DetectionEvent, void, undefined> {
  checkOptions(options);
  return lazyGenerator(() => detectionEvents(options));
}

async function* detectionEvents(options: DetectServicesOptions): AsyncGenerator<DetectionEvent, void, undefined> {
  // Matching is prepared once every pattern is there; probing starts once the probes are.
  const { planned, matched } = databasesOf(options.probes);
  const translated = matched.then((database) => {
    prepareMatching(database);
  });
  // A database still loading (loadServiceProbes' promise): its answers are matched as soon as the
  // rules they need are translated (the first hard match in nmap's order is found in order), and
  // the workers start now, compiling the patterns as they come.
  const early = planned.then((database) => {
    if (translationProgress(database) === undefined) return false;
    prepareMatching(database);
    return true;
  });
  early.catch(() => undefined);
  // A load that fails is the detection's failure (reported below), whether or not a port needed it.
  translated.catch(() => undefined);
  const intensity = options.allProbes ? 9 : (options.intensity ?? DEFAULT_INTENSITY);
  const ports = pLimit(options.concurrency ?? 32);
  const hosts = new Map<string, ConnectionSlots>();
  const budget = options.matchBudgetMs === undefined ? {} : { budgetMs: options.matchBudgetMs };
  // Progress of detection itself (phase 'service'), beside the scan's own progress events.
  const counts = { queued: 0, identified: 0, matched: 0, probes: 0 };
  const onProbe = (): void => void counts.probes++;
  const startedAt = performance.now();
  const progress = (): ProgressEvent => {
    const elapsed = performance.now() - startedAt;
    const event: { -readonly [K in keyof ProgressEvent]: ProgressEvent[K] } = {
      type: 'progress',
      phase: 'service',
      done: counts.identified,
      total: counts.queued,
      fraction: counts.queued === 0 ? 0 : counts.identified / counts.queued,
      sent: counts.probes,
      rate: elapsed > 0 ? Math.round((counts.probes * 1000) / elapsed) : 0,
      found: counts.matched,
    };
    if (counts.identified > 0) event.etaMs = Math.round((elapsed * (counts.queued - counts.identified)) / counts.identified);
    return event;
  };
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // Every identification under way listens to it (up to `concurrency`), each removing its listener when done.
  setMaxListeners(0, signal);
  // A scan run here is aborted with detection; a stream given is only asked to stop (its return()).
  const source = options.from ?? tcpConnectScan({ ...scanOptionsOf(options), signal });
  const iterator = source[Symbol.asyncIterator]();

  // Scan events and finished identifications meet in one queue, read in arrival order.
  const ready: DetectionEvent[] = [];
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // The scan's stream waits here while the consumer has MAX_BUFFERED_EVENTS to read.
  let space: (() => void) | undefined;
  const taken = (): void => {
    const s = space;
    space = undefined;
    s?.();
  };
  const onAbort = (): void => taken();
  signal.addEventListener('abort', onAbort, { once: true });
  const progressTimer =
    options.progressInterval === undefined
      ? undefined
      : setInterval(() => {
          // One progress event waiting at most: a consumer that stopped reading does not pile them up.
          const last = ready.at(-1);
          if (last?.type === 'progress' && last.phase === 'service') ready[ready.length - 1] = progress();
          else ready.push(progress());
          notify();
        }, options.progressInterval);
  // A dropped iterator must not keep the process alive.
  progressTimer?.unref();
  let pending = 0;
  let failure: { error: unknown } | undefined;
  let held: ScanEvent | undefined;
  let sourceDone = false;

  const identify = (port: PortEvent): void => {
    let host = hosts.get(port.address);
    if (!host) {
      host = new ConnectionSlots(options.hostConcurrency ?? DEFAULT_HOST_CONCURRENCY);
      hosts.set(port.address, host);
    }
    const connections = new ConnectionSlots(PORT_CONCURRENCY, host);
    pending++;
    counts.queued++;
    void ports(async () => identifyService({ address: port.address, family: port.family, port: port.port, protocol: port.protocol }, { database: await planned, ...((await early) ? {} : { translated }), intensity, connections, signal, onProbe, ...budget }))
      .then(
        (found) => {
          counts.identified++;
          if (found.match && !found.match.soft) counts.matched++;
          if (!signal.aborted) ready.push(serviceEvent(port, found, intensity));
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => {
        pending--;
        notify();
      });
  };

  translated.then(undefined, (error: unknown) => {
    failure ??= { error };
    notify();
  });

  const pump = (async () => {
    try {
      for (;;) {
        while (ready.length >= MAX_BUFFERED_EVENTS && !signal.aborted) await new Promise<void>((resolve) => (space = resolve));
        if (signal.aborted) break;
        const next = await iterator.next();
        if (next.done) break;
        const event = next.value;
        if (signal.aborted) break;
        if (event.type === 'done') {
          held = event;
          continue;
        }
        ready.push(event);
        if (wanted(event)) identify(event);
        notify();
      }
      // Aborted while waiting for the consumer: the stream's abort error was never read, so raise it here.
      if (options.signal?.aborted) failure ??= { error: options.signal.reason };
    } catch (error) {
      failure ??= { error };
    } finally {
      sourceDone = true;
      notify();
    }
  })();

  try {
    for (;;) {
      while (ready.length > 0) {
        const event = ready.shift() as DetectionEvent;
        if (ready.length < MAX_BUFFERED_EVENTS) taken();
        yield event;
      }
      if (failure) throw failure.error;
      if (sourceDone && pending === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (ready.length > 0 || failure || (sourceDone && pending === 0)) notify();
      });
    }
    if (progressTimer) yield progress();
    if (held) yield held;
  } finally {
    clearInterval(progressTimer);
    stop.abort();
    signal.removeEventListener('abort', onAbort);
    if (options.from === undefined) await pump.catch(() => {});
    else void iterator.return?.();
  }
}

/**
 * The plumbing every raw scanner shares: validate options and plan the scan
 * before any packet, run the probe engine over the plan, turn outcomes into
 * events, and (for port scans) discover hosts first unless told not to.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { planScan, type PortSet, type ScanPlan, type TargetInput } from '../targets/index.js';
import { parseIpv4Address, parseIpv6Address } from '../wire/index.js';
import { resolveTiming, type TimingValues } from '../transport/timing.js';
import { SourceAddressCache } from '../transport/source-cache.js';
import { checkRawPermission } from '../transport/privileges.js';
import { createCookieKey } from './probe-cookie.js';
import { ProbeEngine, type ProbeModule, type ProbeOutcome, type ProbeTarget } from './probe-engine.js';
import { addStats, emptyStats, type HostEvent, type PortEvent, type PortState, type ScanEvent, type ScanMethod, type ScanStats } from './events.js';
import type { PortScanOptions, ScanOptions } from './scan-options.js';

/** Throws the signal's reason when it is already aborted (undici / events.on behaviour). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** The timing values of a scan's options, validated. */
export function timingOf(options: ScanOptions): TimingValues {
  const overrides: Partial<TimingValues> = { ...options.timingOverrides };
  if (options.maxRetries !== undefined) overrides.maxRetries = options.maxRetries;
  if (options.hostTimeout !== undefined) overrides.hostTimeoutMs = options.hostTimeout;
  return resolveTiming({ timing: options.timing, overrides });
}

function validateNumberOption(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!(typeof value === 'number' && value >= min && !Number.isNaN(value))) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Option ${name} must be a number >= ${min}; got ${String(value)}.`);
  }
}

/** Checks the numeric options shared by every scanner. */
export function validateScanOptions(options: ScanOptions): void {
  validateNumberOption('rate', options.rate, Number.MIN_VALUE);
  validateNumberOption('maxInFlight', options.maxInFlight, 1);
  validateNumberOption('queueCapacity', options.queueCapacity, 1);
}

/**
 * The probe target of a planned pair (or host). `addressBytes` may be passed
 * when the caller already has them (consecutive pairs of one host).
 */
export function toProbeTarget(
  pair: { family: 4 | 6; address: string; hostname?: string },
  protocol: ProbeTarget['protocol'],
  port: number,
  addressBytes: Uint8Array = pair.family === 4 ? parseIpv4Address(pair.address) : parseIpv6Address(pair.address),
): ProbeTarget {
  return pair.hostname === undefined
    ? { family: pair.family, address: pair.address, addressBytes, protocol, port }
    : { family: pair.family, address: pair.address, addressBytes, hostname: pair.hostname, protocol, port };
}

function* pairTargets(plan: ScanPlan, names: ReadonlyMap<string, string>): Generator<ProbeTarget> {
  // Consecutive pairs often share a host (sequential order): parse its address once.
  let last: ProbeTarget | undefined;
  for (const pair of plan.pairs()) {
    const bytes = last !== undefined && last.address === pair.address ? last.addressBytes : undefined;
    const hostname = pair.hostname ?? names.get(pair.address);
    last = toProbeTarget(hostname === undefined ? pair : { family: pair.family, address: pair.address, hostname }, pair.protocol, pair.port, bytes);
    yield last;
  }
}

function* hostTargets(plan: ScanPlan): Generator<ProbeTarget> {
  for (const host of plan.hosts()) yield toProbeTarget(host, 'host', 0);
}

/** A round-trip time in milliseconds, rounded to the microsecond as events carry it. */
export function roundRtt(rttMs: number): number {
  return Math.round(rttMs * 1000) / 1000;
}

/** An event type with its fields writable, for building an event field by field. */
export type Building<T> = { -readonly [K in keyof T]: T[K] };

/** Builds a `port` event (fields without a value are left out, so events serialise compactly). */
export function portEvent(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined, method: ScanMethod): PortEvent {
  const event: Building<PortEvent> = {
    type: 'port',
    family: target.family,
    address: target.address,
    protocol: target.protocol === 'udp' ? 'udp' : 'tcp',
    port: target.port,
    state: outcome.state as PortState,
    reason: outcome.reason,
    method,
  };
  if (target.hostname !== undefined) event.hostname = target.hostname;
  if (outcome.ttl !== undefined) event.ttl = outcome.ttl;
  if (outcome.replyFrom !== undefined) event.replyFrom = outcome.replyFrom;
  if (rttMs !== undefined) event.rttMs = roundRtt(rttMs);
  if (outcome.window !== undefined) event.window = outcome.window;
  if (outcome.data !== undefined) event.data = outcome.data;
  return event;
}

/** Builds a `host` event. */
export function hostEvent(target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined): HostEvent {
  const event: Building<HostEvent> = {
    type: 'host',
    family: target.family,
    address: target.address,
    status: outcome.state === 'up' ? 'up' : 'down',
    reason: outcome.reason,
    method: (outcome.method ?? 'icmp-echo') as ScanMethod,
  };
  if (target.hostname !== undefined) event.hostname = target.hostname;
  if (outcome.ttl !== undefined) event.ttl = outcome.ttl;
  if (rttMs !== undefined) event.rttMs = roundRtt(rttMs);
  return event;
}

/** Plans a scan and collects its warnings (unresolved names, empty after exclusions). */
export async function planWithWarnings(
  options: ScanOptions,
  targets: TargetInput,
  ports: { spec: PortSet | string; exclude?: PortSet | string; protocol: 'tcp' | 'udp' } | undefined,
  whole: boolean,
): Promise<{ plan: ScanPlan; warnings: ScanEvent[] }> {
  const plan = await planScan({
    targets,
    exclude: whole ? options.exclude : undefined,
    resolve: options.resolve,
    ports: ports?.spec,
    excludePorts: ports?.exclude,
    defaultProtocol: ports?.protocol,
    order: options.order,
    shard: options.shard,
    resume: options.resume,
    family: options.family,
  });
  if (ports) {
    const other = ports.protocol === 'tcp' ? plan.ports.udp : plan.ports.tcp;
    if (other.length > 0) {
      throw new PortscoutError(
        'ERR_INVALID_PORTS',
        `A ${ports.protocol.toUpperCase()} scan was given ${ports.protocol === 'tcp' ? 'UDP' : 'TCP'} ports (${other.slice(0, 5).join(',')}${other.length > 5 ? ',...' : ''}): ` +
          `drop the ${ports.protocol === 'tcp' ? 'U:' : 'T:'} part, or run a ${ports.protocol === 'tcp' ? 'UDP' : 'TCP'} scan for them.`,
      );
    }
  }
  const warnings: ScanEvent[] = [];
  for (const { name, error } of plan.unresolved) {
    warnings.push({ type: 'warning', code: 'UNRESOLVED_HOST', message: `Could not resolve host name ${JSON.stringify(name)}: ${error}`, target: name });
  }
  for (const message of plan.warnings) warnings.push({ type: 'warning', code: 'TARGETS', message });
  return { plan, warnings };
}

/**
 * Runs one module over some targets: the engine's own event stream (its
 * `done` included, with `priorStats` added), returned rather than wrapped in
 * a generator of this function's, so that every event passes one generator
 * layer less. The engine stops itself when the stream ends or is left.
 */
function runEngine(
  options: ScanOptions,
  module: ProbeModule,
  targets: Iterator<ProbeTarget>,
  makeEvent: (target: ProbeTarget, outcome: ProbeOutcome, rttMs: number | undefined) => ScanEvent | undefined,
  priorStats?: ScanStats,
): AsyncGenerator<ScanEvent, void, undefined> {
  const timing = timingOf(options);
  let engine: ProbeEngine | undefined;
  const sources = new SourceAddressCache((target, error) =>
    engine?.warn({ type: 'warning', code: 'NO_ROUTE', message: error.message, target: target.address }),
  );
  engine = new ProbeEngine(
    module,
    createCookieKey(),
    sources,
    {
      timing,
      rate: options.rate ?? Number.POSITIVE_INFINITY,
      maxInFlight: Math.min(options.maxInFlight ?? 4096, timing.maxParallelism),
      queueCapacity: options.queueCapacity ?? 1024,
      signal: options.signal,
      priorStats,
    },
    makeEvent,
  );
  return engine.run(targets);
}

/**
 * Host discovery over the plan's hosts with the given module; yields `host`
 * events (up and down), warnings, and `done`.
 */
export async function* runHostScan(options: ScanOptions, module: ProbeModule): AsyncGenerator<ScanEvent, void, undefined> {
  throwIfAborted(options.signal);
  validateScanOptions(options);
  timingOf(options);
  const { plan, warnings } = await planWithWarnings(options, options.targets, undefined, true);
  throwIfAborted(options.signal);
  yield* warnings;
  checkRawPermission(4);
  yield* runEngine(options, module, hostTargets(plan), (target, outcome, rttMs) => hostEvent(target, outcome, rttMs));
}

/**
 * The options of a port scan's discovery phase: every target is pinged; shard
 * and resume apply to the port phase over the hosts found up (applying them
 * to both phases would shard the space twice).
 */
export function discoveryPhase<T extends ScanOptions>(options: T): T {
  return { ...options, shard: undefined, resume: undefined };
}

/**
 * A port scan with one raw module: discovery first unless `skipDiscovery`,
 * then every (host, port) pair of the plan. Yields one `done` with the
 * statistics of both phases. `makeModule` is called on the first read, so a
 * scanner can return this generator as its own and still report bad options
 * there (as a generator of its own would), with one generator layer less per event.
 */
export async function* runPortScan(
  options: PortScanOptions,
  makeModule: () => ProbeModule,
  method: ScanMethod,
  protocol: 'tcp' | 'udp',
  discovery: ProbeModule | undefined,
): AsyncGenerator<ScanEvent, void, undefined> {
  throwIfAborted(options.signal);
  const module = makeModule();
  validateScanOptions(options);
  timingOf(options);
  const ports = options.ports ?? defaultPortsFor(protocol);
  const stats = emptyStats();
  const names = new Map<string, string>();
  let targets: TargetInput = options.targets;
  let whole = true;
  if (!options.skipDiscovery && discovery) {
    // Validate the port list before any discovery packet leaves.
    await planScan({ targets: [], ports, excludePorts: options.excludePorts, defaultProtocol: protocol, allowEmpty: true });
    const up: string[] = [];
    for await (const event of runHostScan(discoveryPhase(options), discovery)) {
      if (event.type === 'done') {
        addStats(stats, event.stats);
        continue;
      }
      if (event.type === 'host' && event.status === 'up') {
        up.push(event.address);
        if (event.hostname !== undefined) names.set(event.address, event.hostname);
      }
      yield event;
    }
    if (up.length === 0) {
      yield { type: 'done', stats };
      return;
    }
    targets = up;
    whole = false;
  }
  const { plan, warnings } = await planWithWarnings(options, targets, { spec: ports, exclude: options.excludePorts, protocol }, whole);
  throwIfAborted(options.signal);
  yield* warnings;
  checkRawPermission(4);
  yield* runEngine(options, module, pairTargets(plan, names), (target, outcome, rttMs) => portEvent(target, outcome, rttMs, method), stats);
}

/** The default port list of a protocol: the built-in table of well-known services. */
export function defaultPortsFor(protocol: 'tcp' | 'udp'): string {
  return protocol === 'tcp' ? 'T:top' : 'U:top';
}

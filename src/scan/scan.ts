/**
 * `scan()`: one entry point for every technique of the registry. It checks
 * every option before the first packet, plans the scan, opens it with a
 * `start` event, discovers hosts first unless told not to, and runs the one
 * engine with the technique's prober over the plan. The scan it returns also
 * gives its resume cursor at any time, after an abort or a `break` too.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { PortscoutError } from '../errors.js';
import { formatPortSet, type PortSet, type ScanCursor, type ScanPlan, type TargetInput } from '../targets/index.js';
import { checkRawPermission } from '../transport/privileges.js';
import { throwIfAborted } from '../transport/abort-signal.js';
import { kernelRouteLookup, type RouteLookup } from '../transport/unroutable-targets.js';
import type { TimingValues } from '../transport/timing.js';
import type { ListenProtocol, ListenerLease, ReplySink } from '../transport/packet-listener.js';
import { addStats, emptyStats, type ScanEvent, type ScanMethod, type ScanStats, type StartEvent } from './events.js';
import { hostEvent, portEvent } from './event-builders.js';
import { createConnectProber } from './connect-prober.js';
import { createDiscoveryModule } from './discovery-probe.js';
import { lazyGenerator } from './lazy-generator.js';
import { checkNumberOption, checkOptionNames } from './option-check.js';
import { hostTargets, pairTargets } from './probe-targets.js';
import type { Prober } from './prober.js';
import { createRawProber, type RawSources } from './raw-prober.js';
import { STEADY_POLICY } from './retry-policy.js';
import { addressBytesOf } from './tcp-probe.js';
import { checkReverseDnsOptions, withReverseNames } from './reverse-names.js';
import { ScanEngine, type EventFactory } from './scan-engine.js';
import { checkPhasePlan, defaultPortsFor, discoveryPhase, planWithWarnings, timingOf } from './scan-planning.js';
import { PORT_SCAN_OPTION_NAMES, SCAN_OPTION_NAMES } from './scan-options.js';
import { TECHNIQUES, techniqueNamed, type ScanRequest, type Technique } from './techniques.js';

/**
 * A running scan: an async generator of its events, which also tells its
 * resume cursor.
 *
 * @example
 * ```ts
 * const run = scan({ technique: 'connect', targets: '127.0.0.1', ports: '1-1024', skipDiscovery: true });
 * for await (const event of run) if (event.type === 'port' && event.state === 'open') break;
 * const cursor = run.cursor(); // resume later with { ...options, resume: cursor }
 * ```
 */
export interface Scan extends AsyncGenerator<ScanEvent, void, undefined> {
  /**
   * A safe resume point, now: every pair before its position, and every pair
   * its `skip` lists, has been handed to the consumer. Pass it as `resume`,
   * with the same targets, ports, order and shard, and the resumed scan
   * probes every other pair exactly once. Undefined before the port phase
   * started (resume from the start then). With discovery, the cursor belongs
   * to the port phase over the hosts found up: the resumed scan must find the
   * same hosts up (or pass them with `skipDiscovery`).
   */
  cursor(): ScanCursor | undefined;
}

/**
 * What tests and embedders may replace in the scan's transport (a fake
 * network for raw probes). Not part of the public API.
 *
 * @internal
 */
export interface ScanInternals {
  readonly acquire?: (protocols: readonly ListenProtocol[], sink: ReplySink) => ListenerLease;
  readonly sources?: RawSources;
}

/** Pairs from which a connect scan spreads its attempts over worker threads by default. */
const WORKERS_FROM_PAIRS = 4096;

/**
 * Runs any technique of the registry.
 *
 * @example
 * ```ts
 * for await (const event of scan({ technique: 'connect', targets: '127.0.0.1', ports: '22,80,443', skipDiscovery: true })) {
 *   if (event.type === 'port') console.log(event.port, event.state, event.reason);
 * }
 * ```
 */
export function scan(request: ScanRequest): Scan {
  return runScan(request);
}

/**
 * `options` with `technique` set, for the scanners' one-liners; a missing
 * options object stays missing, so scan() reports it as an option error.
 *
 * @internal
 */
export function withTechnique<T extends object>(options: T, technique: ScanRequest['technique']): ScanRequest {
  if (typeof options !== 'object' || options === null) return options as unknown as ScanRequest;
  return { ...options, technique } as unknown as ScanRequest;
}

/** {@link scan} with replaceable transport (tests). @internal */
export function runScan(request: ScanRequest, internals: ScanInternals = {}): Scan {
  // Every option is checked here, synchronously: a bad one throws before the scan object exists.
  const technique = checkedTechnique(request);
  const holder: { engine: ScanEngine | undefined } = { engine: undefined };
  const generator = lazyGenerator(() => scanEvents(request, technique, internals, holder)) as Scan;
  generator.cursor = () => holder.engine?.cursor();
  return generator;
}

/** Checks every option of a request: known names, the shared numbers, the technique's own. */
function checkRequest(request: ScanRequest, technique: Technique, scanner: string): void {
  const base = technique.protocol === 'host' ? SCAN_OPTION_NAMES : PORT_SCAN_OPTION_NAMES;
  checkOptionNames(request, new Set<string>([...base, ...technique.optionNames, 'technique']), scanner);
  if (request.targets === undefined) throw new PortscoutError('ERR_INVALID_OPTION', `${scanner} needs targets (addresses, CIDR blocks, ranges or host names).`);
  checkNumberOption('rate', request.rate, { min: 0, minInclusive: false, unit: 'packets per second' });
  checkNumberOption('maxInFlight', request.maxInFlight, { min: 1, integer: true, unit: 'probes awaiting an answer' });
  checkNumberOption('queueCapacity', request.queueCapacity, { min: 1, integer: true, unit: 'events' });
  checkNumberOption('maxRetries', request.maxRetries, { min: 0, max: 50, integer: true, unit: 'retransmissions' });
  checkNumberOption('hostTimeout', request.hostTimeout, { min: 0, unit: 'milliseconds; 0 for none' });
  checkNumberOption('progressInterval', request.progressInterval, { min: 0, minInclusive: false, unit: 'milliseconds' });
  technique.validateOptions(request);
  checkReverseDnsOptions(request);
}

/** Whether a SYN scan must fall back to connect; the reason when it must, for the warning. */
function fallbackReason(request: ScanRequest): string | undefined {
  if (request.technique !== 'syn' || request.fallback !== 'connect') return undefined;
  try {
    checkRawPermission(4);
    return undefined;
  } catch (error) {
    if (!(error instanceof PortscoutError)) throw error;
    if (error.code === 'ERR_RAW_UNAVAILABLE') return "no raw I/O loaded (neither portscout's native addon nor the raw-socket package)";
    if (error.code === 'ERR_RAW_PERMISSION') return 'no raw socket permission (CAP_NET_RAW)';
    if (error.code === 'ERR_RAW_OPEN_FAILED') return `a raw socket could not be opened (${error.message})`;
    throw error;
  }
}

/** Timing values as events carry them: a value without a limit (Infinity) is left out, as JSON has no Infinity. */
function finiteTiming(timing: TimingValues): Partial<TimingValues> {
  return Object.fromEntries(Object.entries(timing).filter(([, value]) => typeof value !== 'number' || Number.isFinite(value))) as Partial<TimingValues>;
}

/** The `start` event of a scan over `plan`. */
function startEvent(technique: Technique, request: ScanRequest, plan: ScanPlan, discovery: boolean): StartEvent {
  const event: { -readonly [K in keyof StartEvent]: StartEvent[K] } = {
    type: 'start',
    technique: technique.name,
    protocols: technique.protocol === 'host' ? ['host'] : [technique.protocol],
    ports: { tcp: formatPortSet({ tcp: plan.ports.tcp, udp: [] }).slice(2), udp: formatPortSet({ tcp: [], udp: plan.ports.udp }).slice(2) },
    hosts: plan.hostTotal,
    pairs: technique.protocol === 'host' ? plan.hostTotal : plan.size,
    discovery,
    order: plan.seed === undefined ? 'sequential' : 'random',
    shard: plan.shard,
    fingerprint: plan.fingerprint,
    timing: finiteTiming(timingOf(request)),
    startedAt: Date.now(),
  };
  if (plan.seed !== undefined) event.seed = plan.seed;
  if (request.resume !== undefined && !discovery) event.resumedFrom = request.resume;
  return event;
}

interface Phase {
  readonly technique: Technique;
  readonly prober: Prober;
  readonly makeEvent: EventFactory;
  readonly total: number;
  readonly plan?: ScanPlan;
  readonly priorStats?: ScanStats;
}

/** The engine of one phase. */
function engineFor(request: ScanRequest, phase: Phase): ScanEngine {
  const timing = timingOf(request);
  return new ScanEngine(
    phase.prober,
    {
      timing,
      rate: request.rate ?? Number.POSITIVE_INFINITY,
      maxInFlight: Math.min(request.maxInFlight ?? phase.technique.defaultMaxInFlight, timing.maxParallelism),
      queueCapacity: request.queueCapacity ?? 1024,
      signal: request.signal,
      policy: phase.technique.policy,
      priorStats: phase.priorStats,
      phase: phase.technique.protocol === 'host' || !phase.plan ? 'discovery' : 'ports',
      total: phase.total,
      plan: phase.plan,
      progressIntervalMs: request.progressInterval,
      // Loss raises the retries unless the user set them (nmap's --max-retries is a cap).
      adaptRetriesToLoss: request.maxRetries === undefined && request.timingOverrides?.maxRetries === undefined && !phase.technique.policy.adaptsToRateLimit,
    },
    phase.makeEvent,
  );
}

/** The prober of a technique. */
function proberFor(technique: Technique, request: ScanRequest, internals: ScanInternals, pairs: number): Prober {
  if (technique.prober === 'raw') {
    const module = technique.createModule(request);
    if (!module) throw new PortscoutError('ERR_INTERNAL', `technique ${technique.name} has no probe module`);
    return createRawProber(module, internals);
  }
  const timing = timingOf(request);
  const paced = (request.rate !== undefined && Number.isFinite(request.rate)) || timing.scanDelayMs > 0;
  const concurrency = Math.min(request.maxInFlight ?? technique.defaultMaxInFlight, timing.maxParallelism);
  const workers = request.workers ?? (pairs >= WORKERS_FROM_PAIRS && concurrency > 1 && !paced ? Math.min(availableParallelism(), 4) : 0);
  return createConnectProber({ workers });
}

/** Whether a target has a route: the kernel's answer, or the fake network's (its sources decide). */
function routeLookupOf(internals: ScanInternals): RouteLookup {
  const sources = internals.sources;
  if (!sources) return kernelRouteLookup;
  return async (address, family) => {
    const addressBytes = addressBytesOf(family, address);
    if (!addressBytes) return undefined;
    const source = await sources.resolve({ family, address, addressBytes, protocol: 'host', port: 0, position: 0 });
    return source === undefined ? { routed: false } : { routed: true };
  };
}

/** The discovery technique for a port scan's probes: raw pings, or connections to 80 and 443. */
function discoveryTechniqueFor(technique: Technique): Technique {
  if (technique.prober === 'raw') return TECHNIQUES.ping;
  return { ...TECHNIQUES.ping, prober: 'connect', policy: STEADY_POLICY, defaultMaxInFlight: TECHNIQUES.connect.defaultMaxInFlight };
}

/** The ports a request's port phase scans (undefined for discovery alone). */
function portsOf(request: ScanRequest, technique: Technique): { spec: PortSet | string; exclude?: PortSet | string; protocol: 'tcp' | 'udp' } | undefined {
  if (technique.protocol === 'host') return undefined;
  const protocol: 'tcp' | 'udp' = technique.protocol === 'udp' ? 'udp' : 'tcp';
  return { spec: request.ports ?? defaultPortsFor(protocol), exclude: request.excludePorts, protocol };
}

/**
 * Checks every option of a request, synchronously, and returns its
 * technique: names, numbers, timing, the technique's own options, and the
 * plan's (ports, shard, order, cursor, targets given as text).
 */
function checkedTechnique(request: ScanRequest): Technique {
  if (typeof request !== 'object' || request === null) {
    throw new PortscoutError('ERR_INVALID_OPTION', `A scan needs an options object with at least targets; got ${String(request)}.`);
  }
  const scanner = `scan({ technique: ${JSON.stringify(request.technique)} })`;
  const technique = techniqueNamed(request.technique);
  checkRequest(request, technique, scanner);
  timingOf(request);
  // The port phase's plan options cover the discovery phase's (the same without shard and cursor).
  checkPhasePlan(request, request.targets, portsOf(request, technique), true);
  return technique;
}

async function* scanEvents(
  request: ScanRequest,
  checked: Technique,
  internals: ScanInternals,
  holder: { engine: ScanEngine | undefined },
): AsyncGenerator<ScanEvent, void, undefined> {
  let technique = checked;
  throwIfAborted(request.signal);
  const fallback = fallbackReason(request);
  if (fallback !== undefined) technique = TECHNIQUES.connect;
  const rawAllowed = internals.acquire !== undefined;

  const hostsOnly = technique.protocol === 'host';
  const ports = portsOf(request, technique);
  const discovery = !hostsOnly && !request.skipDiscovery;
  // Every option and the whole plan are checked before the first packet; targets without a route are left out.
  const first = await planWithWarnings(discovery ? discoveryPhase(request) : request, request.targets, ports, true, routeLookupOf(internals));
  throwIfAborted(request.signal);
  if (technique.prober === 'raw' && !rawAllowed) checkRawPermission(4);
  yield startEvent(technique, request, first.plan, discovery);
  if (fallback !== undefined) {
    yield {
      type: 'warning',
      code: 'FALLBACK_CONNECT',
      message: `Running a TCP connect scan instead of a SYN scan: ${fallback}. Its events say method "connect".`,
    };
  }
  yield* first.warnings;

  const method: ScanMethod = technique.name === 'ping' ? 'icmp-echo' : technique.name;
  const portEvents: EventFactory = (target, outcome, rttMs) => portEvent(target, outcome, rttMs, method);
  const hostEvents: EventFactory = (target, outcome, rttMs) => hostEvent(target, outcome, rttMs);

  if (hostsOnly) {
    const engine = engineFor(request, {
      technique,
      prober: proberFor(technique, request, internals, first.plan.hostTotal),
      makeEvent: hostEvents,
      total: first.plan.hostTotal,
    });
    yield* withReverseNames(engine.run(hostTargets(first.plan)), request);
    return;
  }

  let plan = first.plan;
  let names: ReadonlyMap<string, string> = new Map();
  let priorStats: ScanStats | undefined;
  if (discovery) {
    const ping = discoveryTechniqueFor(technique);
    const stats = emptyStats();
    const found = new Map<string, string>();
    const up: string[] = [];
    const pingRequest: ScanRequest = { ...discoveryPhase(request), probes: undefined };
    const pinger = engineFor(pingRequest, {
      technique: ping,
      prober: ping.prober === 'raw' ? createRawProber(createDiscoveryModule(request.probes), internals) : createConnectProber(),
      makeEvent: hostEvents,
      total: first.plan.hostTotal,
    });
    for await (const event of withReverseNames(pinger.run(hostTargets(first.plan)), request)) {
      if (event.type === 'done') {
        addStats(stats, event.stats);
        continue;
      }
      if (event.type === 'host' && event.status === 'up') {
        up.push(event.address);
        if (event.hostname !== undefined) found.set(event.address, event.hostname);
      }
      yield event;
    }
    priorStats = stats;
    if (up.length === 0) {
      yield { type: 'done', stats };
      return;
    }
    // Order, shard and resume apply to the port phase over the hosts found up.
    const second = await planWithWarnings(request, up satisfies TargetInput, ports, false);
    throwIfAborted(request.signal);
    yield* second.warnings;
    plan = second.plan;
    names = found;
  }
  const engine = engineFor(request, {
    technique,
    prober: proberFor(technique, request, internals, plan.size),
    makeEvent: portEvents,
    total: plan.size,
    plan,
    priorStats,
  });
  holder.engine = engine;
  yield* engine.run(pairTargets(plan, names));
}

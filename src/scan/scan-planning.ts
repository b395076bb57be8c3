/**
 * Planning a scan from its options: the timing values, the plan with its
 * warnings, the options of a discovery phase, the default ports.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { checkPlanOptions, planScan, type PlanScanOptions, type PortSet, type ScanPlan, type TargetInput, type TargetSet } from '../targets/index.js';
import { resolveTiming, type TimingValues } from '../transport/timing.js';
import { findUnroutable, type RouteLookup } from '../transport/unroutable-targets.js';
import type { ScanEvent } from './events.js';
import type { ScanOptions } from './scan-options.js';

/** The timing values of a scan's options, validated. */
export function timingOf(options: ScanOptions): TimingValues {
  const overrides: Partial<TimingValues> = { ...options.timingOverrides };
  if (options.maxRetries !== undefined) overrides.maxRetries = options.maxRetries;
  if (options.hostTimeout !== undefined) overrides.hostTimeoutMs = options.hostTimeout;
  return resolveTiming({ timing: options.timing, overrides });
}

/** Which ports a phase scans: the specification, its exclusions and the scan's protocol. */
type PhasePorts = { spec: PortSet | string; exclude?: PortSet | string; protocol: 'tcp' | 'udp' } | undefined;

function planOptions(options: ScanOptions, targets: TargetInput, ports: PhasePorts, whole: boolean): PlanScanOptions {
  return {
    targets,
    exclude: whole ? options.exclude : undefined,
    blocklist: options.blocklist,
    resolve: options.resolve,
    ports: ports?.spec,
    excludePorts: ports?.exclude,
    defaultProtocol: ports?.protocol,
    order: options.order,
    shard: options.shard,
    resume: options.resume,
    family: options.family,
  };
}

/** Throws `ERR_INVALID_PORTS` when a TCP scan is given UDP ports, or the reverse. */
function checkPortProtocol(ports: PhasePorts, planned: PortSet): void {
  if (!ports) return;
  const other = ports.protocol === 'tcp' ? planned.udp : planned.tcp;
  if (other.length > 0) {
    throw new PortscoutError(
      'ERR_INVALID_PORTS',
      `A ${ports.protocol.toUpperCase()} scan was given ${ports.protocol === 'tcp' ? 'UDP' : 'TCP'} ports (${other.slice(0, 5).join(',')}${other.length > 5 ? ',...' : ''}): ` +
        `drop the ${ports.protocol === 'tcp' ? 'U:' : 'T:'} part, or run a ${ports.protocol === 'tcp' ? 'UDP' : 'TCP'} scan for them.`,
    );
  }
}

/** Checks a phase's plan options synchronously (see `checkPlanOptions`), before the scan object is returned. */
export function checkPhasePlan(options: ScanOptions, targets: TargetInput, ports: PhasePorts, whole: boolean): void {
  checkPortProtocol(ports, checkPlanOptions(planOptions(options, targets, ports, whole)).ports);
}

/** The `NO_ROUTE` warning for the targets a plan left out. */
function noRouteWarning(removed: bigint, of: bigint, examples: readonly string[], codes: readonly string[]): ScanEvent {
  const first = examples[0]?.replace(/[/-].*/, '') ?? '';
  return {
    type: 'warning',
    code: 'NO_ROUTE',
    message:
      `No route to ${removed} of the ${of} target addresses (${examples.join(', ')}${removed > BigInt(examples.length) && examples.length === 3 ? ', ...' : ''}` +
      `${codes.length > 0 ? `; ${codes.join(', ')}` : ''}): they are left out, and nothing is sent to them. ` +
      `Check the routing table (\`ip route get ${first}\`), or drop them from the targets.`,
  };
}

/**
 * Plans a scan and collects its warnings (unresolved names, empty after
 * exclusions). With `routes`, the targets without a route are left out of the
 * plan (one lookup per block the routing tables do not split) and one
 * `NO_ROUTE` warning counts them.
 */
export async function planWithWarnings(
  options: ScanOptions,
  targets: TargetInput,
  ports: PhasePorts,
  whole: boolean,
  routes?: RouteLookup,
): Promise<{ plan: ScanPlan; warnings: ScanEvent[] }> {
  let noRoute: ScanEvent | undefined;
  const reachable = routes
    ? async (set: TargetSet): Promise<TargetSet> => {
        const found = await findUnroutable(set, routes);
        if (found.removed.count > 0n) noRoute = noRouteWarning(found.removed.count, set.count, found.examples, found.codes);
        return found.reachable;
      }
    : undefined;
  const plan = await planScan({ ...planOptions(options, targets, ports, whole), reachable });
  checkPortProtocol(ports, plan.ports);
  const warnings: ScanEvent[] = [];
  if (noRoute) warnings.push(noRoute);
  for (const { name, error } of plan.unresolved) {
    warnings.push({ type: 'warning', code: 'UNRESOLVED_HOST', message: `Could not resolve host name ${JSON.stringify(name)}: ${error}`, target: name });
  }
  for (const message of plan.warnings) warnings.push({ type: 'warning', code: 'TARGETS', message });
  return { plan, warnings };
}

/**
 * The options of a port scan's discovery phase: every target is pinged; shard
 * and resume apply to the port phase over the hosts found up (applying them
 * to both phases would shard the space twice).
 */
export function discoveryPhase<T extends ScanOptions>(options: T): T {
  return { ...options, shard: undefined, resume: undefined };
}

/** The default port list of a protocol: the built-in table of well-known services. */
export function defaultPortsFor(protocol: 'tcp' | 'udp'): string {
  return protocol === 'tcp' ? 'T:top' : 'U:top';
}

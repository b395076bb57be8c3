/**
 * Planning a scan from its options: the timing values, the plan with its
 * warnings, the options of a discovery phase, the default ports.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { checkPlanOptions, planScan, type PlanScanOptions, type PortSet, type ScanPlan, type TargetInput } from '../targets/index.js';
import { resolveTiming, type TimingValues } from '../transport/timing.js';
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

/** Plans a scan and collects its warnings (unresolved names, empty after exclusions). */
export async function planWithWarnings(options: ScanOptions, targets: TargetInput, ports: PhasePorts, whole: boolean): Promise<{ plan: ScanPlan; warnings: ScanEvent[] }> {
  const plan = await planScan(planOptions(options, targets, ports, whole));
  checkPortProtocol(ports, plan.ports);
  const warnings: ScanEvent[] = [];
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

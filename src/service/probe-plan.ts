/**
 * Which probes service detection sends to a port, in nmap's order. Pure.
 *
 * - TCP: the NULL probe first (it only listens for a banner).
 * - Then the probes whose `ports` (through TLS: `sslports`) list the port,
 *   in file order, whatever their rarity.
 * - Then the other probes of the protocol whose rarity is at most the
 *   intensity, in file order.
 * - After a softmatch, only probes with a rule for that service are left.
 * - `no-payload` probes are never sent (they only hold rules), and a port
 *   in the database's `Exclude` gets no probe at all.
 *
 * @module
 */
import { inPortRanges, type ServiceProbe, type ServiceProbeDatabase } from './probe-database.js';

/** How deep detection goes: nmap's `--version-intensity` (0-9, default 7); 9 is `--version-all`. */
export const DEFAULT_INTENSITY = 7;

/** The options of a plan. */
export interface ProbePlanOptions {
  readonly intensity?: number;
  /** Whether the probes go through TLS (then `sslports` decides the first pass). */
  readonly tls?: boolean;
}

/** Whether a port is excluded from probing by the database. */
export function isExcluded(database: ServiceProbeDatabase, protocol: 'tcp' | 'udp', port: number): boolean {
  return inPortRanges(protocol === 'tcp' ? database.exclude.tcp : database.exclude.udp, port);
}

/**
 * The probes to send to `port`, in nmap's order (see the module).
 *
 * @example
 * ```ts
 * probesForPort(defaultServiceProbes(), 'tcp', 80).map((p) => p.name); // ['NULL', 'GetRequest', ...]
 * ```
 */
export function probesForPort(database: ServiceProbeDatabase, protocol: 'tcp' | 'udp', port: number, options: ProbePlanOptions = {}): ServiceProbe[] {
  if (isExcluded(database, protocol, port)) return [];
  const intensity = options.intensity ?? DEFAULT_INTENSITY;
  const sendable = database.probes.filter((p) => p.protocol === protocol && !p.noPayload);
  const nullProbe = protocol === 'tcp' ? sendable.find((p) => p.name === 'NULL') : undefined;
  const listed = (p: ServiceProbe): boolean => inPortRanges(options.tls ? p.sslPorts : p.ports, port);
  const out: ServiceProbe[] = nullProbe ? [nullProbe] : [];
  for (const p of sendable) if (p !== nullProbe && listed(p)) out.push(p);
  for (const p of sendable) if (p !== nullProbe && !listed(p) && p.rarity <= intensity) out.push(p);
  return out;
}

/**
 * Whether a probe can still find the softmatched service: it has a rule
 * for that service (nmap's serviceIsPossible).
 */
export function probeCanFind(probe: ServiceProbe, service: string): boolean {
  return probe.matches.some((rule) => rule.service === service);
}


/**
 * The probe targets of a plan: its (host, port) pairs or its hosts, with
 * their address bytes and their position in the plan's order.
 *
 * @module
 */
import type { ScanPlan } from '../targets/index.js';
import { parseIpv4Address, parseIpv6Address } from '../wire/index.js';
import type { ProbeTarget } from './probe-module.js';

/**
 * The probe target of a planned pair (or host). `addressBytes` may be passed
 * when the caller already has them (consecutive pairs of one host).
 */
export function toProbeTarget(
  pair: { family: 4 | 6; address: string; hostname?: string },
  protocol: ProbeTarget['protocol'],
  port: number,
  position: number,
  addressBytes: Uint8Array = pair.family === 4 ? parseIpv4Address(pair.address) : parseIpv6Address(pair.address),
): ProbeTarget {
  return pair.hostname === undefined
    ? { family: pair.family, address: pair.address, addressBytes, protocol, port, position }
    : { family: pair.family, address: pair.address, addressBytes, hostname: pair.hostname, protocol, port, position };
}

/** The plan's pairs as probe targets, lazily; `names` gives host names found by discovery. */
export function* pairTargets(plan: ScanPlan, names: ReadonlyMap<string, string>): Generator<ProbeTarget> {
  // Consecutive pairs often share a host (sequential order): parse its address once.
  let last: ProbeTarget | undefined;
  for (const pair of plan.pairs()) {
    const bytes = last !== undefined && last.address === pair.address ? last.addressBytes : undefined;
    const hostname = pair.hostname ?? names.get(pair.address);
    last = toProbeTarget(hostname === undefined ? pair : { family: pair.family, address: pair.address, hostname }, pair.protocol, pair.port, pair.position, bytes);
    yield last;
  }
}

/** The plan's hosts as probe targets, lazily, numbered in order. */
export function* hostTargets(plan: ScanPlan): Generator<ProbeTarget> {
  let position = 0;
  for (const host of plan.hosts()) yield toProbeTarget(host, 'host', 0, position++);
}

/**
 * Host discovery (nmap's `-sn`): ICMP echo (ICMPv6 echo for IPv6), TCP SYN to
 * 443 and TCP ACK to 80, so hosts that drop ICMP are still found.
 *
 * @module
 */
import { Resolver } from 'node:dns/promises';
import { createDiscoveryModule, type DiscoveryProbes } from './discovery-probe.js';
import type { HostEvent, ScanEvent } from './events.js';
import { runHostScan } from './probe-scan.js';
import type { ScanOptions } from './scan-options.js';

/** Options of {@link discoverHosts}. */
export interface DiscoveryOptions extends ScanOptions {
  /** Which probes to send. Default: ICMP echo, TCP SYN to 443, TCP ACK to 80. */
  readonly probes?: DiscoveryProbes;
  /** Look up the PTR name of every host found up (`reverseName` on the event). Default false. */
  readonly reverseDns?: boolean;
  /** Milliseconds a reverse lookup may take. Default 2000. */
  readonly reverseDnsTimeout?: number;
}

async function withReverseName(event: HostEvent, resolver: Resolver): Promise<HostEvent> {
  try {
    const names = await resolver.reverse(event.address);
    const name = names[0];
    return name === undefined ? event : { ...event, reverseName: name };
  } catch {
    return event;
  }
}

/**
 * Finds which targets are up. Needs raw sockets (root or CAP_NET_RAW).
 *
 * @example
 * ```ts
 * for await (const event of discoverHosts({ targets: '198.18.1.0/24' })) {
 *   if (event.type === 'host' && event.status === 'up') console.log(event.address, event.reason);
 * }
 * ```
 */
export async function* discoverHosts(options: DiscoveryOptions): AsyncGenerator<ScanEvent, void, undefined> {
  const resolver = options.reverseDns ? new Resolver({ timeout: options.reverseDnsTimeout ?? 2000, tries: 1 }) : undefined;
  try {
    for await (const event of runHostScan(options, createDiscoveryModule(options.probes))) {
      if (resolver && event.type === 'host' && event.status === 'up') yield await withReverseName(event, resolver);
      else yield event;
    }
  } finally {
    resolver?.cancel();
  }
}

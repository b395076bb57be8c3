/**
 * Reverse DNS for the hosts a scan finds up (nmap does it by default; here
 * it is asked for with `reverseDns: true`).
 *
 * @module
 */
import { Resolver } from 'node:dns/promises';
import { PortscoutError } from '../errors.js';
import type { HostEvent, ScanEvent } from './events.js';
import type { ScanOptions } from './scan-options.js';

async function withReverseName(event: HostEvent, resolver: Resolver): Promise<HostEvent> {
  try {
    const names = await resolver.reverse(event.address);
    const name = names[0];
    return name === undefined ? event : { ...event, reverseName: name };
  } catch {
    return event;
  }
}

function resolverFor(options: ScanOptions): Resolver {
  const timeout = options.reverseDnsTimeout ?? 2000;
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Option reverseDnsTimeout must be a number of milliseconds > 0; got ${String(options.reverseDnsTimeout)}.`);
  }
  const resolver = new Resolver({ timeout: Math.round(timeout), tries: 1 });
  if (options.dnsServers !== undefined) {
    try {
      resolver.setServers([...options.dnsServers]);
    } catch (error) {
      throw new PortscoutError(
        'ERR_INVALID_OPTION',
        `Option dnsServers must list IP addresses (optionally with :port, or [IPv6]:port); got ${JSON.stringify(options.dnsServers)}: ${(error as Error).message}`,
      );
    }
  }
  return resolver;
}

async function* lookUpNames(events: AsyncGenerator<ScanEvent, void, undefined>, options: ScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  let resolver: Resolver | undefined;
  try {
    resolver = resolverFor(options);
    for await (const event of events) {
      if (event.type === 'host' && event.status === 'up') yield await withReverseName(event, resolver);
      else yield event;
    }
  } finally {
    resolver?.cancel();
    // Bad options are thrown before the scan starts: end it (it holds nothing yet).
    await events.return();
  }
}

/**
 * The scan's events with `reverseName` on each `host` event whose host is up
 * and has a PTR name, when `options.reverseDns` asks for it; otherwise the
 * events themselves (no generator layer added). A failed or slow lookup
 * (`reverseDnsTimeout`, default 2000 ms) leaves the name out. A bad
 * `reverseDnsTimeout` or `dnsServers` is an `ERR_INVALID_OPTION` on the first read.
 */
export function withReverseNames(events: AsyncGenerator<ScanEvent, void, undefined>, options: ScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  return options.reverseDns ? lookUpNames(events, options) : events;
}

/**
 * Reverse DNS for the hosts a scan finds up (nmap does it by default; here
 * it is asked for with `reverseDns: true`).
 *
 * @module
 */
import { Resolver } from 'node:dns/promises';
import { PortscoutError } from '../errors.js';
import { unlessAborted } from '../transport/abort-signal.js';
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

/**
 * Throws `ERR_INVALID_OPTION` for a bad `reverseDnsTimeout` or `dnsServers`
 * (checked before the scan's first packet, whether lookups happen or not).
 */
export function checkReverseDnsOptions(options: ScanOptions): void {
  resolverFor(options).cancel();
}

/** Lookups in flight at once; events behind one wait for it, so the order is kept. */
const LOOKUPS_IN_FLIGHT = 16;

interface Pending {
  readonly result: Promise<ScanEvent>;
  settled: ScanEvent | undefined;
}

async function* lookUpNames(events: AsyncIterableIterator<ScanEvent>, options: ScanOptions): AsyncGenerator<ScanEvent, void, undefined> {
  let resolver: Resolver | undefined;
  try {
    resolver = resolverFor(options);
    const lookups = resolver;
    // Events in scan order; a host found up waits for its name (withReverseName never rejects).
    const pending: Pending[] = [];
    const add = (event: ScanEvent): void => {
      if (event.type !== 'host' || event.status !== 'up') {
        pending.push({ result: Promise.resolve(event), settled: event });
        return;
      }
      const entry: Pending = { result: withReverseName(event, lookups), settled: undefined };
      void entry.result.then((named) => (entry.settled = named));
      pending.push(entry);
    };
    for await (const event of events) {
      add(event);
      // Hand on what is ready at the head; wait only when too many lookups are out.
      while (pending.length > 0) {
        const head = pending[0] as Pending;
        if (head.settled === undefined && pending.length < LOOKUPS_IN_FLIGHT) break;
        const ready = head.settled ?? (await unlessAborted(head.result, options.signal));
        pending.shift();
        yield ready;
      }
    }
    while (pending.length > 0) {
      const head = pending.shift() as Pending;
      yield head.settled ?? (await unlessAborted(head.result, options.signal));
    }
  } finally {
    resolver?.cancel();
    // Bad options are thrown before the scan starts: end it (it holds nothing yet).
    await events.return?.();
  }
}

/**
 * The scan's events with `reverseName` on each `host` event whose host is up
 * and has a PTR name, when `options.reverseDns` asks for it; otherwise the
 * events themselves (no generator layer added). Up to 16 lookups run at
 * once and events keep their order. A failed or slow lookup
 * (`reverseDnsTimeout`, default 2000 ms) leaves the name out; an abort
 * stops the wait for one at once. A bad
 * `reverseDnsTimeout` or `dnsServers` is an `ERR_INVALID_OPTION` (thrown when the scan is made).
 */
export function withReverseNames(events: AsyncIterableIterator<ScanEvent>, options: ScanOptions): AsyncIterableIterator<ScanEvent> {
  return options.reverseDns ? lookUpNames(events, options) : events;
}

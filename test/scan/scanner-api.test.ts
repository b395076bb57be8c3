/**
 * The scanners through the public entry point, without root: fault paths that
 * must answer before any packet, and the TCP connect scan on loopback (real
 * sockets on 127.0.0.1, nothing else).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverHosts, tcpConnectScan, tcpFlagScan, tcpSynScan, udpScan, type HostResolver, type PortEvent, type ScanEvent } from '../../src/index.js';
import { useLoopbackPorts } from '../support/loopback-ports.js';

const LOOPBACK = '127.0.0.1';

async function collect(events: AsyncIterable<ScanEvent>): Promise<ScanEvent[]> {
  const out: ScanEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Sockets and timers that keep the process alive. */
function liveHandles(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP' || r === 'UDPWrap').length,
    timers: info.filter((r) => r === 'Timeout').length,
  };
}

/**
 * No socket is left, and no timer beyond those there before (vitest's own
 * test timer comes and goes, so timers are compared with at most the count before).
 */
function expectReleased(before: { sockets: number; timers: number }): void {
  const after = liveHandles();
  expect(after.sockets).toBe(before.sockets);
  expect(after.timers).toBeLessThanOrEqual(before.timers);
}

async function settled(): Promise<void> {
  // Destroyed sockets close their handles on a later turn of the event loop: wait until the count holds still.
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const handles = liveHandles();
    const now = handles.sockets * 1000 + handles.timers;
    if (now === last) return;
    last = now;
  }
}

const notFound: HostResolver = async (name) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

describe('every scanner, before any packet', () => {
  const scanners = {
    discoverHosts: (signal: AbortSignal) => discoverHosts({ targets: LOOPBACK, signal }),
    tcpConnectScan: (signal: AbortSignal) => tcpConnectScan({ targets: LOOPBACK, ports: '1-100', signal }),
    tcpSynScan: (signal: AbortSignal) => tcpSynScan({ targets: LOOPBACK, ports: '1-100', signal }),
    tcpFlagScan: (signal: AbortSignal) => tcpFlagScan({ targets: LOOPBACK, ports: '1-100', scan: 'fin', signal }),
    udpScan: (signal: AbortSignal) => udpScan({ targets: LOOPBACK, ports: '53', signal }),
  };

  for (const [name, start] of Object.entries(scanners)) {
    it(`${name} throws an already-aborted signal's reason at once and opens nothing`, async () => {
      const before = liveHandles();
      const controller = new AbortController();
      controller.abort();
      await expect(start(controller.signal)[Symbol.asyncIterator]().next()).rejects.toMatchObject({ name: 'AbortError' });
      await settled();
      expectReleased(before);
    });
  }

  for (const [name, start] of Object.entries(scanners)) {
    it(`${name} with reverseDns: an already-aborted signal and bad DNS options are errors before any packet`, async () => {
      const controller = new AbortController();
      controller.abort();
      // Bad options throw at the call, an aborted signal on the first read: both before any packet.
      const scan = async (extra: Record<string, unknown>) =>
        (name === 'discoverHosts'
          ? discoverHosts({ targets: LOOPBACK, reverseDns: true, ...extra })
          : name === 'tcpConnectScan'
            ? tcpConnectScan({ targets: LOOPBACK, ports: '1', reverseDns: true, ...extra })
            : name === 'tcpSynScan'
              ? tcpSynScan({ targets: LOOPBACK, ports: '1', reverseDns: true, ...extra })
              : name === 'tcpFlagScan'
                ? tcpFlagScan({ targets: LOOPBACK, ports: '1', scan: 'fin', reverseDns: true, ...extra })
                : udpScan({ targets: LOOPBACK, ports: '53', reverseDns: true, ...extra }))[Symbol.asyncIterator]().next();
      await expect(scan({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(scan({ dnsServers: ['not an address'] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('dnsServers') });
      await expect(scan({ reverseDnsTimeout: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('reverseDnsTimeout') });
    });
  }

  it('every scanner reports a missing options object at the call, as an option error (not a TypeError)', () => {
    const calls = [discoverHosts, tcpConnectScan, tcpSynScan, tcpFlagScan, udpScan] as ((options: never) => AsyncGenerator<ScanEvent>)[];
    for (const scanner of calls) {
      expect(() => scanner(undefined as never), scanner.name).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('options object') }));
    }
  });

  it('port exclusions that remove every port are an ERR_INVALID_PORTS error quoting both lists', async () => {
    for (const scan of [
      () => tcpConnectScan({ targets: LOOPBACK, ports: '20-25', excludePorts: '1-100' }),
      () => tcpSynScan({ targets: LOOPBACK, ports: '20-25', excludePorts: '1-100' }),
      () => udpScan({ targets: LOOPBACK, ports: '53', excludePorts: 'U:53', skipDiscovery: true }),
    ]) {
      const error = await (async () => collect(scan()))().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_INVALID_PORTS' });
      expect((error as Error).message).toMatch(/port exclusions "(1-100|U:53)" remove every port of "(20-25|53)"/);
    }
  });

  it('an abort while the consumer reads the planning warnings stops the scan', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const event of tcpConnectScan({ targets: ['nowhere.test', LOOPBACK], ports: '1-3000', resolve: notFound, skipDiscovery: true, signal: controller.signal })) {
        seen.push(event.type);
        if (event.type === 'warning') controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual(['start', 'warning']);
  });

  it('a host name that does not resolve is a warning event, and the scan goes on without it', async () => {
    const events = await collect(tcpConnectScan({ targets: ['nowhere.test'], ports: '22', resolve: notFound }));
    expect(events.map((e) => e.type)).toEqual(['start', 'warning', 'done']);
    expect(events[1]).toMatchObject({ type: 'warning', code: 'UNRESOLVED_HOST', target: 'nowhere.test' });
    expect((events[1] as { message: string }).message).toContain('ENOTFOUND');
    const done = events[2];
    expect(done?.type === 'done' && done.stats.sent).toBe(0);
  });
});

describe('tcpConnectScan on loopback', () => {
  const loopback = useLoopbackPorts();

  it('reports open (syn-ack) and closed (conn-refused) with method connect, then done', async () => {
    const events = await collect(tcpConnectScan({ targets: LOOPBACK, ports: `${loopback.open},${loopback.closed}`, timing: 'T4', skipDiscovery: true }));
    const ports = events.filter((e): e is PortEvent => e.type === 'port').map((e) => `${e.port} ${e.state} ${e.reason} ${e.method}`);
    expect(ports.sort()).toEqual([`${loopback.open} open syn-ack connect`, `${loopback.closed} closed conn-refused connect`].sort());
    expect(events.at(-1)).toMatchObject({ type: 'done', stats: { sent: 2, received: 2, portsReported: 2 } });
  });

  it('pings the host first (a connection to 80 and 443: a refusal is an answer), then scans its ports', async () => {
    const events = await collect(tcpConnectScan({ targets: LOOPBACK, ports: `${loopback.open}`, timing: 'T4' }));
    expect(events.map((e) => e.type)).toEqual(['start', 'host', 'port', 'done']);
    expect(events[1]).toMatchObject({ type: 'host', address: LOOPBACK, status: 'up', method: 'tcp-connect-ping' });
    expect(['syn-ack', 'conn-refused']).toContain((events[1] as { reason: string }).reason);
    expect(events[2]).toMatchObject({ port: loopback.open, state: 'open', method: 'connect' });
    expect(events[3]).toMatchObject({ type: 'done', stats: { hostsUp: 1, portsReported: 1 } });
  });

  it('waits the scan delay between connections (nmap --scan-delay) and sends one at a time under T2', async () => {
    const events = await collect(
      tcpConnectScan({ targets: LOOPBACK, ports: `${loopback.open},${loopback.closed}`, timing: 'T2', timingOverrides: { scanDelayMs: 150 }, skipDiscovery: true }),
    );
    const done = events.at(-1);
    expect(done?.type === 'done' && done.stats.portsReported).toBe(2);
    // Two connections, the second one at least one delay after the first.
    expect(done?.type === 'done' && done.stats.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('skips the rest of a host when its host timeout runs out, with one HOST_TIMEOUT warning', async () => {
    const events = await collect(tcpConnectScan({ targets: LOOPBACK, ports: '1-65535', skipDiscovery: true, hostTimeout: 20, workers: 0, maxInFlight: 8 }));
    const warnings = events.filter((e) => e.type === 'warning');
    expect(warnings).toEqual([expect.objectContaining({ code: 'HOST_TIMEOUT', target: LOOPBACK })]);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    // Some ports were scanned before the time ran out, far from all of them.
    const reported = done?.type === 'done' ? done.stats.portsReported : 0;
    expect(reported).toBeGreaterThan(0);
    expect(reported).toBeLessThan(65535);
  });

  it('with discovery, shards split the port phase: together they scan every pair exactly once', async () => {
    const scanned: string[] = [];
    for (const index of [0, 1]) {
      const events = await collect(tcpConnectScan({ targets: '127.0.0.1-2', ports: `${loopback.open},${loopback.closed}`, shard: { index, count: 2 }, workers: 0 }));
      // Every shard pings every target.
      expect(events.filter((e) => e.type === 'host').map((e) => (e as { address: string }).address).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
      for (const e of events) if (e.type === 'port') scanned.push(`${e.address}:${e.port}`);
    }
    expect(scanned.sort()).toEqual([`127.0.0.1:${loopback.open}`, `127.0.0.1:${loopback.closed}`, `127.0.0.2:${loopback.open}`, `127.0.0.2:${loopback.closed}`].sort());
  });

  it('drops the excluded ports', async () => {
    const events = await collect(tcpConnectScan({ targets: LOOPBACK, ports: `${loopback.open},${loopback.closed}`, excludePorts: String(loopback.closed), skipDiscovery: true }));
    expect(events.filter((e): e is PortEvent => e.type === 'port').map((e) => e.port)).toEqual([loopback.open]);
  });

  it('closes every socket and timer when the consumer breaks out of the loop', async () => {
    await settled();
    const before = liveHandles();
    let seen = 0;
    // On this thread (workers: 0), where the sockets can be counted; worker threads are covered by connect-attempts.test.ts.
    for await (const event of tcpConnectScan({ targets: LOOPBACK, ports: '1-65535', maxInFlight: 256, workers: 0 })) {
      if (event.type === 'port' && ++seen === 5) break;
    }
    await settled();
    expectReleased(before);
  });

  it('a throw() into the scan rejects with that error and closes everything, as a generator would', async () => {
    await settled();
    const before = liveHandles();
    const scan = tcpConnectScan({ targets: LOOPBACK, ports: '1-65535', maxInFlight: 256, workers: 0 });
    expect((await scan.next()).done).toBe(false);
    const stop = new Error('consumer gave up');
    await expect(scan.throw(stop)).rejects.toBe(stop);
    expect(await scan.next()).toEqual({ done: true, value: undefined });
    await settled();
    expectReleased(before);
  });

  it('rejects with the abort reason and closes everything when aborted mid-scan', async () => {
    await settled();
    const before = liveHandles();
    const controller = new AbortController();
    let seen = 0;
    const run = (async () => {
      for await (const event of tcpConnectScan({ targets: LOOPBACK, ports: '1-65535', signal: controller.signal, workers: 0 })) {
        if (event.type === 'port' && ++seen === 5) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await settled();
    expectReleased(before);
  });
});

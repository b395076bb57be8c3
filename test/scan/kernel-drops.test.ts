/**
 * Fault 2 of the misuse issue, the safety net: replies the scanner's own
 * kernel dropped (a full raw receive queue) prove nothing about the target.
 * The fake network's kernel drops the first answer to every probe and counts
 * it, as the drops column of /proc/net/raw does. With no retries allowed, a
 * scan that took the silence as an answer would report every port filtered;
 * the engine sends such probes again without counting an attempt, counts the
 * drops in `kernelDrops`, and warns once.
 */
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/scan.js';
import type { ScanRequest } from '../../src/scan/techniques.js';
import type { DoneEvent, PortEvent, ScanEvent } from '../../src/scan/events.js';
import { KernelDropCounter } from '../../src/transport/kernel-drops.js';
import { createFakeNetwork, type FakeNetworkOptions } from './fake-network.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };
const FAST = { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 0 } as const;
const PORTS: FakeNetworkOptions['ports'] = { 22: 'open', 80: 'open', 81: 'drop' };

async function run(network: FakeNetworkOptions): Promise<ScanEvent[]> {
  const fake = createFakeNetwork(network);
  const events: ScanEvent[] = [];
  const request = { technique: 'syn', targets: TARGET, ports: '20-90', skipDiscovery: true, timingOverrides: FAST } as ScanRequest;
  for await (const event of runScan(request, { acquire: fake.acquire, sources })) events.push(event);
  return events;
}

const states = (events: ScanEvent[]): Record<number, string> =>
  Object.fromEntries(events.filter((e): e is PortEvent => e.type === 'port').map((e) => [e.port, `${e.state}/${e.reason}`]));

describe('replies the kernel dropped', () => {
  it('are not silence: the probes go again without counting an attempt, the drops are counted, one warning', async () => {
    const truth = states(await run({ ports: PORTS }));
    expect(truth[22]).toBe('open/syn-ack');
    expect(truth[23]).toBe('closed/reset');
    expect(truth[81]).toBe('filtered/no-response');
    const events = await run({ ports: PORTS, kernelDropFirst: 1 });
    expect(states(events)).toEqual(truth);
    const done = events.at(-1) as DoneEvent;
    expect(done.stats.kernelDrops).toBe(71); // one per port (the fake counts the silent 81 too)
    expect(events.filter((e) => e.type === 'warning' && e.code === 'KERNEL_DROPS')).toHaveLength(1);
  });

  it('a probe whose answers the kernel keeps dropping ends after three free tries (no endless loop)', async () => {
    const events = await run({ ports: PORTS, kernelDropFirst: 10 });
    const all = Object.values(states(events));
    expect(all).toHaveLength(71);
    expect(all.every((s) => s === 'filtered/no-response')).toBe(true);
    expect((events.at(-1) as DoneEvent).stats.kernelDrops).toBe(71 * 4);
  });
});

describe('KernelDropCounter', () => {
  it('reads this namespace\'s /proc/net/raw (0 drops with no raw socket of its own)', () => {
    const counter = new KernelDropCounter();
    try {
      expect(counter.available).toBe(process.platform === 'linux');
      counter.adoptSockets();
      expect(counter.read()).toBe(0);
    } finally {
      counter.close();
    }
  });
});

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('KernelDropCounter on a real raw socket (root, loopback only)', () => {
  it('counts the drops of a raw socket that does not read, as /proc/net/raw shows them', async () => {
    const { loadRawSocket } = await import('../../src/transport/raw-socket-loader.js');
    const { buildIcmpv4Message } = await import('../../src/wire/icmpv4.js');
    const raw = loadRawSocket();
    const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 });
    const counter = new KernelDropCounter();
    try {
      socket.pauseRecv();
      // The smallest receive buffer the kernel allows: a few packets fill it.
      socket.setOption(1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, 1);
      counter.adoptSockets();
      const before = counter.read();
      const echo = buildIcmpv4Message({ kind: 'echo-request', identifier: 0x7a7a, sequence: 1, data: new Uint8Array(56) });
      // Echo requests to loopback: the socket hears each request and each reply, and reads none.
      for (let i = 0; i < 200; i++) await new Promise<void>((resolve) => socket.send(echo, 0, echo.length, '127.0.0.1', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const drops = counter.read() - before;
      expect(drops).toBeGreaterThan(100);
      console.log(`[kernel-drops] a raw socket that did not read: ${drops} drops counted from /proc/net/raw`);
    } finally {
      socket.close();
      counter.close();
    }
  });
});

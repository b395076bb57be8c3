/**
 * Hostile replies decide nothing: a reply with a bad checksum, a UDP datagram
 * from a neighbouring port, an ICMP error quoting a probe we never sent, a
 * reset that acknowledges the wrong number and truncated junk are counted as
 * malformed or invalid, the probe goes on as if they had never come, and junk
 * does not slow the scan down. All on the fake network, whose answers carry
 * real checksums over the reply's pseudo-header.
 */
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/scan.js';
import type { ScanRequest } from '../../src/scan/techniques.js';
import type { DoneEvent, PortEvent, ScanEvent } from '../../src/scan/events.js';
import { createFakeNetwork, type FakeNetworkOptions } from './fake-network.js';
import { replyChecksumValid } from '../../src/scan/reply-checksum.js';
import type { RawReply } from '../../src/transport/packet-listener.js';
import { IpProtocol, TcpFlags, buildTcpSegment, foldChecksum, pseudoHeaderSum } from '../../src/wire/index.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };
const FAST = { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 1 } as const;

async function run(request: Omit<ScanRequest, 'targets' | 'skipDiscovery'>, network: FakeNetworkOptions): Promise<{ ports: Map<number, PortEvent>; done: DoneEvent; ms: number }> {
  const fake = createFakeNetwork(network);
  const started = performance.now();
  const events: ScanEvent[] = [];
  for await (const event of runScan({ targets: TARGET, skipDiscovery: true, timingOverrides: FAST, ...request }, { acquire: fake.acquire, sources })) events.push(event);
  const ports = new Map<number, PortEvent>();
  for (const event of events) if (event.type === 'port') ports.set(event.port, event);
  const done = events.at(-1) as DoneEvent;
  expect(done.type).toBe('done');
  return { ports, done, ms: performance.now() - started };
}

function portBehaviours(count: number, behaviour: (port: number) => FakeNetworkOptions['ports'][number]): FakeNetworkOptions['ports'] {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [i + 1, behaviour(i + 1)]));
}

describe('hostile replies', () => {
  it('a SYN-ACK with the right acknowledgment but a bad TCP checksum is not open', async () => {
    const { ports, done } = await run({ technique: 'syn', ports: '1-100' }, { ports: portBehaviours(100, () => 'open'), corrupt: true });
    expect(ports.size).toBe(100);
    for (const event of ports.values()) expect(`${event.state}/${event.reason}`).toBe('filtered/no-response');
    // Every attempt's answer was counted: 100 ports, two attempts each.
    expect(done.stats.malformed).toBe(200);
  });

  it('an ICMP port unreachable with a bad ICMP checksum is not closed', async () => {
    const { ports, done } = await run({ technique: 'udp', ports: 'U:1-100' }, { ports: portBehaviours(100, () => 'port-unreach'), corrupt: true });
    expect(ports.size).toBe(100);
    for (const event of ports.values()) expect(`${event.state}/${event.reason}`).toBe('open|filtered/no-response');
    expect(done.stats.malformed).toBeGreaterThanOrEqual(100);
  });

  it('a UDP datagram with a bad checksum is not an answer', async () => {
    const { ports } = await run({ technique: 'udp', ports: 'U:1-50' }, { ports: portBehaviours(50, () => 'udp-reply'), corrupt: true });
    for (const event of ports.values()) expect(event.state).toBe('open|filtered');
  });

  it('junk of every kind alongside real answers changes no state (TCP and UDP)', async () => {
    const tcp = portBehaviours(300, (port) => (port % 10 === 0 ? 'open' : port % 7 === 0 ? 'drop' : 'closed'));
    const udp = portBehaviours(300, (port) => (port % 10 === 0 ? 'udp-reply' : port % 7 === 0 ? 'drop' : 'port-unreach'));
    for (const [technique, ports, behaviour] of [
      ['syn', '1-300', tcp],
      ['udp', 'U:1-300', udp],
    ] as const) {
      const clean = await run({ technique, ports }, { ports: behaviour });
      const hostile = await run({ technique, ports }, { ports: behaviour, junk: 10 });
      const statesOf = (m: Map<number, PortEvent>) => [...m.values()].map((e) => `${e.port} ${e.state} ${e.reason}`).sort();
      expect(statesOf(hostile.ports), technique).toEqual(statesOf(clean.ports));
      expect(hostile.done.stats.malformed + hostile.done.stats.invalid, technique).toBeGreaterThan(0);
    }
  });

  it('a UDP reply from the next port to a probe source port never passes as that port’s answer', async () => {
    // Every port answers from port + 1 (junk kind 1) and is otherwise silent.
    const behaviour = portBehaviours(1000, () => 'drop');
    const network = createFakeNetwork({ ports: behaviour });
    // Silence gets no junk, so answer each probe by hand with a datagram from the next port.
    const original = network.acquire;
    // A second network where every port answers: it sends the datagram from port + 1.
    const nextPort = createFakeNetwork({ ports: portBehaviours(1001, () => 'udp-reply') });
    const acquire: typeof original = (protocols, sink) => {
      const lease = original(protocols, sink);
      const answerer = nextPort.acquire(protocols, sink);
      return {
        ...lease,
        release() {
          answerer.release();
          lease.release();
        },
        send(family, protocol, packet, address, done) {
          lease.send(family, protocol, packet, address, done);
          const copy = packet.slice();
          const next = (((copy[22] as number) << 8) | (copy[23] as number)) + 1;
          // The probe as if it had gone to port + 1, so the reply comes from there to our probe's source port.
          copy[22] = (next >> 8) & 0xff;
          copy[23] = next & 0xff;
          answerer.send(family, protocol, copy, address, () => undefined);
        },
      };
    };
    const events: ScanEvent[] = [];
    for await (const event of runScan({ technique: 'udp', targets: TARGET, ports: 'U:1-1000', skipDiscovery: true, timingOverrides: FAST }, { acquire, sources })) events.push(event);
    const open = events.filter((e): e is PortEvent => e.type === 'port' && e.state === 'open');
    expect(open).toEqual([]);
    const done = events.at(-1) as DoneEvent;
    expect(done.stats.invalid).toBeGreaterThan(0);
  });

  it('junk does not slow a 1,000-port UDP scan beyond its valid answers', async () => {
    const behaviour = portBehaviours(1000, (port) => (port % 10 === 0 ? 'udp-reply' : 'port-unreach'));
    const clean = await run({ technique: 'udp', ports: 'U:1-1000' }, { ports: behaviour });
    const hostile = await run({ technique: 'udp', ports: 'U:1-1000' }, { ports: behaviour, junk: 10 });
    // Generous: the clean run takes well under a second here; junk must not turn it into minutes.
    expect(hostile.ms).toBeLessThan(clean.ms * 4 + 1000);
  });
});

describe('our own probes on loopback', () => {
  it('a scan of this host sees its own probes to ports of its block and counts none of them as invalid', async () => {
    const self = '198.18.0.1';
    const loopSources = { cached: () => self, resolve: async () => self };
    for (const [technique, ports] of [
      ['syn', '39990-40300'],
      ['udp', 'U:39990-40300'],
    ] as const) {
      const network = createFakeNetwork({ ports: {}, loopback: true });
      const events: ScanEvent[] = [];
      for await (const event of runScan({ technique, targets: self, ports, skipDiscovery: true, timingOverrides: FAST }, { acquire: network.acquire, sources: loopSources })) events.push(event);
      const done = events.at(-1) as DoneEvent;
      expect(done.stats.invalid, technique).toBe(0);
      expect(events.filter((e) => e.type === 'port' && e.state !== 'closed'), technique).toEqual([]);
    }
  });
});

describe('reply checksums', () => {
  const remote = new Uint8Array([198, 18, 1, 10]);
  const local = new Uint8Array([198, 18, 0, 1]);
  const segment = buildTcpSegment({ sourcePort: 80, destinationPort: 40_000, sequence: 1, acknowledgment: 2, flags: TcpFlags.SYN | TcpFlags.ACK, window: 1024 }, { source: '198.18.1.10', destination: '198.18.0.1' });
  const reply = (payload: Uint8Array): RawReply => ({ family: 4, protocol: IpProtocol.TCP, source: '198.18.1.10', payload, receivedAt: 0 });

  it('accepts a full checksum and the pseudo-header sum a local sender leaves to offload, and nothing else', () => {
    expect(replyChecksumValid(reply(segment), remote, local)).toBe(true);
    const partial = segment.slice();
    const sum = foldChecksum(pseudoHeaderSum(remote, local, IpProtocol.TCP, partial.length));
    partial[16] = sum >> 8;
    partial[17] = sum & 0xff;
    expect(replyChecksumValid(reply(partial), remote, local)).toBe(true);
    // Every other value of the field is corrupt.
    let accepted = 0;
    for (let value = 0; value <= 0xffff; value++) {
      const copy = segment.slice();
      copy[16] = value >> 8;
      copy[17] = value & 0xff;
      if (replyChecksumValid(reply(copy), remote, local)) accepted++;
    }
    expect(accepted).toBeLessThanOrEqual(4);
    // The same segment claimed by another sender fails.
    expect(replyChecksumValid(reply(segment), new Uint8Array([198, 18, 1, 11]), local)).toBe(false);
  });
});

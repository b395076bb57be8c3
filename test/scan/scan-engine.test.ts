import { describe, expect, it } from 'vitest';
import { ScanEngine } from '../../src/scan/scan-engine.js';
import type { ProbeModule, ProbeTarget } from '../../src/scan/probe-module.js';
import { createRawProber } from '../../src/scan/raw-prober.js';
import { RATE_LIMITED_POLICY, STEADY_POLICY } from '../../src/scan/retry-policy.js';
import { portEvent } from '../../src/scan/event-builders.js';
import { toProbeTarget } from '../../src/scan/probe-targets.js';
import { eventBytes } from '../../src/scan/events.js';
import { createTcpProbeModule } from '../../src/scan/tcp-probe.js';
import { createUdpProbeModule } from '../../src/scan/udp-probe.js';
import { resolveTiming } from '../../src/transport/timing.js';
import type { PortEvent, ScanEvent } from '../../src/scan/events.js';
import { IpProtocol, TcpFlags, buildTcpSegment } from '../../src/wire/index.js';
import { createFakeNetwork, type FakeNetwork, type FakeNetworkOptions } from './fake-network.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };

function targets(protocol: 'tcp' | 'udp', ports: readonly number[], address = TARGET): Iterator<ProbeTarget> {
  return ports.map((port, position) => toProbeTarget({ family: 4, address }, protocol, port, position))[Symbol.iterator]();
}

interface EngineExtra {
  hostTimeoutMs?: number;
  maxRetries?: number;
  queueCapacity?: number;
  signal?: AbortSignal;
  maxInFlight?: number;
  rate?: number;
  /** Probe timeout (initial and minimum). */
  timeoutMs?: number;
}

function engineFor(module: ProbeModule, network: FakeNetwork, extra: EngineExtra = {}): ScanEngine {
  const timeout = extra.timeoutMs;
  const timing = resolveTiming({
    timing: 'T4',
    overrides: {
      initialRttTimeoutMs: timeout ?? 30,
      minRttTimeoutMs: timeout ?? 20,
      maxRttTimeoutMs: Math.max(60, timeout ?? 0),
      maxRetries: extra.maxRetries ?? 2,
      maxScanDelayMs: 200,
      ...(extra.hostTimeoutMs !== undefined ? { hostTimeoutMs: extra.hostTimeoutMs } : {}),
    },
  });
  return new ScanEngine(
    createRawProber(module, { acquire: network.acquire, sources }),
    {
      timing,
      rate: extra.rate ?? Number.POSITIVE_INFINITY,
      maxInFlight: extra.maxInFlight ?? 64,
      queueCapacity: extra.queueCapacity ?? 256,
      signal: extra.signal,
      policy: module.listen.includes('udp') ? RATE_LIMITED_POLICY : STEADY_POLICY,
      phase: 'ports',
      total: 0,
    },
    (target, outcome, rttMs) => portEvent(target, outcome, rttMs, 'syn'),
  );
}

async function collect(engine: ScanEngine, work: Iterator<ProbeTarget>): Promise<ScanEvent[]> {
  const events: ScanEvent[] = [];
  try {
    for await (const event of engine.run(work)) events.push(event);
  } finally {
    engine.stop();
  }
  return events;
}

function states(events: ScanEvent[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const e of events) if (e.type === 'port') out[e.port] = `${e.state}/${e.reason}`;
  return out;
}

function done(events: ScanEvent[]) {
  const last = events.at(-1);
  if (last?.type !== 'done') throw new Error('no done event last');
  return last.stats;
}

const LAB: FakeNetworkOptions['ports'] = { 22: 'open', 23: 'closed', 81: 'drop', 82: 'admin-prohibited' };

describe('scan engine with the raw prober on a fake network', () => {
  it('classifies SYN scan replies: SYN-ACK open, RST closed, silence filtered, ICMP admin-prohibited filtered', async () => {
    const network = createFakeNetwork({ ports: LAB });
    const events = await collect(engineFor(createTcpProbeModule('syn'), network), targets('tcp', [22, 23, 81, 82]));
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 23: 'closed/reset', 81: 'filtered/no-response', 82: 'filtered/admin-prohibited' });
    const open = events.find((e): e is PortEvent => e.type === 'port' && e.port === 22);
    expect(open?.ttl).toBe(64);
    expect(open?.rttMs).toBeGreaterThanOrEqual(0);
    const stats = done(events);
    // 3 answered on the first try; as nmap, while every answer came to a first probe one retry
    // is enough: 81 is sent twice although maxRetries is 2.
    expect(stats.sent).toBe(5);
    expect(stats.retransmitted).toBe(1);
    expect(stats.received).toBe(3);
    expect(stats.portsReported).toBe(4);
    expect(network.released).toBe(true);
  });

  it('sends probes whose sequence numbers and source ports differ per destination port', async () => {
    const network = createFakeNetwork({ ports: LAB });
    await collect(engineFor(createTcpProbeModule('syn'), network), targets('tcp', [22, 23]));
    const [a, b] = network.sent;
    expect(a && b).toBeTruthy();
    // After the 20-byte IPv4 header: the TCP source port is bytes 0-2, the sequence number bytes 4-8.
    const sourcePort = (probe: Uint8Array): number => (probe[20]! << 8) | probe[21]!;
    const sequence = (probe: Uint8Array): string => Buffer.from(probe.subarray(24, 28)).toString('hex');
    expect(sourcePort(a!.bytes)).not.toBe(sourcePort(b!.bytes));
    expect(sequence(a!.bytes)).not.toBe(sequence(b!.bytes));
  });

  it('counts duplicates and forged replies without reporting them', async () => {
    const network = createFakeNetwork({ ports: LAB, copies: 3 });
    const engine = engineFor(createTcpProbeModule('syn'), network);
    // Port 81 stays unanswered, so the scan is still running when the copies of 22's answer arrive.
    const work = targets('tcp', [22, 81]);
    const events: ScanEvent[] = [];
    const run = (async () => {
      for await (const e of engine.run(work)) events.push(e);
    })();
    // A SYN-ACK from the target with a wrong acknowledgment: it must not validate.
    network.deliver({
      family: 4,
      protocol: IpProtocol.TCP,
      source: TARGET,
      ttl: 64,
      receivedAt: performance.now(),
      payload: buildTcpSegment({ sourcePort: 22, destinationPort: 40_000, sequence: 1, acknowledgment: 999, flags: TcpFlags.SYN | TcpFlags.ACK }, { source: TARGET, destination: SOURCE }),
    });
    // A TCP segment cut short after its ports (routed here by its destination port): malformed, dropped.
    network.deliver({ family: 4, protocol: IpProtocol.TCP, source: TARGET, ttl: 64, receivedAt: performance.now(), payload: new Uint8Array([0, 22, 0x9c, 0x40, 1, 2]) });
    await run;
    engine.stop();
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 81: 'filtered/no-response' });
    const stats = done(events);
    expect(stats.duplicates).toBe(2);
    expect(stats.invalid).toBe(1);
    expect(stats.malformed).toBe(1);
    expect(events.filter((e) => e.type === 'port')).toHaveLength(2);
  });

  it('agrees with the lossless result when the first answers are lost (retransmission)', async () => {
    const ports = [22, 23, 81, 82];
    const lossless = states(await collect(engineFor(createTcpProbeModule('syn'), createFakeNetwork({ ports: LAB })), targets('tcp', ports)));
    const lossyNet = createFakeNetwork({ ports: LAB, dropFirst: 1 });
    const lossyEvents = await collect(engineFor(createTcpProbeModule('syn'), lossyNet, { maxRetries: 3 }), targets('tcp', ports));
    expect(states(lossyEvents)).toEqual(lossless);
    // Every first probe is lost; answers to second probes show the path loses packets, so every probe
    // gets all 3 retries: 22, 23 and 82 are sent twice, 81 (dropped) four times.
    expect(done(lossyEvents).retransmitted).toBe(6);
  });

  it('sends the next probe as soon as an answer frees a slot at the in-flight cap, not when a timeout fires', async () => {
    // The native send path reports a send as done inside send(), so only answers can wake a sender at the cap.
    const network = createFakeNetwork({ ports: {}, sendDoneSync: true });
    const ports = Array.from({ length: 40 }, (_, i) => 1000 + i);
    const events = await collect(engineFor(createTcpProbeModule('syn'), network, { maxInFlight: 2, timeoutMs: 5000, maxRetries: 0 }), targets('tcp', ports));
    expect(Object.values(states(events))).toEqual(ports.map(() => 'closed/reset'));
    // Every probe was answered within milliseconds; a sender that waited for a timer would need 20 x 5 s.
    expect(done(events).durationMs).toBeLessThan(5000);
  });

  it('takes a late answer that arrives while the retransmission waits for its turn (no resend, no duplicate)', async () => {
    // The answer comes 50 ms after the probe, past the 20 ms timeout; at 10 packets per second
    // the retransmission cannot leave before 100 ms, so the late answer settles the port.
    const network = createFakeNetwork({ ports: { 22: 'open' }, delayMs: 50 });
    const events = await collect(engineFor(createTcpProbeModule('syn'), network, { timeoutMs: 20, rate: 10 }), targets('tcp', [22]));
    expect(states(events)).toEqual({ 22: 'open/syn-ack' });
    const stats = done(events);
    expect(stats.sent).toBe(1);
    expect(stats.duplicates).toBe(0);
    expect(stats.received).toBe(1);
  });

  it('takes an answer that came in time although the process stalled past its timeout (no silence from a late timer)', async () => {
    // The answer reaches the socket 1 ms after the probe; the process then stalls 300 ms, past the 150 ms timeout.
    // Without retries, reading the timeout first would call the open port filtered.
    // One probe: a second one's answer would wait out the first stall and come late for real.
    const network = createFakeNetwork({ ports: { 80: 'open' }, stall: { afterMs: 1, forMs: 300 } });
    const events = await collect(engineFor(createTcpProbeModule('syn'), network, { maxRetries: 0, timeoutMs: 150 }), targets('tcp', [80]));
    expect(states(events)).toEqual({ 80: 'open/syn-ack' });
    expect(network.released).toBe(true);
  });

  it('gives up on a host when its host timeout runs out: one HOST_TIMEOUT warning, no more probes to it', async () => {
    // Every port drops; a 20 ms timeout and 5 retries would take well over the 50 ms host timeout.
    const network = createFakeNetwork({ ports: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [2000 + i, 'drop'])) });
    const ports = Array.from({ length: 50 }, (_, i) => 2000 + i);
    const events = await collect(engineFor(createTcpProbeModule('syn'), network, { hostTimeoutMs: 50, maxRetries: 5, maxInFlight: 4, timeoutMs: 20 }), targets('tcp', ports));
    expect(events.filter((e) => e.type === 'warning')).toEqual([expect.objectContaining({ code: 'HOST_TIMEOUT', target: TARGET })]);
    expect(network.sent.length).toBeLessThan(ports.length);
    expect(events.at(-1)?.type).toBe('done');
  });

  it('reads ACK, FIN and Window scans as nmap does', async () => {
    // An unexpected ACK gets a RST whose sequence number is the probe's acknowledgment (RFC 793): unfiltered.
    const ack = states(await collect(engineFor(createTcpProbeModule('ack'), createFakeNetwork({ ports: { 81: 'drop' } })), targets('tcp', [22, 23, 81])));
    expect(ack).toEqual({ 22: 'unfiltered/reset', 23: 'unfiltered/reset', 81: 'filtered/no-response' });
    const fin = states(await collect(engineFor(createTcpProbeModule('fin'), createFakeNetwork({ ports: { 22: 'drop', 23: 'closed', 82: 'admin-prohibited' } })), targets('tcp', [22, 23, 82])));
    expect(fin).toEqual({ 22: 'open|filtered/no-response', 23: 'closed/reset', 82: 'filtered/admin-prohibited' });
  });

  it('reads UDP replies: response open, port unreachable closed, silence open|filtered', async () => {
    const network = createFakeNetwork({ ports: { 53: 'udp-reply', 9: 'port-unreach', 162: 'drop', 161: 'admin-prohibited' } });
    const events = await collect(engineFor(createUdpProbeModule(), network), targets('udp', [53, 9, 161, 162]));
    expect(states(events)).toEqual({ 53: 'open/udp-response', 9: 'closed/port-unreach', 161: 'filtered/admin-prohibited', 162: 'open|filtered/no-response' });
    const open = events.find((e): e is PortEvent => e.type === 'port' && e.port === 53);
    expect(new TextDecoder().decode(eventBytes(open!))).toBe('pong');
  });

  it('takes a port unreachable only if the datagram it quotes has our probe\'s length and checksum', async () => {
    const network = createFakeNetwork({ ports: { 9: 'port-unreach', 10: 'port-unreach-altered' } });
    const engine = engineFor(createUdpProbeModule(), network);
    const events = await collect(engine, targets('udp', [9, 10]));
    expect(states(events)).toEqual({ 9: 'closed/port-unreach', 10: 'open|filtered/no-response' });
    const done = events.find((e) => e.type === 'done');
    expect(done && done.type === 'done' ? done.stats.invalid : 0).toBeGreaterThan(0);
  });

  it('slows down for a target that rate-limits ICMP errors, instead of calling closed ports open|filtered', async () => {
    const ports = Array.from({ length: 10 }, (_, i) => 1000 + i);
    const network = createFakeNetwork({ ports: {}, icmpLimit: { burst: 2, refillMs: 40 } });
    const events = await collect(engineFor(createUdpProbeModule(), network, { maxRetries: 6 }), targets('udp', ports));
    const result = states(events);
    for (const port of ports) expect(result[port]).toBe('closed/port-unreach');
    expect(events.some((e) => e.type === 'warning' && e.code === 'RATE_LIMITED')).toBe(true);
  });

  it('applies back-pressure: a consumer that stops pulling stops the sending', async () => {
    const network = createFakeNetwork({ ports: {} });
    const engine = engineFor(createTcpProbeModule('syn'), network, { queueCapacity: 4 });
    const ports = Array.from({ length: 500 }, (_, i) => i + 1);
    const iterator = engine.run(targets('tcp', ports));
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sentWhilePaused = network.sent.length;
    expect(sentWhilePaused).toBeLessThan(100);
    await iterator.return(undefined);
    engine.stop();
    expect(network.released).toBe(true);
  });

  it('releases everything when the consumer breaks out of the loop', async () => {
    const network = createFakeNetwork({ ports: { 22: 'open' } });
    const engine = engineFor(createTcpProbeModule('syn'), network);
    for await (const event of engine.run(targets('tcp', [22, 23, 24, 25]))) {
      if (event.type === 'port') break;
    }
    // No engine.stop() here: leaving the loop alone must release the lease.
    expect(network.released).toBe(true);
  });

  it('throws the abort reason at once for an already-aborted signal, before any probe', async () => {
    const network = createFakeNetwork({ ports: {} });
    const controller = new AbortController();
    controller.abort();
    const engine = engineFor(createTcpProbeModule('syn'), network, { signal: controller.signal });
    await expect(collect(engine, targets('tcp', [22]))).rejects.toMatchObject({ name: 'AbortError' });
    expect(network.sent).toHaveLength(0);
    // Nothing was taken: the listener was never leased.
    expect(network.acquired).toBe(0);
  });

  it('stops sending and rejects with the abort reason when aborted mid-scan', async () => {
    const network = createFakeNetwork({ ports: {}, delayMs: 5 });
    const controller = new AbortController();
    const engine = engineFor(createTcpProbeModule('syn'), network, { signal: controller.signal });
    const ports = Array.from({ length: 2000 }, (_, i) => i + 1);
    const seen: ScanEvent[] = [];
    const run = (async () => {
      for await (const event of engine.run(targets('tcp', ports))) {
        seen.push(event);
        if (seen.length === 3) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    engine.stop();
    const sentAtAbort = network.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(network.sent.length).toBe(sentAtAbort);
    expect(network.released).toBe(true);
  });
});

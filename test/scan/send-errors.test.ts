/**
 * Fault 3 of the misuse issue: a probe that never left proves nothing. The
 * fake network's kernel refuses sends (raw-socket reports them as the C
 * library's error text); such probes are counted by errno, warned about once
 * per errno, sent again after a pause, and if they never leave reported as
 * `unknown` with reason `send-error`, never as silence (`filtered`,
 * `no-response`). A scan none of whose sends left ends with an error.
 */
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/scan.js';
import type { ScanRequest } from '../../src/scan/techniques.js';
import type { DoneEvent, PortEvent, ScanEvent, WarningEvent } from '../../src/scan/events.js';
import { createFakeNetwork, type FakeNetworkOptions } from './fake-network.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };
const FAST = { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 1 } as const;
const PORTS: FakeNetworkOptions['ports'] = { 22: 'open', 23: 'closed', 81: 'drop' };

const SYN: Partial<ScanRequest> = { technique: 'syn', ports: '22,23,81', skipDiscovery: true };

async function run(request: Partial<ScanRequest>, network: FakeNetworkOptions): Promise<{ events: ScanEvent[]; error: unknown; refused: number }> {
  const fake = createFakeNetwork(network);
  const events: ScanEvent[] = [];
  let error: unknown;
  try {
    for await (const event of runScan({ targets: TARGET, timingOverrides: FAST, ...request } as ScanRequest, { acquire: fake.acquire, sources })) events.push(event);
  } catch (e) {
    error = e;
  }
  expect(fake.released).toBe(true);
  return { events, error, refused: fake.refused };
}

const states = (events: ScanEvent[]): Record<number, string> =>
  Object.fromEntries(events.filter((e): e is PortEvent => e.type === 'port').map((e) => [e.port, `${e.state}/${e.reason}`]));
const warnings = (events: ScanEvent[]): WarningEvent[] => events.filter((e): e is WarningEvent => e.type === 'warning');
const doneOf = (events: ScanEvent[]): DoneEvent => events.at(-1) as DoneEvent;

describe('sends the kernel refuses', () => {
  it('transient refusals (the first 3 sends of every probe: ENOBUFS) change no state: the probes leave later', async () => {
    const { events } = await run(SYN, { ports: PORTS, refuse: (_port, count) => (count <= 3 ? 'No buffer space available' : undefined) });
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 23: 'closed/reset', 81: 'filtered/no-response' });
    const done = doneOf(events);
    expect(done.stats.sendErrors).toBe(9);
    // Only the packets that left count as sent: 3 first probes and 81's one retransmission.
    expect(done.stats.sent).toBe(4);
    expect(done.stats.retransmitted).toBe(1);
    expect(warnings(events).map((w) => w.code)).toEqual(['SEND_FAILED']);
    expect(warnings(events)[0]?.message).toContain('ENOBUFS');
  });

  it('a port whose probes never leave is unknown/send-error, not filtered; one warning per errno', async () => {
    const { events } = await run(
      SYN,
      { ports: PORTS, refuse: (port, count) => (port === 81 ? 'Operation not permitted' : port === 23 && count === 1 ? 'Network is down' : undefined) },
    );
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 23: 'closed/reset', 81: 'unknown/send-error' });
    expect(warnings(events).map((w) => w.message.match(/\((E[A-Z]+)/)?.[1]).sort()).toEqual(['ENETDOWN', 'EPERM']);
    expect(doneOf(events).stats.sendErrors).toBe(6 + 1);
  }, 20_000);

  it('a scan none of whose sends left ends with ERR_SEND_FAILED and reports no port', async () => {
    const { events, error } = await run(SYN, { ports: PORTS, refuse: () => 'Operation not permitted' });
    expect(error).toMatchObject({ code: 'ERR_SEND_FAILED', message: expect.stringContaining('EPERM') });
    expect(events.filter((e) => e.type === 'port' && e.state !== 'unknown')).toEqual([]);
    expect(events.some((e) => e.type === 'done')).toBe(false);
  }, 20_000);

  it('a probe still waiting to leave when its time is up is not silence: its timeout runs from when it left', async () => {
    // Each send waits 200 ms in the kernel (a send buffer full of packets waiting for ARP), five of
    // the longest timeouts (40 ms): without departures, every probe timed out twice and 22, 23 were filtered.
    const started = performance.now();
    const { events } = await run(SYN, { ports: PORTS, sendLeavesAfterMs: 200 });
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 23: 'closed/reset', 81: 'filtered/no-response' });
    const done = doneOf(events);
    // 22 and 23 answered their first probe; only 81 was sent again, once it had left and its time ran out.
    expect(done.stats.retransmitted).toBe(1);
    // 81: two attempts, each 200 ms in the kernel plus its timeout.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
  }, 20_000);

  it('a refusal that comes back after the probe\'s time would have run out still makes it a send error', async () => {
    // 81's sends are refused for good (EACCES: a broadcast address), 200 ms after they were handed over.
    const { events } = await run(SYN, { ports: PORTS, sendLeavesAfterMs: 200, refuse: (port) => (port === 81 ? 'Permission denied' : undefined) });
    expect(states(events)).toEqual({ 22: 'open/syn-ack', 23: 'closed/reset', 81: 'unknown/send-error' });
    expect(doneOf(events).stats.retransmitted).toBe(0);
  }, 20_000);

  it('the same for UDP, whose timeouts are walked out of send order', async () => {
    const { events } = await run({ technique: 'udp', ports: '53,54', skipDiscovery: true }, { ports: { 53: 'udp-reply', 54: 'port-unreach' }, sendLeavesAfterMs: 200 });
    expect(states(events)).toEqual({ 53: 'open/udp-response', 54: 'closed/port-unreach' });
    expect(doneOf(events).stats.retransmitted).toBe(0);
  }, 20_000);

  it('discovery: a host whose probes all fail is not called down for silence', async () => {
    const { events } = await run({ technique: 'ping' }, { ports: {}, echo: true, refuse: (port) => (port === 0 ? 'Operation not permitted' : undefined) });
    // The echo request was refused but the TCP probes left: the host answers those (RST), so it is up.
    expect(events.filter((e) => e.type === 'host').map((e) => e.type === 'host' && `${e.status}/${e.reason}`)).toEqual(['up/reset']);
    expect(doneOf(events).stats.sendErrors).toBeGreaterThan(0);
  });
});

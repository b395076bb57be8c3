/**
 * Readings the lab alone used to cover, on the fake network: IPv6 answers
 * (through the real listener's demultiplexer) and their keying next to IPv4,
 * an ICMP error from a router (a third address: `replyFrom`), the Window
 * scan's rule, and host discovery's classification.
 */
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/scan.js';
import type { ScanRequest } from '../../src/scan/techniques.js';
import type { DoneEvent, HostEvent, PortEvent, ScanEvent } from '../../src/scan/events.js';
import type { ProbeTarget } from '../../src/scan/probe-module.js';
import { createFakeNetwork, type FakeNetworkOptions } from './fake-network.js';

const SOURCE4 = '198.18.0.1';
const SOURCE6 = 'fd00::1';
const TARGET4 = '198.18.1.10';
const TARGET6 = 'fd00:1::10';
const ROUTER4 = '198.18.0.254';
const ROUTER6 = 'fd00::fe';
const sourceFor = (target: Pick<ProbeTarget, 'family'>): string => (target.family === 6 ? SOURCE6 : SOURCE4);
const sources = { cached: sourceFor, resolve: async (target: ProbeTarget) => sourceFor(target) };
const FAST = { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 1 } as const;

async function run(request: Omit<ScanRequest, 'timingOverrides'>, network: Omit<FakeNetworkOptions, 'source6'>): Promise<{ events: ScanEvent[]; done: DoneEvent }> {
  const fake = createFakeNetwork({ ...network, source6: SOURCE6 });
  const events: ScanEvent[] = [];
  for await (const event of runScan({ timingOverrides: FAST, ...request }, { acquire: fake.acquire, sources })) events.push(event);
  const done = events.at(-1) as DoneEvent;
  expect(done.type).toBe('done');
  expect(fake.released).toBe(true);
  return { events, done };
}

/** `address port` → `state/reason[ from router]`. */
function readings(events: ScanEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    if (e.type !== 'port') continue;
    const p = e as PortEvent;
    out[`${p.address} ${p.port}`] = `${p.state}/${p.reason}${p.replyFrom ? ` from ${p.replyFrom}` : ''}`;
  }
  return out;
}

function hosts(events: ScanEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    if (e.type !== 'host') continue;
    const h = e as HostEvent;
    out[h.address] = `${h.status}/${h.reason}${h.replyFrom ? ` from ${h.replyFrom}` : ''}`;
  }
  return out;
}

const PORTS: FakeNetworkOptions['ports'] = { 22: 'open', 23: 'closed', 81: 'drop', 82: 'admin-prohibited', 83: 'router-host-unreach' };

describe('readings on the fake network', () => {
  it('SYN scan over IPv6, next to IPv4 in one scan: each family keyed apart, the ICMPv6 codes read as nmap does', async () => {
    const { events, done } = await run({ technique: 'syn', targets: [TARGET4, TARGET6], ports: '22,23,81-83', skipDiscovery: true }, { ports: PORTS });
    expect(readings(events)).toEqual({
      [`${TARGET4} 22`]: 'open/syn-ack',
      [`${TARGET4} 23`]: 'closed/reset',
      [`${TARGET4} 81`]: 'filtered/no-response',
      [`${TARGET4} 82`]: 'filtered/admin-prohibited',
      [`${TARGET4} 83`]: `filtered/host-unreach from ${ROUTER4}`,
      [`${TARGET6} 22`]: 'open/syn-ack',
      [`${TARGET6} 23`]: 'closed/reset',
      [`${TARGET6} 81`]: 'filtered/no-response',
      [`${TARGET6} 82`]: 'filtered/admin-prohibited',
      [`${TARGET6} 83`]: `filtered/host-unreach from ${ROUTER6}`,
    });
    // Every answer validated (IPv6 checksums over the pseudo-header included): none invalid, none malformed.
    expect(done.stats).toMatchObject({ invalid: 0, malformed: 0, duplicates: 0 });
  });

  it('UDP scan over IPv6: a reply is open, port-unreachable closed, silence open|filtered, a router filtered', async () => {
    const { events, done } = await run(
      { technique: 'udp', targets: TARGET6, ports: 'U:53,54,55,56', skipDiscovery: true },
      { ports: { 53: 'udp-reply', 54: 'port-unreach', 55: 'drop', 56: 'router-host-unreach' } },
    );
    expect(readings(events)).toEqual({
      [`${TARGET6} 53`]: 'open/udp-response',
      [`${TARGET6} 54`]: 'closed/port-unreach',
      [`${TARGET6} 55`]: 'open|filtered/no-response',
      [`${TARGET6} 56`]: `filtered/host-unreach from ${ROUTER6}`,
    });
    expect(done.stats).toMatchObject({ invalid: 0, malformed: 0 });
  });

  it("Window scan: a reset's window tells open from closed (nmap's rule); ACK scan calls both unfiltered", async () => {
    const ports: FakeNetworkOptions['ports'] = { 1: 'closed-window', 2: 'closed', 3: 'drop', 4: 'admin-prohibited' };
    for (const targets of [TARGET4, TARGET6]) {
      const window = await run({ technique: 'window', targets, ports: '1-4', skipDiscovery: true }, { ports });
      expect(readings(window.events), `window ${targets}`).toEqual({
        [`${targets} 1`]: 'open/reset',
        [`${targets} 2`]: 'closed/reset',
        [`${targets} 3`]: 'filtered/no-response',
        [`${targets} 4`]: 'filtered/admin-prohibited',
      });
      const ack = await run({ technique: 'ack', targets, ports: '1-4', skipDiscovery: true }, { ports });
      expect(readings(ack.events), `ack ${targets}`).toEqual({
        [`${targets} 1`]: 'unfiltered/reset',
        [`${targets} 2`]: 'unfiltered/reset',
        [`${targets} 3`]: 'filtered/no-response',
        [`${targets} 4`]: 'filtered/admin-prohibited',
      });
    }
  });

  it('discovery: an echo reply, a TCP answer from a host that drops echo, silence, and a router saying unreachable', async () => {
    const targets = [TARGET4, TARGET6];
    const echo = await run({ technique: 'ping', targets }, { ports: { 80: 'drop', 443: 'drop' }, echo: true });
    expect(hosts(echo.events)).toEqual({ [TARGET4]: 'up/echo-reply', [TARGET6]: 'up/echo-reply' });
    // No echo: the SYN to 443 is answered with a SYN-ACK, the ACK to 80 with a reset.
    const syn = await run({ technique: 'ping', targets }, { ports: { 80: 'drop', 443: 'open' } });
    expect(hosts(syn.events)).toEqual({ [TARGET4]: 'up/syn-ack', [TARGET6]: 'up/syn-ack' });
    const reset = await run({ technique: 'ping', targets }, { ports: { 80: 'closed', 443: 'drop' } });
    expect(hosts(reset.events)).toEqual({ [TARGET4]: 'up/reset', [TARGET6]: 'up/reset' });
    const silent = await run({ technique: 'ping', targets }, { ports: { 80: 'drop', 443: 'drop' } });
    expect(hosts(silent.events)).toEqual({ [TARGET4]: 'down/no-response', [TARGET6]: 'down/no-response' });
    const router = await run({ technique: 'ping', targets }, { ports: { 80: 'router-host-unreach', 443: 'router-host-unreach' } });
    expect(hosts(router.events)).toEqual({ [TARGET4]: `down/host-unreach from ${ROUTER4}`, [TARGET6]: `down/host-unreach from ${ROUTER6}` });
    // The target itself saying port-unreachable to a TCP probe proves it is there.
    const self = await run({ technique: 'ping', targets }, { ports: { 80: 'port-unreach', 443: 'drop' } });
    expect(hosts(self.events)).toEqual({ [TARGET4]: 'up/port-unreach', [TARGET6]: 'up/port-unreach' });
  });

  it('a raw port scan finds hosts first: only the host found up is port-scanned', async () => {
    const { events } = await run({ technique: 'syn', targets: [TARGET4, TARGET6], ports: '22' }, { ports: { 22: 'open', 80: 'drop', 443: 'drop' }, echo: true });
    expect(hosts(events)).toEqual({ [TARGET4]: 'up/echo-reply', [TARGET6]: 'up/echo-reply' });
    expect(readings(events)).toEqual({ [`${TARGET4} 22`]: 'open/syn-ack', [`${TARGET6} 22`]: 'open/syn-ack' });
  });
});

/**
 * Events hold only JSON values: every kind of event a scan yields comes back
 * equal from `JSON.parse(JSON.stringify(event))`, bytes as base64 text.
 */
import { describe, expect, it } from 'vitest';
import { runScan } from '../../src/scan/scan.js';
import { eventBytes, type ScanEvent } from '../../src/scan/events.js';
import type { HostResolver } from '../../src/targets/index.js';
import { createFakeNetwork } from './fake-network.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };

const notFound: HostResolver = async (name) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

/** Whether a value is made of JSON values only (no bytes, bigints, undefined, functions, non-finite numbers). */
function plainJson(value: unknown, path = 'event'): string[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} is ${value}`];
  if (Array.isArray(value)) return value.flatMap((item, i) => plainJson(item, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([key, item]) => (item === undefined ? [`${path}.${key} is undefined`] : plainJson(item, `${path}.${key}`)));
  }
  return [`${path} is a ${typeof value === 'object' ? (value as object).constructor.name : typeof value}`];
}

describe('events are JSON', () => {
  it('every event kind round-trips through JSON.stringify and JSON.parse', async () => {
    const network = createFakeNetwork({ ports: { 53: 'udp-reply', 9: 'port-unreach', 162: 'drop' }, delayMs: 3 });
    const events: ScanEvent[] = [];
    const scan = runScan(
      {
        technique: 'udp',
        targets: [TARGET, 'nowhere.test'],
        resolve: notFound,
        ports: 'U:9,53,162',
        skipDiscovery: true,
        progressInterval: 1,
        timingOverrides: { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 1 },
        order: { random: true, seed: 'json' },
      },
      { acquire: network.acquire, sources },
    );
    for await (const event of scan) events.push(event);
    const kinds = new Set(events.map((e) => e.type));
    expect([...kinds].sort()).toEqual(['done', 'port', 'progress', 'start', 'warning']);
    for (const event of events) {
      expect(plainJson(event), event.type).toEqual([]);
      expect(JSON.parse(JSON.stringify(event)), event.type).toEqual(event);
    }
    const open = events.find((e) => e.type === 'port' && e.port === 53);
    expect(open).toMatchObject({ state: 'open', data: Buffer.from('pong').toString('base64') });
    expect(new TextDecoder().decode(eventBytes(open as Extract<ScanEvent, { type: 'port' }>))).toBe('pong');
  });

  it('host events round-trip too (discovery on the fake network)', async () => {
    const network = createFakeNetwork({ ports: {} });
    const events: ScanEvent[] = [];
    for await (const event of runScan({ technique: 'ping', targets: TARGET }, { acquire: network.acquire, sources })) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['start', 'host', 'done']);
    expect(events[1]).toMatchObject({ type: 'host', status: 'up', reason: 'reset' });
    for (const event of events) expect(JSON.parse(JSON.stringify(event))).toEqual(event);
  });
});

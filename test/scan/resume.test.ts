/**
 * Resume cursors on every scanner: a scan interrupted at a random point (a
 * `break` or an abort) gives a cursor from which a second run probes every
 * other pair exactly once. Raw techniques run on the fake network; the
 * connect scan on loopback.
 */
import { describe, expect, it } from 'vitest';
import { runScan, type Scan } from '../../src/scan/scan.js';
import type { TechniqueName } from '../../src/scan/techniques.js';
import type { ScanRequest } from '../../src/scan/techniques.js';
import type { PortEvent, ScanEvent } from '../../src/scan/events.js';
import type { ScanCursor } from '../../src/targets/index.js';
import { createFakeNetwork, type FakeNetworkOptions } from './fake-network.js';
import { useLoopbackPorts } from '../support/loopback-ports.js';

const SOURCE = '198.18.0.1';
const TARGET = '198.18.1.10';
const sources = { cached: () => SOURCE, resolve: async () => SOURCE };

/** A seeded generator, so a failure names the interruption points that caused it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PORTS = 240;
/** Ports that answer: every tenth open, every seventh dropped (retries are out when the scan is cut), the rest closed. */
const BEHAVIOUR: FakeNetworkOptions['ports'] = Object.fromEntries(
  Array.from({ length: PORTS }, (_, i) => i + 1).map((port) => [port, port % 10 === 0 ? 'open' : port % 7 === 0 ? 'drop' : 'closed']),
);
/** The same for UDP: replies, silence, port unreachable. */
const UDP_BEHAVIOUR: FakeNetworkOptions['ports'] = Object.fromEntries(
  Array.from({ length: PORTS }, (_, i) => i + 1).map((port) => [port, port % 10 === 0 ? 'udp-reply' : port % 7 === 0 ? 'drop' : 'port-unreach']),
);

/** Options that make retries and timeouts short, so a run ends in well under a second. */
const FAST = { initialRttTimeoutMs: 20, minRttTimeoutMs: 10, maxRttTimeoutMs: 40, maxRetries: 1 } as const;

interface Interrupted {
  readonly ports: number[];
  readonly cursor: ScanCursor | undefined;
}

/** Reads `scan` until `stopAfter` port events, then breaks or aborts; returns the ports it got and the cursor. */
async function interrupt(scan: Scan, stopAfter: number, how: 'break' | 'abort', controller: AbortController): Promise<Interrupted> {
  const ports: number[] = [];
  try {
    for await (const event of scan) {
      if (event.type !== 'port') continue;
      ports.push(event.port);
      if (ports.length >= stopAfter) {
        if (how === 'break') break;
        controller.abort();
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
  return { ports, cursor: scan.cursor() };
}

async function rest(scan: Scan): Promise<{ ports: number[]; events: ScanEvent[] }> {
  const events: ScanEvent[] = [];
  for await (const event of scan) events.push(event);
  return { ports: events.filter((e): e is PortEvent => e.type === 'port').map((e) => e.port), events };
}

function expectEveryPortOnce(first: readonly number[], second: readonly number[], total: number, label: string): void {
  const all = [...first, ...second].sort((a, b) => a - b);
  expect(all, label).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

const RAW_TECHNIQUES: TechniqueName[] = ['syn', 'ack', 'fin', 'null', 'xmas', 'maimon', 'window', 'custom', 'udp'];

describe('resume cursors: every pair exactly once after an interruption', () => {
  for (const technique of RAW_TECHNIQUES) {
    it(`${technique}: break and abort at random points, then resume`, async () => {
      const next = random(technique.length * 7919);
      let skipped = 0;
      for (let trial = 0; trial < 6; trial++) {
        const how = trial % 2 === 0 ? 'break' : 'abort';
        const order = trial < 3 ? ('sequential' as const) : { random: true as const, seed: trial };
        const base: ScanRequest = {
          technique,
          targets: TARGET,
          ports: `${technique === 'udp' ? 'U:' : ''}1-${PORTS}`,
          skipDiscovery: true,
          order,
          timingOverrides: FAST,
          maxInFlight: 32,
          ...(technique === 'custom' ? { flags: 0x02 } : {}),
        };
        const ports = technique === 'udp' ? UDP_BEHAVIOUR : BEHAVIOUR;
        const network = createFakeNetwork({ ports });
        const stopAfter = 1 + Math.floor(next() * (PORTS - 1));
        const controller = new AbortController();
        const first = await interrupt(runScan({ ...base, signal: controller.signal }, { acquire: network.acquire, sources }), stopAfter, how, controller);
        const label = `${technique} trial ${trial} (${how} after ${stopAfter})`;
        expect(first.cursor, label).toBeDefined();
        if (first.cursor?.skip !== undefined) skipped++;
        // The cursor is JSON: save and load it as a resume file would.
        const cursor = JSON.parse(JSON.stringify(first.cursor)) as ScanCursor;
        const second = await rest(runScan({ ...base, resume: cursor }, { acquire: createFakeNetwork({ ports }).acquire, sources }));
        expectEveryPortOnce(first.ports, second.ports, PORTS, label);
        expect(second.events[0], label).toMatchObject({ type: 'start', pairs: PORTS - first.ports.length, resumedFrom: cursor });
      }
      // Results arrive in completion order: some cursors must have skipped pairs done ahead of their position.
      expect(skipped).toBeGreaterThan(0);
    });
  }

  it('the done event carries a cursor from which a resumed scan probes nothing', async () => {
    const base: ScanRequest = { technique: 'syn', targets: TARGET, ports: '1-50', skipDiscovery: true, timingOverrides: FAST };
    const whole = await rest(runScan(base, { acquire: createFakeNetwork({ ports: BEHAVIOUR }).acquire, sources }));
    const done = whole.events.at(-1);
    expect(done).toMatchObject({ type: 'done', cursor: { position: 50 } });
    const network = createFakeNetwork({ ports: BEHAVIOUR });
    const again = await rest(runScan({ ...base, resume: (done as { cursor: ScanCursor }).cursor }, { acquire: network.acquire, sources }));
    expect(again.ports).toEqual([]);
    expect(network.sent).toHaveLength(0);
  });

  it('progress events carry the fraction done and a safe cursor', async () => {
    const base: ScanRequest = { technique: 'syn', targets: TARGET, ports: `1-${PORTS}`, skipDiscovery: true, timingOverrides: FAST, maxInFlight: 8, progressInterval: 5 };
    const network = createFakeNetwork({ ports: BEHAVIOUR, delayMs: 3 });
    const { events } = await rest(runScan(base, { acquire: network.acquire, sources }));
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const event of progress) {
      if (event.type !== 'progress') continue;
      expect(event).toMatchObject({ phase: 'ports', total: PORTS });
      expect(event.fraction).toBeGreaterThanOrEqual(0);
      expect(event.fraction).toBeLessThanOrEqual(1);
      // The cursor never claims a pair whose event has not come yet.
      const index = events.indexOf(event);
      const delivered = new Set(events.slice(0, index).filter((e): e is PortEvent => e.type === 'port').map((e) => e.port));
      const cursor = event.cursor!;
      for (let position = 0; position < cursor.position; position++) expect(delivered.has(position + 1)).toBe(true);
      for (const [from, to] of cursor.skip ?? []) for (let position = from; position < to; position++) expect(delivered.has(position + 1)).toBe(true);
    }
  });
});

describe('resume cursors: the connect scan on loopback', () => {
  const loopback = useLoopbackPorts();

  for (const workers of [0, 2]) {
    it(`${workers === 0 ? 'on this thread' : 'on 2 workers'}: break and abort at random points, then resume`, async () => {
      const next = random(4242 + workers);
      const total = 3000;
      for (let trial = 0; trial < 4; trial++) {
        const how = trial % 2 === 0 ? 'break' : 'abort';
        const base: ScanRequest = {
          technique: 'connect',
          targets: '127.0.0.1',
          ports: `${loopback.open},${loopback.closed},1-${total}`,
          skipDiscovery: true,
          workers,
          order: trial < 2 ? 'sequential' : { random: true, seed: trial },
        };
        const stopAfter = 1 + Math.floor(next() * (total - 1));
        const controller = new AbortController();
        const first = await interrupt(runScan({ ...base, signal: controller.signal }), stopAfter, how, controller);
        const label = `workers ${workers} trial ${trial} (${how} after ${stopAfter})`;
        const second = await rest(runScan({ ...base, resume: JSON.parse(JSON.stringify(first.cursor)) as ScanCursor }));
        const all = [...first.ports, ...second.ports];
        const expected = new Set([loopback.open, loopback.closed, ...Array.from({ length: total }, (_, i) => i + 1)]);
        expect(all.length, label).toBe(expected.size);
        expect(new Set(all), label).toEqual(expected);
      }
    });
  }
});

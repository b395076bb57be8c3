/**
 * The probe runner's scheduling: connections handed out by plan position,
 * waits given up on abort, and the cut of moot exchanges after a hard match
 * (with the exchange run again when an earlier softmatch makes the walk
 * need it after all). Loopback servers only.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionSlots } from '../../src/service/connection-slots.js';
import { identifyService } from '../../src/service/identify-service.js';
import { exchange } from '../../src/service/probe-exchange.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';

describe('ConnectionSlots', () => {
  it('serves the lowest priority first, first come among equals, at most limit at once', async () => {
    const slots = new ConnectionSlots(1);
    const order: string[] = [];
    let release!: () => void;
    const first = slots.run(5, () => new Promise<void>((resolve) => (release = resolve)));
    const later = [slots.run(3, async () => void order.push('3a')), slots.run(9, async () => void order.push('9')), slots.run(3, async () => void order.push('3b')), slots.run(0, async () => void order.push('0'))];
    expect(slots.running).toBe(1);
    expect(slots.pending).toBe(4);
    release();
    await Promise.all([first, ...later]);
    expect(order).toEqual(['0', '3a', '3b', '9']);
  });

  it('a wait given up on abort leaves the queue and rejects', async () => {
    const slots = new ConnectionSlots(1);
    let release!: () => void;
    const busy = slots.run(0, () => new Promise<void>((resolve) => (release = resolve)));
    const stop = new AbortController();
    const waiting = slots.run(1, async () => 'ran', stop.signal);
    stop.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(slots.pending).toBe(0);
    release();
    await busy;
    await expect(slots.run(0, async () => 'now', stop.signal)).rejects.toThrow('gone');
  });

  it("a port's slots inside its host's: each port's limit, the host's across ports, an abort frees both", async () => {
    const host = new ConnectionSlots(3);
    const a = new ConnectionSlots(2, host);
    const b = new ConnectionSlots(2, host);
    const releases: (() => void)[] = [];
    const hold = (slots: ConnectionSlots, priority: number): Promise<void> => slots.run(priority, () => new Promise<void>((resolve) => releases.push(resolve)));
    const held = [hold(a, 0), hold(a, 1), hold(a, 2), hold(b, 0), hold(b, 1)];
    await new Promise((resolve) => setImmediate(resolve));
    // a: 2 hold its slots (its limit), 1 waits for one; b: 2 hold its slots, of which one runs (the
    // host's third) and one waits for the host.
    expect([a.running, a.pending, b.running, b.pending, host.running, host.pending]).toEqual([2, 1, 2, 0, 3, 1]);
    expect(releases).toHaveLength(3);
    const stop = new AbortController();
    const given = b.run(5, async () => 'ran', stop.signal);
    stop.abort(new Error('gone'));
    await expect(given).rejects.toThrow('gone');
    expect([b.running, b.pending, host.pending]).toEqual([2, 0, 1]);
    for (let i = 0; i < 5; i++) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
      expect(host.running).toBeLessThanOrEqual(3);
      expect(a.running).toBeLessThanOrEqual(2);
    }
    await Promise.all(held);
    expect([a.running, b.running, host.running, host.pending]).toEqual([0, 0, 0, 0]);
  });
});

describe('identifyService scheduling', () => {
  // NULL listens; Soft softmatches "x"; Other hard-matches "y" at once (and cannot find x);
  // Late is the one that finds x. nmap's walk: NULL, Soft (soft x), Other skipped, Late: x 2.0.
  const { database, diagnostics } = parseServiceProbes(
    [
      'Probe TCP NULL q||',
      'totalwaitms 400',
      'Probe TCP Soft q|SOFT\\n|',
      'totalwaitms 400',
      'softmatch x m|^soft|',
      'Probe TCP Other q|OTHER\\n|',
      'totalwaitms 400',
      'match y m|^other| p/Y/',
      'Probe TCP Late q|LATE\\n|',
      'totalwaitms 400',
      'match x m|^late ([\\d.]+)| p/X/ v/$1/',
      'match y m|^late| p/Y late/',
    ].join('\n'),
    { source: 'schedule' },
  );
  let server: Server;
  let port = 0;
  const connections: Socket[] = [];
  let lateAnswers = 0;

  beforeAll(async () => {
    expect(diagnostics).toEqual([]);
    server = createServer((socket) => {
      connections.push(socket);
      socket.on('error', () => {});
      socket.on('data', (data) => {
        const line = data.toString('latin1');
        if (line.startsWith('SOFT')) setTimeout(() => socket.write('soft\n'), 150);
        if (line.startsWith('OTHER')) socket.write('other\n');
        if (line.startsWith('LATE')) setTimeout(() => {
          lateAnswers++;
          socket.write('late 2.0\n');
        }, 100);
      });
    });
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  });
  afterAll(() => server.close());

  it("gives nmap's sequential answer: a hard match that an earlier softmatch skips cuts nothing it needs", async () => {
    const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database, intensity: 9, connections: new ConnectionSlots(8) });
    expect(found.match).toMatchObject({ name: 'x', product: 'X', version: '2.0', probe: 'Late', soft: false });
    // Other's hard match came first and cut Late; the walk needed Late after the softmatch and ran it again.
    expect(lateAnswers).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connections.filter((s) => !s.destroyed && s.readyState === 'open')).toEqual([]);
  });
});

describe('identifyService overBudget', () => {
  it('lists no rule of an answer checked early that the walk never read (it decided before)', async () => {
    const { database, diagnostics } = parseServiceProbes(
      ['Probe TCP NULL q||', 'totalwaitms 3000', 'match hello m|^hello| p/Hello/', 'Probe TCP Evil q|EVIL\\n|', 'totalwaitms 3000', 'match evil m|^(a+)+$|'].join('\n'),
      { source: 'early' },
    );
    expect(diagnostics).toEqual([]);
    // Evil's answer comes at once and runs a pattern out of budget while it is checked; the NULL
    // probe's banner comes later and decides the walk at position 0.
    const server = createServer((socket) => {
      socket.on('error', () => {});
      const banner = setTimeout(() => socket.write('hello\n'), 700);
      socket.on('data', () => {
        clearTimeout(banner);
        socket.write('a'.repeat(40) + 'b');
      });
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database, intensity: 9, connections: new ConnectionSlots(8), budgetMs: 50 });
      expect(found.match).toMatchObject({ name: 'hello', probe: 'NULL' });
      expect(found.overBudget).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('exchange', () => {
  it('an answer found complete by a slow check is the bytes checked, not what came during the check', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.write('220 hello\r\n');
      setTimeout(() => socket.write('220 more\r\n'), 10);
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      const result = await exchange({ address: '127.0.0.1', family: 4, port }, {
        protocol: 'tcp',
        payload: new Uint8Array(),
        waitMs: 2000,
        complete: async (bytes) => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return /^220 hello\r\n$/.test(Buffer.from(bytes).toString('latin1'));
        },
      });
      expect(result.end).toBe('complete');
      expect(Buffer.from(result.bytes).toString('latin1')).toBe('220 hello\r\n');
    } finally {
      server.close();
    }
  });
});

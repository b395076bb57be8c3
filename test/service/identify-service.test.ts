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

  it("a port's slots inside its host's: each port's limit, the host's across ports, one queue by priority, aborts", async () => {
    const host = new ConnectionSlots(3);
    const a = new ConnectionSlots(2, host);
    const b = new ConnectionSlots(2, host);
    const releases = new Map<string, () => void>();
    const order: string[] = [];
    const hold = (slots: ConnectionSlots, name: string, priority: number, signal?: AbortSignal): Promise<void> =>
      slots.run(
        priority,
        () =>
          new Promise<void>((resolve) => {
            order.push(name);
            releases.set(name, resolve);
          }),
        signal,
      );
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const stopB1 = new AbortController();
    const held = [hold(a, 'a0', 0), hold(a, 'a1', 1), hold(a, 'a2', 2), hold(b, 'b0', 0)];
    const b1 = hold(b, 'b1', 1, stopB1.signal);
    await tick();
    // a0 and a1 fill a (its limit 2), a2 waits for a; b0 takes the host's third; b1 waits for the host.
    expect(order).toEqual(['a0', 'a1', 'b0']);
    expect([a.running, a.pending, b.running, b.pending, host.running, host.pending]).toEqual([2, 1, 1, 1, 3, 2]);
    // A task waiting for the host's slot leaves the queue on abort; nothing of its port is held.
    stopB1.abort(new Error('gone'));
    await expect(b1).rejects.toThrow('gone');
    expect([b.running, b.pending, host.pending]).toEqual([1, 0, 1]);
    // A first probe queued after a port's later ones goes before them: one queue, by priority.
    held.push(hold(a, 'a-late0', 0));
    releases.get('a0')!();
    await tick();
    expect(order).toEqual(['a0', 'a1', 'b0', 'a-late0']);
    // a is full (a1, a-late0): a2 waits though the host has room once b0 ends.
    releases.get('b0')!();
    await tick();
    expect([a.running, a.pending, host.running, host.pending]).toEqual([2, 1, 2, 1]);
    releases.get('a1')!();
    await tick();
    expect(order.at(-1)).toBe('a2');
    for (const name of ['a-late0', 'a2']) releases.get(name)!();
    await Promise.all(held);
    expect([a.running, b.running, host.running, host.pending, a.pending, b.pending]).toEqual([0, 0, 0, 0, 0, 0]);
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

/**
 * Connection attempts on worker threads (loopback only): the pool reports what
 * the kernel says, settles what is still out when closed, and a connect scan
 * on workers that stops early lets its process exit by itself.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectWorkerPool, connectAttempt } from '../../src/transport/connect-attempts.js';
import { tcpConnectScan, type PortEvent, type ScanEvent } from '../../src/index.js';
import { useLoopbackPorts } from '../support/loopback-ports.js';

const LOOPBACK = '127.0.0.1';

describe('connection attempts', () => {
  const loopback = useLoopbackPorts();

  it('on worker threads: connected, refused, and timeouts for what is still out at close', async () => {
    const errors: Error[] = [];
    const pool = new ConnectWorkerPool(2, (error) => errors.push(error));
    try {
      const [a, b] = await Promise.all([
        pool.attempt({ family: 4, address: LOOPBACK, port: loopback.open }, 2000),
        pool.attempt({ family: 4, address: LOOPBACK, port: loopback.closed }, 2000),
      ]);
      expect(a.kind).toBe('open');
      expect(b).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
      // Not yet sent to a worker (batches leave on the next turn): closing settles it as a timeout.
      const late = pool.attempt({ family: 4, address: LOOPBACK, port: loopback.open }, 2000);
      await pool.close();
      expect(await late).toMatchObject({ kind: 'timeout' });
      expect(await pool.attempt({ family: 4, address: LOOPBACK, port: loopback.open }, 2000)).toMatchObject({ kind: 'timeout' });
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('reads the same with net.Socket (where Node has no TCP handle to use) as with the handle', async () => {
    const readings = async (netSockets: boolean): Promise<string[]> => {
      const pool = new ConnectWorkerPool(1, (error) => {
        throw error;
      }, { netSockets });
      try {
        const results = await Promise.all(
          [loopback.open, loopback.closed].map(
            (port) => new Promise<string>((resolve) => pool.submit({ family: 4, address: LOOPBACK, port }, { attempts: 2, timeoutMs: 2000, lastTimeoutMs: 2000 }, (r) => resolve(`${r.kind} ${r.kind === 'error' ? r.code : ''} ${r.attempts}`))),
          ),
        );
        return results;
      } finally {
        await pool.close();
      }
    };
    const withHandle = await readings(false);
    expect(withHandle).toEqual(['open  1', 'error ECONNREFUSED 1']);
    expect(await readings(true)).toEqual(withHandle);
  });

  it('connects over IPv6 (::1) on a worker as well', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::1', resolve);
    });
    const open = (server.address() as AddressInfo).port;
    const pool = new ConnectWorkerPool(1, (error) => {
      throw error;
    });
    try {
      expect((await pool.attempt({ family: 6, address: '::1', port: open }, 2000)).kind).toBe('open');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(await pool.attempt({ family: 6, address: '::1', port: open }, 2000)).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
    } finally {
      server.close();
      await pool.close();
    }
  });

  it('reports a worker that dies, once, before it settles what it had as timeouts that made no attempt', async () => {
    const order: string[] = [];
    const errors: Error[] = [];
    const pool = new ConnectWorkerPool(1, (error) => {
      errors.push(error);
      order.push('error');
    });
    // Kill the worker behind the pool's back, as a crash would, before the series is posted to it
    // (series leave in a batch on the next turn of the event loop).
    const pending = new Promise((resolve) =>
      pool.submit({ family: 4, address: LOOPBACK, port: loopback.open }, { attempts: 2, timeoutMs: 2000, lastTimeoutMs: 2000 }, (result) => {
        order.push('settled');
        resolve(result);
      }),
    );
    const terminated = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]!.terminate();
    await terminated;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // attempts 0: the scan must not read it as a silent port (it stops first, on the error).
    expect(await pending).toEqual({ kind: 'timeout', attempts: 0 });
    expect(order).toEqual(['error', 'settled']);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/A connect worker thread exited with code/)]);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_CONNECT_WORKER']);
    await pool.close();
  });

  it('on this thread: the same readings, and cancel functions end attempts in flight', async () => {
    const active = new Set<() => void>();
    expect((await connectAttempt({ family: 4, address: LOOPBACK, port: loopback.open }, 2000, active)).kind).toBe('open');
    expect(await connectAttempt({ family: 4, address: LOOPBACK, port: loopback.closed }, 2000, active)).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
    expect(active.size).toBe(0);
    const pending = connectAttempt({ family: 4, address: LOOPBACK, port: loopback.open }, 2000, active);
    for (const cancel of [...active]) cancel();
    expect(await pending).toEqual({ kind: 'timeout' });
  });

  it('a connect scan gives the same results on workers as on this thread', async () => {
    const ports = `${loopback.open},${loopback.closed}`;
    const states = async (workers: number): Promise<string[]> => {
      const events: ScanEvent[] = [];
      for await (const event of tcpConnectScan({ targets: LOOPBACK, ports, skipDiscovery: true, workers })) events.push(event);
      return events.filter((e): e is PortEvent => e.type === 'port').map((e) => `${e.port} ${e.state} ${e.reason}`).sort();
    };
    const onThread = await states(0);
    expect(onThread).toEqual([`${loopback.open} open syn-ack`, `${loopback.closed} closed conn-refused`].sort());
    expect(await states(2)).toEqual(onThread);
  });

  it('rejects a workers option that is not a whole number >= 0', () => {
    expect(() => tcpConnectScan({ targets: LOOPBACK, ports: '1', workers: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('workers') }));
  });

  it('workers run whatever flags the process was started with (here --input-type=module)', () => {
    const script = `import { tcpConnectScan } from './src/index.ts';
      let ports = 0;
      for await (const e of tcpConnectScan({ targets: '127.0.0.1', ports: '1-300', skipDiscovery: true, workers: 2 })) if (e.type === 'port') ports++;
      console.log(ports);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout.trim()).toBe('300');
  });

  for (const how of ['break', 'abort'] as const) {
    it(`a scan on worker threads left by ${how} lets its process exit by itself`, () => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/connect-scan-child.ts', how], { encoding: 'utf8', timeout: 30_000 });
      expect(child.error, 'the child was killed at the timeout: something kept it alive').toBeUndefined();
      expect(child.status).toBe(0);
      // An abort throws at the next read: events still queued then are not delivered.
      expect(JSON.parse(child.stdout.trim())).toEqual({ how, outcome: how === 'break' ? 'left' : 'AbortError', ports: 5 });
    });
  }
});

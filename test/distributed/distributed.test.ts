/**
 * portscout/distributed without the lab (no root): a real redis-server on a
 * Unix socket (test/distributed/redis-server.ts) and real BullMQ. Bad scans
 * are rejected by enqueueScan before any job exists; an unreachable Redis is
 * ERR_REDIS_UNREACHABLE; a connect scan of 127.0.0.1 split into 4 shards run
 * by two workers reads back as the one-process scan's ports.
 */
import { Queue } from 'bullmq';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortscoutError, scan, type PortEvent, type ScanEvent } from '../../src/index.js';
import { createScanWorker, enqueueScan, readScanResults, scanStatus, type DistributedScan, type ScanWorker } from '../../src/distributed/index.js';
import { loopbackPorts } from '../support/loopback-ports.js';
import { redisAvailable, startRedis, type RedisServer } from './redis-server.js';

async function rejection(promise: Promise<unknown>): Promise<PortscoutError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PortscoutError);
    return error as PortscoutError;
  }
  throw new Error('expected a rejection');
}

async function collect(events: AsyncIterable<ScanEvent>): Promise<ScanEvent[]> {
  const out: ScanEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const portRows = (events: readonly ScanEvent[]): string[] =>
  events
    .filter((e): e is PortEvent => e.type === 'port')
    .map((e) => `${e.address} ${e.port} ${e.state} ${e.reason}`)
    .sort();

describe.skipIf(!redisAvailable())('portscout/distributed on a real Redis', () => {
  let redis: RedisServer;
  let queue: Queue;

  beforeAll(async () => {
    redis = await startRedis();
    queue = new Queue('portscout-test', { connection: redis.connection });
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
  });

  it('rejects bad scans before any job exists', async () => {
    const good: DistributedScan = { scanner: 'connect', options: { targets: '127.0.0.1', ports: '1-10' }, shards: 4 };
    const bad: [DistributedScan, string][] = [
      [{ ...good, scanner: 'nosuch' as never }, 'ERR_INVALID_OPTION'],
      [{ ...good, shards: 0 }, 'ERR_INVALID_OPTION'],
      [{ ...good, shards: 2.5 }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, ports: '1-70000' } }, 'ERR_INVALID_PORTS'],
      [{ ...good, options: { ...good.options, rate: -5 } }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, rtae: 5 } as never }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, targets: '300.1.2.3' } }, 'ERR_INVALID_TARGET'],
      [{ ...good, options: { ...good.options, shard: { index: 0, count: 2 } } as never }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, signal: AbortSignal.timeout(1000) } as never }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, timing: 'T9' as never } }, 'ERR_INVALID_OPTION'],
      [{ ...good, options: { ...good.options, targets: new Set(['127.0.0.1']) as never } }, 'ERR_INVALID_OPTION'],
    ];
    for (const [spec, code] of bad) {
      const error = await rejection(enqueueScan(queue, spec));
      expect(error.code, error.message).toBe(code);
    }
    expect(await redis.cli('dbsize')).toBe('0');
    expect(await queue.getJobCounts()).toEqual(expect.objectContaining({ waiting: 0, 'waiting-children': 0, active: 0 }));
  });

  it('an unreachable Redis is ERR_REDIS_UNREACHABLE, naming the address', async () => {
    const ports = await loopbackPorts();
    await ports.close();
    const connection = { host: '127.0.0.1', port: ports.closed };
    const unreachable = new Queue('portscout-test', { connection });
    unreachable.on('error', () => undefined);
    try {
      const started = Date.now();
      const error = await rejection(enqueueScan(unreachable, { scanner: 'connect', options: { targets: '127.0.0.1', ports: '1-10' }, shards: 2 }, { connectTimeoutMs: 1500 }));
      expect(error.code).toBe('ERR_REDIS_UNREACHABLE');
      expect(error.message).toContain(`127.0.0.1:${ports.closed}`);
      expect(error.message).toContain('ECONNREFUSED');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await rejection(collect(readScanResults(connection, 'x', { connectTimeoutMs: 500 })))).code).toBe('ERR_REDIS_UNREACHABLE');
      expect((await rejection(scanStatus(connection, 'x', { connectTimeoutMs: 500 }))).code).toBe('ERR_REDIS_UNREACHABLE');
    } finally {
      await unreachable.close().catch(() => undefined);
    }
  });

  it('an unknown scan id is ERR_SCAN_NOT_FOUND; bad worker options throw at the call', async () => {
    expect((await rejection(collect(readScanResults(redis.connection, 'nosuchscan')))).code).toBe('ERR_SCAN_NOT_FOUND');
    expect((await rejection(scanStatus(redis.connection, 'nosuchscan'))).code).toBe('ERR_SCAN_NOT_FOUND');
    expect(() => createScanWorker('q', { connection: redis.connection, rate: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => createScanWorker('q', { connection: redis.connection, rtae: 1 } as never)).toThrow(/Unknown option "rtae" for createScanWorker/);
  });

  it('a connect scan of 127.0.0.1 in 4 shards on 2 workers reads back as the one-process scan', async () => {
    const servers: Server[] = [];
    const open: number[] = [];
    for (let i = 0; i < 3; i++) {
      const server = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      open.push((server.address() as { port: number }).port);
    }
    const workers: ScanWorker[] = [];
    try {
      const options = { targets: '127.0.0.1', ports: `${open.join(',')},20000-20400`, skipDiscovery: true, order: { random: true, seed: 'loopback' } } as const;
      const single = portRows(await collect(scan({ ...options, technique: 'connect' })));
      for (let i = 0; i < 2; i++) workers.push(createScanWorker('portscout-loop', { connection: redis.connection, handleSignals: false, cursorIntervalMs: 200 }));
      const loopQueue = new Queue('portscout-loop', { connection: redis.connection });
      try {
        const scanId = await enqueueScan(loopQueue, { scanner: 'connect', options, shards: 4 });
        const events = await collect(readScanResults(redis.connection, scanId, { signal: AbortSignal.timeout(60_000) }));
        expect(events[0]?.type).toBe('start');
        expect(events.at(-1)?.type).toBe('done');
        const start = events[0]!;
        if (start.type === 'start') expect(start.pairs).toBe(single.length);
        const merged = portRows(events);
        expect(merged).toEqual(single);
        expect(new Set(merged).size).toBe(merged.length);
        expect(merged.filter((row) => row.includes(' open ')).length).toBe(3);
        const status = await scanStatus(redis.connection, scanId);
        expect(status.state).toBe('completed');
        expect(status.shards).toEqual({ total: 4, waiting: 0, running: 0, done: 4, failed: 0, retried: 0 });
        expect(status.pairsDone).toBe(single.length);
        expect(status.probesSent).toBeGreaterThanOrEqual(single.length);
        // A second read gives the same sequence.
        expect((await collect(readScanResults(redis.connection, scanId))).filter((e) => e.type === 'port')).toEqual(events.filter((e) => e.type === 'port'));
      } finally {
        await loopQueue.close();
      }
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      for (const server of servers) server.close();
    }
  });
});

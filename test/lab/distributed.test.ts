/**
 * portscout/distributed in the namespace lab: a real redis-server (AOF on,
 * appendfsync always) runs inside the scanner namespace on a Unix socket
 * only, worker processes (test/support/distributed-worker-child.ts) run
 * there too and SYN-scan t1, and this process enqueues and reads through
 * the same socket. Real BullMQ, no mocks.
 *
 * Kept short on purpose: the full suite is near its 15-minute budget on 2
 * cores, so the scans cover ports 1-2000 (equivalence) and 1-12000 paced
 * at 1000 packets per second per worker (crash, Redis restart: slow enough
 * to be interrupted mid-shard), not all 65,535 ports of both targets. t1
 * only: t2 drops packets at random, so two scans of it need not agree.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortscoutError, type PortEvent, type ScanEvent } from '../../src/index.js';
import { enqueueScan, readScanResults, resumeScan, scanStatus, type DistributedScan, type ShardResult } from '../../src/distributed/index.js';
import { redisAvailable, startRedis, type RedisServer } from '../distributed/redis-server.js';
import { killGroup } from './exec.js';
import { createLab, type Lab } from './lab.js';
import { scanInLab } from './scan-in-lab.js';
import { skipLab } from './support.js';

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

const rowsOf = (ports: readonly PortEvent[]): string[] => ports.map((p) => `${p.address} ${p.port} ${p.state} ${p.reason}`).sort();

async function collect(events: AsyncIterable<ScanEvent>): Promise<ScanEvent[]> {
  const out: ScanEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function until(what: string, test: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(skipLab('distributed scans in the lab') || !redisAvailable())('distributed SYN scans in the namespace lab', () => {
  let lab: Lab;
  let redis: RedisServer;
  let target: string;
  const workers = new Set<WorkerProcess>();
  const reference = new Map<string, string[]>();
  const ports = { short: '1-2000', long: '1-12000' };
  const options = (portSpec: string, seed: string): DistributedScan['options'] => ({ targets: target, ports: portSpec, skipDiscovery: true, timing: 'T4', order: { random: true, seed } });

  /** Starts a worker process in the scanner namespace and waits until it is connected. */
  async function startWorker(queue: string, extra: Record<string, unknown> = {}): Promise<WorkerProcess> {
    const args = JSON.stringify({ socket: redis.socket, queue, cursorIntervalMs: 300, ...extra });
    const child = spawn('ip', ['netns', 'exec', lab.scanner.ns, process.execPath, '--import', 'tsx', 'test/support/distributed-worker-child.ts', args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not ours */
      }
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { child, lines, exited };
    workers.add(worker);
    void exited.then(() => workers.delete(worker));
    await until('a worker to connect', async () => {
      if (child.exitCode !== null) throw new Error(`worker exited: ${stderr.slice(0, 2000)}`);
      return lines.some((l) => l.type === 'ready');
    }, 30_000);
    return worker;
  }

  /** SIGTERMs every worker; each must close by itself (exit code 0). */
  async function stopWorkers(): Promise<(number | null)[]> {
    const running = [...workers];
    for (const w of running) w.child.kill('SIGTERM');
    return Promise.all(running.map((w) => Promise.race([w.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000))])));
  }

  beforeAll(async () => {
    lab = await createLab();
    target = lab.t1.ipv4[0];
    redis = await startRedis({ aof: true, netns: lab.scanner.ns });
    for (const [name, spec] of Object.entries(ports)) {
      const alone = await scanInLab(lab, 'tcpSynScan', options(spec, 'reference'), { compact: true, timeoutMs: 60_000 });
      expect(alone.errors).toEqual([]);
      reference.set(name, rowsOf(alone.ports));
    }
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) killGroup(w.child.pid, 'SIGKILL');
    await redis?.stop();
    await lab?.destroy();
  });

  it('8 shards on 3 worker processes give exactly the one-process scan: none lost, none repeated; SIGTERM closes the workers', async () => {
    const queue = new Queue('eq', { connection: redis.connection });
    try {
      for (let i = 0; i < 3; i++) await startWorker('eq');
      const started = performance.now();
      const scanId = await enqueueScan(queue, { scanner: 'syn', options: options(ports.short, 'equivalence'), shards: 8 });
      const events = await collect(readScanResults(redis.connection, scanId, { signal: AbortSignal.timeout(90_000) }));
      const portEvents = events.filter((e): e is PortEvent => e.type === 'port');
      console.log(`[distributed] 8 shards, 3 workers, ports ${ports.short}: ${Math.round(performance.now() - started)} ms, ${portEvents.length} port events`);
      expect(portEvents.length).toBe(2000);
      expect(rowsOf(portEvents)).toEqual(reference.get('short'));
      expect(rowsOf(portEvents).filter((row) => row.includes(' open ')).length).toBeGreaterThan(3);
      const done = events.at(-1);
      expect(done?.type).toBe('done');
      if (done?.type === 'done') expect(done.stats.portsReported).toBe(2000);
      const status = await scanStatus(redis.connection, scanId);
      expect(status.shards).toMatchObject({ total: 8, done: 8, failed: 0 });
      // Every worker ran shards; each job's id came from this scan.
      const ran = [...workers].map((w) => w.lines.filter((l) => l.type === 'completed' && l.name === 'portscout-shard').length);
      expect(ran.reduce((a, b) => a + b, 0)).toBe(8);
      expect(await stopWorkers()).toEqual([0, 0, 0]);
    } finally {
      await queue.close();
    }
  }, 150_000);

  it('a worker SIGKILLed mid-shard: the scan completes with the same result, and the stalled shard resumed from its cursor', async () => {
    const queue = new Queue('crash', { connection: redis.connection });
    try {
      const victim = await startWorker('crash', { rate: 1000 });
      const survivor = await startWorker('crash', { rate: 1000 });
      const scanId = await enqueueScan(queue, { scanner: 'syn', options: options(ports.long, 'crash'), shards: 4 });
      // Wait until a shard of the victim has saved a cursor well inside its range, then kill the victim outright.
      let killedJob = '';
      await until('a saved cursor mid-shard', async () => {
        const active = victim.lines.filter((l) => l.type === 'active' && l.name === 'portscout-shard').at(-1);
        if (!active) return false;
        const job = await queue.getJob(String(active.id));
        const progress = job?.progress as { pairsDone?: number; pairsTotal?: number } | undefined;
        if (!progress?.pairsDone || !progress.pairsTotal || progress.pairsDone < 600 || progress.pairsDone > progress.pairsTotal - 600) return false;
        killedJob = String(active.id);
        return true;
      }, 60_000);
      const savedAt = ((await queue.getJob(killedJob))?.progress as { pairsDone: number }).pairsDone;
      victim.child.kill('SIGKILL');
      await victim.exited;
      await startWorker('crash', { rate: 1000 });
      const events = await collect(readScanResults(redis.connection, scanId, { signal: AbortSignal.timeout(120_000) }));
      const portEvents = events.filter((e): e is PortEvent => e.type === 'port');
      expect(portEvents.length).toBe(12000);
      expect(rowsOf(portEvents)).toEqual(reference.get('long'));
      const result = (await queue.getJob(killedJob))?.returnvalue as ShardResult;
      console.log(`[distributed] crash: shard ${result.shard.index} killed after ${savedAt} pairs saved; resumed from ${result.resumedFrom}, rescanned ${result.pairsScanned} of ${result.pairsTotal}`);
      expect(result.resumedFrom).toBeGreaterThan(0);
      expect(result.pairsScanned).toBeLessThan(result.pairsTotal);
      expect(result.pairsScanned).toBe(result.pairsTotal - result.resumedFrom!);
      const status = await scanStatus(redis.connection, scanId);
      expect(status.shards).toMatchObject({ total: 4, done: 4, failed: 0 });
      expect(status.shards.retried).toBeGreaterThanOrEqual(1);
      expect(status.perShard[result.shard.index]!.stalls).toBeGreaterThanOrEqual(1);
      void survivor;
      await stopWorkers();
    } finally {
      await queue.close();
    }
  }, 180_000);

  it('Redis restarted (SIGKILL, AOF) while the scan runs: it completes, or fails clearly and a resumeScan completes it; nothing lost', async () => {
    const queue = new Queue('restart', { connection: redis.connection });
    queue.on('error', () => undefined);
    try {
      await startWorker('restart', { rate: 1000 });
      await startWorker('restart', { rate: 1000 });
      const scanId = await enqueueScan(queue, { scanner: 'syn', options: options(ports.long, 'restart'), shards: 4 });
      await until('a shard to save progress', async () => (await scanStatus(redis.connection, scanId)).pairsDone > 1000, 60_000);
      await redis.restart(1000);
      let events: ScanEvent[];
      let resumed = 0;
      try {
        events = await collect(readScanResults(redis.connection, scanId, { signal: AbortSignal.timeout(120_000) }));
      } catch (error) {
        expect(error).toBeInstanceOf(PortscoutError);
        expect((error as PortscoutError).code).toBe('ERR_SHARD_FAILED');
        resumed = await resumeScan(queue, scanId);
        expect(resumed).toBeGreaterThan(0);
        events = await collect(readScanResults(redis.connection, scanId, { signal: AbortSignal.timeout(120_000) }));
      }
      const portEvents = events.filter((e): e is PortEvent => e.type === 'port');
      const status = await scanStatus(redis.connection, scanId);
      console.log(`[distributed] Redis restart: ${resumed === 0 ? 'completed by itself' : `resumeScan re-queued ${resumed} shard(s)`}; retried ${status.shards.retried}, ${portEvents.length} port events`);
      expect(portEvents.length).toBe(12000);
      expect(rowsOf(portEvents)).toEqual(reference.get('long'));
      expect(status.state).toBe('completed');
      await stopWorkers();
    } finally {
      await queue.close();
    }
  }, 240_000);
});

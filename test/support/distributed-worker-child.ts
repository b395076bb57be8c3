/**
 * A portscout/distributed worker process for the lab tests, started inside
 * the scanner namespace:
 *   ip netns exec <ns> node --import tsx test/support/distributed-worker-child.ts '<json>'
 * where json is { socket, queue, rate?, cursorIntervalMs?, lockDuration?, stalledInterval?, lifetimeMs? }.
 * It prints JSON lines: { type: 'ready', pid }, then { type: 'active', id, shard } per job started and
 * { type: 'completed', id, result } per job done. SIGTERM closes it (handleSignals); it exits by itself
 * after lifetimeMs (default 120 s) so that no test can leave it running.
 */
import { createScanWorker } from '../../src/distributed/index.js';

const request = JSON.parse(process.argv[2] ?? '{}') as {
  socket: string;
  queue: string;
  rate?: number;
  cursorIntervalMs?: number;
  lockDuration?: number;
  stalledInterval?: number;
  lifetimeMs?: number;
};
const print = (line: unknown): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const worker = createScanWorker(request.queue, {
  connection: { path: request.socket },
  ...(request.rate !== undefined ? { rate: request.rate } : {}),
  cursorIntervalMs: request.cursorIntervalMs ?? 500,
  bullmq: { lockDuration: request.lockDuration ?? 4000, stalledInterval: request.stalledInterval ?? 1000, maxStalledCount: 5 },
});
worker.on('error', (error) => print({ type: 'worker-error', message: error.message }));
worker.on('active', (job) => print({ type: 'active', id: job.id, name: job.name, shard: (job.data as { shard?: unknown }).shard, progress: job.progress }));
worker.on('completed', (job, result) => print({ type: 'completed', id: job.id, name: job.name, result }));
worker.on('failed', (job, error) => print({ type: 'failed', id: job?.id, message: error.message }));
worker.on('closed', () => print({ type: 'closed' }));
const lifetime = setTimeout(() => void worker.close(), request.lifetimeMs ?? 120_000);
lifetime.unref();
await worker.waitUntilReady();
print({ type: 'ready', pid: process.pid });

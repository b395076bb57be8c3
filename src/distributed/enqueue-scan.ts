/**
 * `enqueueScan`: one scan split into shard jobs, added to a BullMQ queue as
 * one flow (a parent job that completes once every shard has), and
 * `resumeScan`, which re-queues the shards of a failed scan from their
 * saved cursors.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer, type ConnectionOptions, type FlowJob, type Queue } from 'bullmq';
import { PortscoutError } from '../errors.js';
import type { ScanCursor } from '../targets/index.js';
import { checkNumberOption } from '../scan/option-check.js';
import { openRedis, scanKeys, type RedisAccess } from './redis-access.js';
import { DEFAULT_KEY_PREFIX, PARENT_JOB_NAME, SHARD_JOB_NAME, checkDistributedScan, type DistributedScan, type ShardJobData } from './scan-spec.js';
import { readShardProgress } from './shard-progress.js';

/**
 * Options of {@link enqueueScan} and {@link resumeScan}.
 *
 * @example
 * ```ts
 * await enqueueScan(queue, spec, { connectTimeoutMs: 5_000 } satisfies EnqueueOptions);
 * ```
 */
export interface EnqueueOptions {
  /** Milliseconds to wait for Redis to answer before `ERR_REDIS_UNREACHABLE`. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /** Prefix of portscout's own Redis keys (metadata, event streams); the readers must use the same. Default `'portscout:scan'`. */
  readonly keyPrefix?: string;
  /** The scan id (letters, digits, `_` and `-`); default a random one. */
  readonly scanId?: string;
}

/** A scan's metadata as its hash in Redis holds it. */
export interface ScanMeta {
  readonly queue: string;
  readonly prefix: string;
  readonly shards: number;
  /** The current job id of each shard. */
  readonly jobs: readonly string[];
  /** The current parent job id. */
  readonly parent: string;
  readonly scanner: string;
  readonly createdAt: number;
  /** How many times resumeScan re-queued shards. */
  readonly generation: number;
}

/** The metadata of a scan from its hash, or undefined when there is none. */
export function parseMeta(hash: Record<string, string>): ScanMeta | undefined {
  if (hash.queue === undefined || hash.jobs === undefined) return undefined;
  return {
    queue: hash.queue,
    prefix: hash.prefix ?? 'bull',
    shards: Number(hash.shards),
    jobs: JSON.parse(hash.jobs) as string[],
    parent: hash.parent ?? '',
    scanner: hash.scanner ?? '',
    createdAt: Number(hash.createdAt ?? 0),
    generation: Number(hash.generation ?? 0),
  };
}

function checkEnqueueOptions(options: EnqueueOptions): void {
  checkNumberOption('connectTimeoutMs', options.connectTimeoutMs, { min: 1, max: 600_000, unit: 'milliseconds' });
  if (options.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || options.keyPrefix === '')) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Option keyPrefix must be a non-empty string.');
  }
  if (options.scanId !== undefined && (typeof options.scanId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.scanId))) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'Option scanId must be 1-64 letters, digits, _ or -.');
  }
}

/** The connection and BullMQ prefix of a queue. */
function queueConnection(queue: Queue): { connection: ConnectionOptions; prefix: string } {
  if (typeof queue !== 'object' || queue === null || typeof queue.name !== 'string' || typeof queue.opts !== 'object') {
    throw new PortscoutError('ERR_INVALID_OPTION', 'enqueueScan needs a BullMQ Queue as its first argument (new Queue(name, { connection })).');
  }
  const opts = queue.opts as { connection: ConnectionOptions; prefix?: string };
  return { connection: opts.connection, prefix: opts.prefix ?? 'bull' };
}

/** Adds a flow of shard jobs under a new parent; closes its producer. */
async function addFlow(connection: ConnectionOptions, prefix: string, flow: FlowJob): Promise<void> {
  const producer = new FlowProducer({ connection, prefix });
  producer.on('error', () => undefined);
  try {
    await producer.add(flow);
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/**
 * Splits one scan into `shards` shard jobs on `queue`, as one BullMQ flow
 * whose parent job completes when every shard has, and returns the scan's
 * id (for {@link readScanResults} and {@link scanStatus}). Every job carries
 * the scanner, the options with one seed, and its shard `{ index, count }`,
 * so any worker computes its part of the permuted space. Bad options reject
 * before any job exists (the scanners' own checks, run synchronously); a
 * Redis that does not answer rejects with `ERR_REDIS_UNREACHABLE`.
 *
 * @example
 * ```ts
 * const queue = new Queue('scans', { connection: { host: '127.0.0.1', port: 6379 } });
 * const scanId = await enqueueScan(queue, {
 *   scanner: 'syn',
 *   options: { targets: '127.0.0.1', ports: '1-65535', skipDiscovery: true, order: { random: true, seed: 'nightly' } },
 *   shards: 16,
 * });
 * ```
 */
export async function enqueueScan(queue: Queue, scan: DistributedScan, options: EnqueueOptions = {}): Promise<string> {
  const { connection, prefix } = queueConnection(queue);
  checkEnqueueOptions(options);
  const spec = checkDistributedScan(scan);
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const scanId = options.scanId ?? randomBytes(8).toString('hex');
  const redis = await openRedis(connection, options.connectTimeoutMs ?? 10_000);
  try {
    const keys = scanKeys(keyPrefix, scanId);
    if (!(await redis.setIfAbsent(keys.meta, 'queue', queue.name))) {
      throw new PortscoutError('ERR_INVALID_OPTION', `A distributed scan with id ${scanId} exists already: give another scanId, or leave it out.`);
    }
    const jobs = Array.from({ length: spec.shards }, (_, index) => `${scanId}-${index}`);
    await redis.client.hset(keys.meta, {
      prefix,
      shards: spec.shards,
      jobs: JSON.stringify(jobs),
      parent: scanId,
      scanner: spec.scanner,
      spec: JSON.stringify(spec),
      createdAt: Date.now(),
      generation: 0,
    });
    const jobOptions = { attempts: spec.attempts, backoff: { type: 'fixed', delay: spec.backoffMs }, failParentOnFailure: true, removeOnComplete: false, removeOnFail: false };
    await addFlow(connection, prefix, {
      name: PARENT_JOB_NAME,
      queueName: queue.name,
      data: { scanId, keyPrefix, shards: spec.shards },
      opts: { jobId: scanId },
      children: jobs.map((jobId, index) => ({
        name: SHARD_JOB_NAME,
        queueName: queue.name,
        data: { v: 1, scanId, scanner: spec.scanner, options: spec.options, shard: { index, count: spec.shards }, keyPrefix } satisfies ShardJobData,
        opts: { ...jobOptions, jobId },
      })),
    });
    return scanId;
  } finally {
    await redis.close();
  }
}

/** The metadata of a scan, or `ERR_SCAN_NOT_FOUND`. */
export async function loadMeta(redis: RedisAccess, keyPrefix: string, scanId: string): Promise<ScanMeta> {
  const meta = parseMeta(await redis.client.hgetall(scanKeys(keyPrefix, scanId).meta));
  if (!meta) throw new PortscoutError('ERR_SCAN_NOT_FOUND', `No distributed scan ${JSON.stringify(scanId)} is recorded under the key prefix ${JSON.stringify(keyPrefix)} in this Redis.`);
  return meta;
}

/**
 * Re-queues the shards of a scan whose jobs failed (every attempt used up,
 * for instance while Redis was down for longer than the retries lasted),
 * each from the cursor its failed job last saved, under a new parent job;
 * shards that completed, or still run, are left alone. Resolves to how many
 * shards were re-queued (0 when none had failed). The events already
 * recorded stay; those a resumed shard repeats are dropped by their id.
 *
 * @example
 * ```ts
 * try {
 *   for await (const event of readScanResults(connection, scanId)) handle(event);
 * } catch (error) {
 *   if (error instanceof PortscoutError && error.code === 'ERR_SHARD_FAILED') await resumeScan(queue, scanId);
 * }
 * ```
 */
export async function resumeScan(queue: Queue, scanId: string, options: Omit<EnqueueOptions, 'scanId'> = {}): Promise<number> {
  const { connection, prefix } = queueConnection(queue);
  checkEnqueueOptions(options);
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const redis = await openRedis(connection, options.connectTimeoutMs ?? 10_000);
  try {
    const keys = scanKeys(keyPrefix, scanId);
    const meta = await loadMeta(redis, keyPrefix, scanId);
    const spec = JSON.parse((await redis.client.hget(keys.meta, 'spec')) ?? '{}') as ReturnType<typeof checkDistributedScan>;
    const generation = meta.generation + 1;
    const jobs = [...meta.jobs];
    const children: FlowJob[] = [];
    for (const [index, jobId] of meta.jobs.entries()) {
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      if (state !== 'failed' && state !== 'unknown') continue;
      const saved = readShardProgress(job?.progress);
      const oldData = job?.data as ShardJobData | undefined;
      const resume: ScanCursor | undefined = saved?.cursor ?? oldData?.resume;
      const newId = `${scanId}-${index}-r${generation}`;
      jobs[index] = newId;
      const data: ShardJobData = {
        v: 1,
        scanId,
        scanner: spec.scanner,
        options: spec.options,
        shard: { index, count: meta.shards },
        keyPrefix,
        ...(resume ? { resume } : {}),
        priorSent: saved?.sent ?? oldData?.priorSent ?? 0,
      };
      children.push({
        name: SHARD_JOB_NAME,
        queueName: queue.name,
        data,
        opts: { attempts: spec.attempts, backoff: { type: 'fixed', delay: spec.backoffMs }, failParentOnFailure: true, removeOnComplete: false, removeOnFail: false, jobId: newId },
      });
    }
    if (children.length === 0) return 0;
    const parent = `${scanId}-r${generation}`;
    await redis.client.hset(keys.meta, { jobs: JSON.stringify(jobs), parent, generation });
    await addFlow(connection, prefix, { name: PARENT_JOB_NAME, queueName: queue.name, data: { scanId, keyPrefix, shards: meta.shards }, opts: { jobId: parent }, children });
    return children.length;
  } finally {
    await redis.close();
  }
}

/**
 * Reading a distributed scan: `readScanResults`, the merged events of every
 * shard as one scan's stream, and `scanStatus`, how far its shards are.
 *
 * @module
 */
import { Queue, type ConnectionOptions, type JobState } from 'bullmq';
import { PortscoutError } from '../errors.js';
import { addStats, emptyStats, type DoneEvent, type ScanEvent, type ScanStats, type StartEvent } from '../scan/index.js';
import { checkNumberOption, checkOptionNames } from '../scan/option-check.js';
import { loadMeta, type ScanMeta } from './enqueue-scan.js';
import { openRedis, scanKeys, type RedisAccess } from './redis-access.js';
import { DEFAULT_KEY_PREFIX } from './scan-spec.js';
import { readShardProgress, type ShardResult } from './shard-progress.js';

/**
 * Options of {@link readScanResults} and {@link scanStatus}.
 *
 * @example
 * ```ts
 * readScanResults(connection, scanId, { pollIntervalMs: 500, signal: AbortSignal.timeout(3_600_000) } satisfies ReadResultsOptions);
 * ```
 */
export interface ReadResultsOptions {
  /** Milliseconds to wait for Redis to answer before `ERR_REDIS_UNREACHABLE`. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /** Prefix of portscout's own Redis keys, as given to `enqueueScan`. Default `'portscout:scan'`. */
  readonly keyPrefix?: string;
  /** Milliseconds between looks at Redis while the scan runs. Default 200. */
  readonly pollIntervalMs?: number;
  /** Wait for the scan to end (default true). With false, the events recorded so far, and `done` only if the scan has ended. */
  readonly follow?: boolean;
  /** Stops the reading: the iterator then throws the signal's reason. */
  readonly signal?: AbortSignal;
}

const READ_OPTION_NAMES = new Set(['connectTimeoutMs', 'keyPrefix', 'pollIntervalMs', 'follow', 'signal']);
/** Stream entries read in one call. */
const PAGE = 1000;

function checkReadOptions(connection: ConnectionOptions, scanId: string, options: ReadResultsOptions, what: string): void {
  if (typeof connection !== 'object' || connection === null) throw new PortscoutError('ERR_INVALID_OPTION', `${what} needs BullMQ connection options (such as { host, port }) or a client.`);
  if (typeof scanId !== 'string' || scanId === '') throw new PortscoutError('ERR_INVALID_OPTION', `${what} needs the scan id enqueueScan returned.`);
  checkOptionNames(options, READ_OPTION_NAMES, what);
  checkNumberOption('connectTimeoutMs', options.connectTimeoutMs, { min: 1, max: 600_000, unit: 'milliseconds' });
  checkNumberOption('pollIntervalMs', options.pollIntervalMs, { min: 1, max: 60_000, unit: 'milliseconds' });
}

/** Waits `ms`, or rejects when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What the shard jobs' states say of the whole scan. */
interface Outcome {
  readonly finished: boolean;
  readonly failed: readonly { readonly index: number; readonly reason: string }[];
}

/** The state of each current shard job. */
async function shardStates(queue: Queue, meta: ScanMeta): Promise<{ state: JobState | 'unknown'; job: Awaited<ReturnType<Queue['getJob']>> }[]> {
  return Promise.all(
    meta.jobs.map(async (id) => {
      const job = await queue.getJob(id);
      return { state: job ? await job.getState() : ('unknown' as const), job };
    }),
  );
}

/** Finished when every shard completed, or when some failed and none is still to run. */
async function outcomeOf(queue: Queue, meta: ScanMeta): Promise<Outcome> {
  const states = await shardStates(queue, meta);
  const failed = states.flatMap(({ state, job }, index) => (state === 'failed' || state === 'unknown' ? [{ index, reason: job?.failedReason ?? 'its job is gone from the queue' }] : []));
  const open = states.some(({ state }) => state !== 'completed' && state !== 'failed' && state !== 'unknown');
  return { finished: !open, failed };
}

/** The shards' recorded `start` events and results. */
async function shardRecords(redis: RedisAccess, keyPrefix: string, scanId: string): Promise<{ starts: Map<number, StartEvent>; results: Map<number, ShardResult> }> {
  const hash = await redis.client.hgetall(scanKeys(keyPrefix, scanId).shards);
  const starts = new Map<number, StartEvent>();
  const results = new Map<number, ShardResult>();
  for (const [field, value] of Object.entries(hash)) {
    const [kind, index] = field.split(':');
    if (kind === 'start') starts.set(Number(index), JSON.parse(value) as StartEvent);
    else if (kind === 'done') results.set(Number(index), JSON.parse(value) as ShardResult);
  }
  return { starts, results };
}

/** One `start` for the whole scan: the first shard's, over every shard's pairs. */
function mergedStart(scanId: string, meta: ScanMeta, starts: Map<number, StartEvent>): StartEvent {
  const sorted = [...starts.entries()].sort(([a], [b]) => a - b).map(([, start]) => start);
  const first = sorted[0];
  if (!first) {
    return { type: 'start', technique: meta.scanner, protocols: [], ports: { tcp: '', udp: '' }, hosts: 0, pairs: 0, discovery: false, order: 'sequential', shard: { index: 0, count: 1 }, fingerprint: `distributed:${scanId}`, timing: {}, startedAt: meta.createdAt };
  }
  return {
    ...first,
    shard: { index: 0, count: 1 },
    hosts: Math.max(...sorted.map((s) => s.hosts)),
    pairs: first.discovery ? first.pairs : sorted.reduce((sum, s) => sum + s.pairs, 0),
    fingerprint: `distributed:${scanId}`,
    startedAt: Math.min(...sorted.map((s) => s.startedAt)),
  };
}

/** One `done` for the whole scan: the shards' statistics summed, the counts of the merged stream. */
function mergedDone(results: Map<number, ShardResult>, counts: { hostsUp: number; ports: number }): DoneEvent {
  const stats: ScanStats = emptyStats();
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const result of results.values()) {
    addStats(stats, { ...emptyStats(), ...result.stats });
    first = Math.min(first, result.startedAt);
    last = Math.max(last, result.finishedAt);
  }
  stats.hostsUp = counts.hostsUp;
  stats.portsReported = counts.ports;
  stats.durationMs = Number.isFinite(first) ? last - first : 0;
  return { type: 'done', stats };
}

/** A scan opened for reading: portscout's Redis access, its metadata and its BullMQ queue. */
interface OpenScan {
  readonly redis: RedisAccess;
  readonly meta: ScanMeta;
  readonly queue: Queue;
  close(): Promise<void>;
}

/** Opens a scan for reading (`ERR_REDIS_UNREACHABLE`, `ERR_SCAN_NOT_FOUND`). */
async function openScan(connection: ConnectionOptions, scanId: string, keyPrefix: string, timeoutMs: number): Promise<OpenScan> {
  const redis = await openRedis(connection, timeoutMs);
  try {
    const meta = await loadMeta(redis, keyPrefix, scanId);
    const queue = new Queue(meta.queue, { connection, prefix: meta.prefix });
    queue.on('error', () => undefined);
    return {
      redis,
      meta,
      queue,
      async close() {
        await queue.close().catch(() => undefined);
        await redis.close();
      },
    };
  } catch (error) {
    await redis.close();
    throw error;
  }
}

/**
 * The merged events of a distributed scan, as one scan's stream: a `start`
 * for the whole scan (once every shard has started; `shard` 0 of 1, `pairs`
 * summed, fingerprint `distributed:<id>`), then every shard's `host`, `port`
 * and `warning` events with duplicates dropped (a resumed shard's repeats
 * share their (host, port) id with the first and are never recorded twice),
 * in the order of the scan's Redis Stream (every read gives the same
 * sequence), then a `done` with the shards' statistics summed once every
 * shard job has completed. It follows a running scan. A shard that failed
 * after every attempt ends the stream, after the events recorded, with
 * `ERR_SHARD_FAILED` (`resumeScan` re-queues it from its cursor). It is
 * what `detectServices({ from })` and the formatters take.
 *
 * @example
 * ```ts
 * await writeNmapXml(readScanResults({ host: '127.0.0.1', port: 6379 }, scanId), process.stdout);
 * ```
 */
export function readScanResults(connection: ConnectionOptions, scanId: string, options: ReadResultsOptions = {}): AsyncGenerator<ScanEvent, void, undefined> {
  checkReadOptions(connection, scanId, options, 'readScanResults');
  return readEvents(connection, scanId, options);
}

async function* readEvents(connection: ConnectionOptions, scanId: string, options: ReadResultsOptions): AsyncGenerator<ScanEvent, void, undefined> {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const poll = options.pollIntervalMs ?? 200;
  const follow = options.follow ?? true;
  const signal = options.signal;
  signal?.throwIfAborted();
  const opened = await openScan(connection, scanId, keyPrefix, options.connectTimeoutMs ?? 10_000);
  const { redis, queue } = opened;
  try {
    let meta = opened.meta;
    let outcome: Outcome = { finished: false, failed: [] };
    let records = await shardRecords(redis, keyPrefix, scanId);
    while (records.starts.size < meta.shards) {
      signal?.throwIfAborted();
      outcome = await outcomeOf(queue, meta);
      if (outcome.finished || !follow) break;
      await pause(poll, signal);
      meta = await loadMeta(redis, keyPrefix, scanId);
      records = await shardRecords(redis, keyPrefix, scanId);
    }
    yield mergedStart(scanId, meta, records.starts);
    const keys = scanKeys(keyPrefix, scanId);
    const counts = { hostsUp: 0, ports: 0 };
    let after = '-';
    let draining = outcome.finished;
    for (;;) {
      signal?.throwIfAborted();
      const entries = await redis.range(keys, after, PAGE);
      for (const entry of entries) {
        after = entry.id;
        const event = JSON.parse(entry.json) as ScanEvent;
        if (event.type === 'port') counts.ports++;
        else if (event.type === 'host' && event.status === 'up') counts.hostsUp++;
        yield event;
      }
      if (entries.length === PAGE) continue;
      if (draining) break;
      meta = await loadMeta(redis, keyPrefix, scanId);
      outcome = await outcomeOf(queue, meta);
      // Every event of a finished shard is in the stream before its job completes: one more read gets the last.
      if (outcome.finished) draining = true;
      else if (!follow) break;
      else await pause(poll, signal);
    }
    if (outcome.failed.length > 0) {
      const { index, reason } = outcome.failed[0]!;
      throw new PortscoutError(
        'ERR_SHARD_FAILED',
        `Shard ${index} of ${meta.shards} of distributed scan ${scanId} failed after every attempt (${outcome.failed.length} shard(s) failed; last error: ${reason}). ` +
          'The events recorded before were delivered; resumeScan(queue, scanId) re-queues the failed shards from their saved cursors.',
      );
    }
    if (outcome.finished) yield mergedDone((await shardRecords(redis, keyPrefix, scanId)).results, counts);
  } finally {
    await opened.close();
  }
}

/**
 * One shard in {@link DistributedScanStatus}.
 *
 * @example
 * ```ts
 * for (const shard of status.perShard) if (shard.state === 'failed') console.log(shard.index, shard.failedReason);
 * ```
 */
export interface ShardStatus {
  readonly index: number;
  /** Its current BullMQ job. */
  readonly jobId: string;
  readonly state: JobState | 'unknown';
  /** Times its job was started (more than 1: it was retried, resumed after a stall, or handed back by a closing worker). */
  readonly attempts: number;
  /** Times BullMQ found it stalled (its worker died or stopped renewing the lock). */
  readonly stalls: number;
  /** Probes it sent, over every attempt. */
  readonly sent: number;
  readonly pairsDone: number;
  readonly pairsTotal: number;
  /** The cursor position its last attempt resumed from. */
  readonly resumedFrom?: number;
  readonly failedReason?: string;
}

/**
 * How far a distributed scan is (see {@link scanStatus}).
 *
 * @example
 * ```ts
 * const s: DistributedScanStatus = await scanStatus(connection, scanId);
 * console.log(`${s.shards.done}/${s.shards.total} shards, ${s.probesSent} probes, ETA ${s.etaMs} ms`);
 * ```
 */
export interface DistributedScanStatus {
  readonly scanId: string;
  /** `waiting` before any shard started, `completed` when every shard has, `failed` when one failed and none runs. */
  readonly state: 'waiting' | 'running' | 'completed' | 'failed';
  /** Shards by state; `retried` counts those started more than once. */
  readonly shards: { readonly total: number; readonly waiting: number; readonly running: number; readonly done: number; readonly failed: number; readonly retried: number };
  /** Probes sent by every shard, retries included (as last saved: every few seconds). */
  readonly probesSent: number;
  readonly pairsDone: number;
  /** Pairs of the scan (shards not yet started are counted as the average of those that did). */
  readonly pairsTotal: number;
  /** Estimated milliseconds left, from the pace since the first shard started; absent until there is a pace, and once the scan ended. */
  readonly etaMs?: number;
  readonly perShard: readonly ShardStatus[];
}

/**
 * The shards of a distributed scan done, running, waiting, failed and
 * retried, the probes sent, the pairs done and an ETA, read from BullMQ's
 * job states and the progress the shards save.
 *
 * @example
 * ```ts
 * const status = await scanStatus({ host: '127.0.0.1', port: 6379 }, scanId);
 * console.log(status.state, status.shards, status.etaMs);
 * ```
 */
export async function scanStatus(connection: ConnectionOptions, scanId: string, options: Omit<ReadResultsOptions, 'follow' | 'pollIntervalMs' | 'signal'> = {}): Promise<DistributedScanStatus> {
  checkReadOptions(connection, scanId, options, 'scanStatus');
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const opened = await openScan(connection, scanId, keyPrefix, options.connectTimeoutMs ?? 10_000);
  const { redis, meta, queue } = opened;
  try {
    const states = await shardStates(queue, meta);
    const { starts, results } = await shardRecords(redis, keyPrefix, scanId);
    const perShard: ShardStatus[] = states.map(({ state, job }, index) => {
      const progress = readShardProgress(job?.progress);
      const result = results.get(index);
      const complete = state === 'completed' && result !== undefined;
      const pairsTotal = result?.pairsTotal ?? progress?.pairsTotal ?? starts.get(index)?.pairs ?? 0;
      const resumedFrom = complete ? result.resumedFrom : progress?.resumedFrom;
      return {
        index,
        jobId: meta.jobs[index]!,
        state,
        attempts: job?.attemptsStarted ?? 0,
        stalls: job?.stalledCounter ?? 0,
        sent: complete ? result.stats.sent : (progress?.sent ?? 0),
        pairsDone: complete ? pairsTotal : (progress?.pairsDone ?? 0),
        pairsTotal,
        ...(resumedFrom !== undefined ? { resumedFrom } : {}),
        ...(state === 'failed' && job?.failedReason ? { failedReason: job.failedReason } : {}),
      };
    });
    const count = (test: (s: ShardStatus) => boolean): number => perShard.filter(test).length;
    const known = perShard.filter((s) => s.pairsTotal > 0);
    const average = known.length > 0 ? known.reduce((sum, s) => sum + s.pairsTotal, 0) / known.length : 0;
    const pairsTotal = Math.round(perShard.reduce((sum, s) => sum + (s.pairsTotal > 0 ? s.pairsTotal : average), 0));
    const pairsDone = perShard.reduce((sum, s) => sum + s.pairsDone, 0);
    const shards = {
      total: meta.shards,
      waiting: count((s) => s.state === 'waiting' || s.state === 'delayed' || s.state === 'prioritized' || s.state === 'waiting-children'),
      running: count((s) => s.state === 'active'),
      done: count((s) => s.state === 'completed'),
      failed: count((s) => s.state === 'failed' || s.state === 'unknown'),
      retried: count((s) => s.attempts > 1 || s.stalls > 0 || s.jobId.includes('-r')),
    };
    const state: DistributedScanStatus['state'] =
      shards.done === shards.total ? 'completed' : shards.failed > 0 && shards.running + shards.waiting === 0 ? 'failed' : starts.size === 0 && shards.running === 0 ? 'waiting' : 'running';
    const firstStart = Math.min(...[...starts.values()].map((s) => s.startedAt));
    const elapsed = Date.now() - firstStart;
    const pace = Number.isFinite(firstStart) && elapsed > 0 ? pairsDone / elapsed : 0;
    const etaMs = state === 'running' && pace > 0 ? Math.round((pairsTotal - pairsDone) / pace) : undefined;
    return {
      scanId,
      state,
      shards,
      probesSent: perShard.reduce((sum, s) => sum + s.sent, 0),
      pairsDone,
      pairsTotal,
      ...(etaMs !== undefined ? { etaMs } : {}),
      perShard,
    };
  } finally {
    await opened.close();
  }
}

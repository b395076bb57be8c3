/**
 * `createScanWorker`: a BullMQ `Worker` that runs shard jobs with the named
 * scanner, records their events in the scan's Redis Stream, saves each
 * shard's resume cursor in its job's progress, and resumes a retried job
 * from it.
 *
 * @module
 */
import { UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job, type WorkerOptions } from 'bullmq';
import { PortscoutError } from '../errors.js';
import { scan, type ScanEvent, type ScanRequest, type ProgressEvent, type StartEvent, type DoneEvent } from '../scan/index.js';
import { checkNumberOption, checkOptionNames } from '../scan/option-check.js';
import { openRedis, patientConnection, scanKeys, type RedisAccess } from './redis-access.js';
import { PARENT_JOB_NAME, type ShardJobData } from './scan-spec.js';
import { eventId, readShardProgress, type ShardProgress, type ShardResult } from './shard-progress.js';

/**
 * Options of {@link createScanWorker}.
 *
 * @example
 * ```ts
 * const options: ScanWorkerOptions = { connection: { host: '127.0.0.1', port: 6379 }, rate: 20_000 };
 * ```
 */
export interface ScanWorkerOptions {
  /** How to reach Redis: BullMQ's connection options (ioredis options such as `{ host, port }` or `{ path }`), or a client. */
  readonly connection: ConnectionOptions;
  /** BullMQ's key prefix, the queue's. Default `'bull'`. */
  readonly prefix?: string;
  /** Packets per second this worker sends at most, over all its jobs (each of `concurrency` jobs gets an equal part). The scan's own `rate`, if lower, still applies. */
  readonly rate?: number;
  /** Shard jobs this worker runs at once. Default 1. */
  readonly concurrency?: number;
  /** Milliseconds between saves of a shard's cursor in its job's progress. Default 2000. */
  readonly cursorIntervalMs?: number;
  /** Close the worker on SIGTERM and SIGINT (its running shards save their cursors and go back to the queue). Default true. */
  readonly handleSignals?: boolean;
  /** Other BullMQ worker options (`lockDuration`, `stalledInterval`, `maxStalledCount`, ...). */
  readonly bullmq?: Omit<WorkerOptions, 'connection' | 'concurrency' | 'prefix' | 'autorun'>;
}

/**
 * What a scan's parent job returns once every shard job has completed.
 *
 * @example
 * ```ts
 * const parent = (await queue.getJob(scanId))?.returnvalue as ParentResult;
 * ```
 */
export interface ParentResult {
  readonly scanId: string;
  readonly shards: number;
}

const OPTION_NAMES = new Set(['connection', 'prefix', 'rate', 'concurrency', 'cursorIntervalMs', 'handleSignals', 'bullmq']);

/** Codes of errors a retry cannot cure: the job fails at once. */
const FINAL_CODES = new Set(['ERR_INVALID_OPTION', 'ERR_INVALID_TARGET', 'ERR_INVALID_PORTS', 'ERR_SCAN_SPACE_TOO_LARGE']);

/** Events recorded in one Redis call at most. */
const BATCH_EVENTS = 512;
/** Milliseconds events wait in the worker at most before they are recorded. */
const FLUSH_MS = 250;

function checkWorkerOptions(queueName: string, options: ScanWorkerOptions): void {
  if (typeof queueName !== 'string' || queueName === '') throw new PortscoutError('ERR_INVALID_OPTION', 'createScanWorker needs the queue name as a non-empty string.');
  if (typeof options !== 'object' || options === null || options.connection === undefined) {
    throw new PortscoutError('ERR_INVALID_OPTION', 'createScanWorker needs options with a connection (BullMQ connection options, such as { host, port }).');
  }
  checkOptionNames(options as unknown as Record<string, unknown>, OPTION_NAMES, 'createScanWorker');
  checkNumberOption('rate', options.rate, { min: 0, minInclusive: false, unit: 'packets per second' });
  checkNumberOption('concurrency', options.concurrency, { min: 1, max: 256, integer: true, unit: 'shard jobs at once' });
  checkNumberOption('cursorIntervalMs', options.cursorIntervalMs, { min: 10, unit: 'milliseconds' });
  if (options.handleSignals !== undefined && typeof options.handleSignals !== 'boolean') throw new PortscoutError('ERR_INVALID_OPTION', 'Option handleSignals must be a boolean.');
}

/**
 * A BullMQ worker of shard jobs (see {@link createScanWorker}). `close()`
 * first stops its running scans: each records its events, saves its cursor
 * and goes back to the queue without using up an attempt.
 *
 * @example
 * ```ts
 * const worker = createScanWorker('scans', { connection });
 * worker.on('completed', (job) => console.log(job.id, job.returnvalue));
 * await worker.close();
 * ```
 */
export class ScanWorker extends Worker<ShardJobData, ShardResult | ParentResult> {
  readonly #settings: ScanWorkerOptions;
  readonly #active = new Set<AbortController>();
  #redis: Promise<RedisAccess> | undefined;
  #stopping = false;
  #signals: (() => void) | undefined;

  /** Use {@link createScanWorker}. */
  constructor(queueName: string, options: ScanWorkerOptions) {
    checkWorkerOptions(queueName, options);
    const holder: { worker?: ScanWorker } = {};
    super(queueName, (job, token) => holder.worker!.#process(job, token), {
      ...options.bullmq,
      connection: patientConnection(options.connection),
      prefix: options.prefix,
      concurrency: options.concurrency ?? 1,
    });
    holder.worker = this;
    this.#settings = options;
    if (options.handleSignals !== false) {
      const onSignal = (): void => {
        void this.close();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      this.#signals = () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      };
    }
  }

  /**
   * Closes the worker. Running shards stop, record what they found, save
   * their cursors and return to the queue (another worker resumes them);
   * with `force`, they are left to BullMQ's stalled-job check.
   */
  override async close(force = false): Promise<void> {
    this.#stopping = true;
    for (const controller of this.#active) controller.abort();
    this.#signals?.();
    this.#signals = undefined;
    try {
      await super.close(force);
    } finally {
      const redis = this.#redis;
      this.#redis = undefined;
      if (redis) await (await redis.catch(() => undefined))?.close();
    }
  }

  /** portscout's own Redis connection of this worker (opened on the first job). */
  #access(): Promise<RedisAccess> {
    this.#redis ??= openRedis(patientConnection(this.#settings.connection), 60_000);
    return this.#redis;
  }

  async #process(job: Job<ShardJobData>, token: string | undefined): Promise<ShardResult | ParentResult> {
    if (job.name === PARENT_JOB_NAME) {
      const data = job.data as unknown as { scanId: string; shards: number };
      return { scanId: data.scanId, shards: data.shards };
    }
    const saved = readShardProgress(job.progress);
    const resume = saved?.cursor ?? job.data.resume;
    try {
      return await this.#runShard(job, token, saved, resume);
    } catch (error) {
      // A cursor the plan does not accept (discovery found other hosts up): scan the shard again; repeats are dropped by id.
      if (resume !== undefined && error instanceof PortscoutError && error.code === 'ERR_INVALID_CURSOR') return this.#runShard(job, token, saved, undefined);
      throw error;
    }
  }

  async #runShard(job: Job<ShardJobData>, token: string | undefined, saved: ShardProgress | undefined, resume: ShardProgress['cursor']): Promise<ShardResult> {
    const data = job.data;
    const redis = await this.#access();
    const keys = scanKeys(data.keyPrefix, data.scanId);
    const index = data.shard.index;
    const attempt = Math.max(1, job.attemptsStarted ?? 1);
    const priorSent = saved?.sent ?? data.priorSent ?? 0;
    const controller = new AbortController();
    this.#active.add(controller);
    if (this.#stopping) controller.abort();
    const workerRate = this.#settings.rate === undefined ? undefined : this.#settings.rate / (this.#settings.concurrency ?? 1);
    const rates = [data.options.rate, workerRate].filter((r): r is number => r !== undefined);
    const cursorIntervalMs = this.#settings.cursorIntervalMs ?? 2000;
    const request = {
      ...data.options,
      technique: data.scanner,
      shard: data.shard,
      signal: controller.signal,
      progressInterval: cursorIntervalMs,
      ...(resume ? { resume } : {}),
      ...(rates.length > 0 ? { rate: Math.min(...rates) } : {}),
    } as ScanRequest;

    let buffer: [string, string][] = [];
    let recorded = 0;
    let start: StartEvent | undefined;
    let done: DoneEvent | undefined;
    let progress: ProgressEvent | undefined;
    let pairsTotal = saved?.pairsTotal ?? 0;
    let startedAt = Date.now();
    let lastFlush = Date.now();
    let lastSave = Date.now();
    const run = scan(request);
    const flush = async (): Promise<void> => {
      lastFlush = Date.now();
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      recorded += await redis.record(keys, index, batch);
    };
    const snapshot = (): ShardProgress => {
      const left = start?.pairs ?? pairsTotal;
      const doneHere = done ? left : progress?.phase === 'ports' ? progress.done : 0;
      const cursor = run.cursor() ?? resume;
      return {
        v: 1,
        ...(cursor ? { cursor } : {}),
        sent: priorSent + (done?.stats.sent ?? progress?.sent ?? 0),
        pairsDone: Math.min(pairsTotal, pairsTotal - left + doneHere),
        pairsTotal,
        attempt,
        ...(start?.resumedFrom ? { resumedFrom: start.resumedFrom.position } : {}),
        savedAt: Date.now(),
      };
    };
    // The cursor is taken after every event handed over so far is recorded: it never covers an event the stream lacks.
    const save = async (): Promise<void> => {
      await flush();
      lastSave = Date.now();
      await job.updateProgress(snapshot());
    };
    try {
      for await (const event of run as AsyncIterable<ScanEvent>) {
        if (event.type === 'start') {
          start = event;
          const { resumedFrom: _resumed, ...first } = event;
          await redis.setIfAbsent(keys.shards, `start:${index}`, JSON.stringify(first));
          const recordedStart = JSON.parse((await redis.client.hget(keys.shards, `start:${index}`)) ?? 'null') as StartEvent | null;
          pairsTotal = recordedStart?.pairs ?? event.pairs;
          startedAt = recordedStart?.startedAt ?? event.startedAt;
        } else if (event.type === 'progress') {
          progress = event;
        } else if (event.type === 'done') {
          done = event;
        } else {
          const id = eventId(event);
          if (id !== undefined) buffer.push([id, JSON.stringify(event)]);
        }
        const now = Date.now();
        if (buffer.length >= BATCH_EVENTS || (buffer.length > 0 && now - lastFlush >= FLUSH_MS)) await flush();
        if (now - lastSave >= cursorIntervalMs) await save();
      }
    } catch (error) {
      this.#active.delete(controller);
      if (controller.signal.aborted && this.#stopping) {
        // Closing: keep what was found, save the cursor, hand the job back without using an attempt.
        await save();
        await job.moveToWait(token);
        throw new WaitingError();
      }
      await save().catch(() => undefined);
      throw jobError(error);
    }
    this.#active.delete(controller);
    await flush();
    const final = snapshot();
    await job.updateProgress(final);
    const stats = { ...(done?.stats ?? ({} as DoneEvent['stats'])), sent: final.sent };
    const result: ShardResult = {
      shard: data.shard,
      attempt,
      ...(final.resumedFrom !== undefined ? { resumedFrom: final.resumedFrom } : {}),
      pairsScanned: start?.pairs ?? 0,
      pairsTotal,
      recorded,
      stats,
      startedAt,
      finishedAt: Date.now(),
    };
    await redis.client.hset(keys.shards, { [`done:${index}`]: JSON.stringify(result) });
    return result;
  }
}

/** The error a failed shard job carries: its code in the message; input errors fail at once. */
function jobError(error: unknown): Error {
  if (error instanceof PortscoutError) {
    const message = `${error.code}: ${error.message}`;
    return FINAL_CODES.has(error.code) ? new UnrecoverableError(message) : new Error(message, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A BullMQ `Worker` of `queueName` that runs the shard jobs of
 * {@link enqueueScan} with the scanner each names. It records each shard's
 * events in the scan's Redis Stream (an id per (host, port), so a resumed
 * shard's repeats are dropped), saves the shard's resume cursor in the job's
 * progress every `cursorIntervalMs`, and resumes a job BullMQ retries (after
 * a crash, a stall or an error) from the last cursor. It sends at most
 * `rate` packets per second, and closes cleanly on SIGTERM: running shards
 * save their cursors and go back to the queue.
 *
 * @example
 * ```ts
 * const worker = createScanWorker('scans', { connection: { host: '127.0.0.1', port: 6379 }, rate: 10_000 });
 * worker.on('failed', (job, error) => console.error(job?.id, error.message));
 * ```
 */
export function createScanWorker(queueName: string, options: ScanWorkerOptions): ScanWorker {
  return new ScanWorker(queueName, options);
}

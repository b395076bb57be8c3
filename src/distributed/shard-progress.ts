/**
 * What a shard job saves as its BullMQ progress (its resume cursor and
 * counts), what it records per shard in Redis, and the id of each event.
 *
 * @module
 */
import type { ScanCursor, ShardSpec } from '../targets/index.js';
import type { ScanEvent, ScanStats } from '../scan/index.js';

/**
 * A shard job's progress, saved every few seconds: where a retried job
 * resumes, and the counts `scanStatus` reports.
 *
 * @example
 * ```ts
 * const progress = job.progress as ShardProgress;
 * console.log(progress.pairsDone, '/', progress.pairsTotal, progress.cursor?.position);
 * ```
 */
export interface ShardProgress {
  readonly v: 1;
  /** The safe resume point: every event before it (and those it skips) is in the scan's stream. */
  readonly cursor?: ScanCursor;
  /** Probes sent by every attempt of the shard so far. */
  readonly sent: number;
  /** Pairs of the shard done. */
  readonly pairsDone: number;
  /** Pairs of the shard (its first attempt's plan). */
  readonly pairsTotal: number;
  /** The attempt that saved it (1 for the first). */
  readonly attempt: number;
  /** The cursor position this attempt resumed from, when it resumed. */
  readonly resumedFrom?: number;
  /** When it was saved, milliseconds since the epoch. */
  readonly savedAt: number;
}

/**
 * What a shard job returns (its BullMQ return value), and what it records
 * as the shard's result in Redis.
 *
 * @example
 * ```ts
 * const result = (await queue.getJob(`${scanId}-3`))?.returnvalue as ShardResult;
 * if (result.resumedFrom !== undefined) console.log(`shard 3 resumed at ${result.resumedFrom} and scanned ${result.pairsScanned} pairs`);
 * ```
 */
export interface ShardResult {
  readonly shard: ShardSpec;
  /** Attempts it took (1 when it never had to resume). */
  readonly attempt: number;
  /** The cursor position the last attempt resumed from; undefined when it ran from the start. */
  readonly resumedFrom?: number;
  /** Pairs the last attempt scanned: the whole shard, or what was left after its cursor. */
  readonly pairsScanned: number;
  /** Pairs of the whole shard. */
  readonly pairsTotal: number;
  /** Events this shard added to the stream in its last attempt (repeats of earlier attempts dropped). */
  readonly recorded: number;
  /** The last attempt's statistics, its `sent` counting every attempt's probes. */
  readonly stats: ScanStats;
  /** When the shard's first attempt started and its last one ended, milliseconds since the epoch. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** A job's progress as a {@link ShardProgress}, or undefined when it is none (a new job's `0`). */
export function readShardProgress(progress: unknown): ShardProgress | undefined {
  if (typeof progress !== 'object' || progress === null) return undefined;
  const value = progress as Partial<ShardProgress>;
  return value.v === 1 && typeof value.sent === 'number' ? (value as ShardProgress) : undefined;
}

/**
 * The id of an event in a distributed scan's stream: one per (host,
 * protocol, port) for `port` events, one per host for `host` events, one
 * per distinct warning. A resumed shard's repeats have the same id and are
 * dropped. Undefined for the events that are not recorded (`start`,
 * `progress`, `done`: the reader makes the merged ones).
 *
 * @example
 * ```ts
 * eventId({ type: 'port', family: 4, address: '127.0.0.1', protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', method: 'syn' }); // 'p/127.0.0.1/tcp/22'
 * ```
 */
export function eventId(event: ScanEvent): string | undefined {
  switch (event.type) {
    case 'port':
      return `p/${event.address}/${event.protocol}/${event.port}`;
    case 'host':
      return `h/${event.address}`;
    case 'warning':
      return `w/${event.code}/${event.target ?? ''}/${event.message}`;
    default:
      return undefined;
  }
}

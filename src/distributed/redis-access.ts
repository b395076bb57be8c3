/**
 * portscout's own Redis access beside BullMQ's: a connection made with
 * BullMQ's `RedisConnection` (so any client BullMQ takes works), bounded in
 * time, with the Lua scripts that record and read a scan's events.
 *
 * @module
 */
import { RedisConnection, type ConnectionOptions, type IRedisClient } from 'bullmq';
import { PortscoutError } from '../errors.js';

/** The Redis keys of one distributed scan. */
export interface ScanKeys {
  /** Hash: the scan's metadata (queue, BullMQ prefix, shards, job ids, spec). */
  readonly meta: string;
  /** Stream: the scan's events, one entry per (host, port) id. */
  readonly events: string;
  /** Set: the ids of the events recorded, so that a resumed shard's repeats are dropped. */
  readonly seen: string;
  /** Hash: each shard's first `start` event (`start:<i>`) and its result (`done:<i>`). */
  readonly shards: string;
}

/** The keys of scan `scanId` under `prefix`. */
export function scanKeys(prefix: string, scanId: string): ScanKeys {
  const base = `${prefix}:${scanId}`;
  return { meta: base, events: `${base}:events`, seen: `${base}:seen`, shards: `${base}:shards` };
}

/**
 * Records a batch of events: KEYS seen, events; ARGV shard, then id and JSON
 * pairs. An id already seen is dropped; the others are appended to the
 * stream. Atomic, so the set and the stream never disagree (also across an
 * AOF rewrite or a restart).
 */
const RECORD_LUA = `
local added = 0
for i = 2, #ARGV, 2 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'k', ARGV[i], 's', ARGV[1], 'e', ARGV[i + 1])
    added = added + 1
  end
end
return added`;

/** Reads up to ARGV[2] stream entries after ARGV[1] ('-' for the first). */
const RANGE_LUA = `
local from = ARGV[1]
if from ~= '-' then from = '(' .. from end
return redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', tonumber(ARGV[2]))`;

/** HSETNX KEYS[1] ARGV[1] ARGV[2]. */
const HSETNX_LUA = `return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])`;

/** One stream entry: its id, the event's id, the shard and the event's JSON. */
export interface StreamEntry {
  readonly id: string;
  readonly key: string;
  readonly shard: number;
  readonly json: string;
}

/** portscout's Redis client for one scan API call or one worker. */
export interface RedisAccess {
  readonly client: IRedisClient;
  /** Appends the events whose ids are new; resolves to how many were. */
  record(keys: ScanKeys, shard: number, batch: readonly (readonly [string, string])[]): Promise<number>;
  /** Up to `count` entries after stream id `after` (`'-'` from the start). */
  range(keys: ScanKeys, after: string, count: number): Promise<StreamEntry[]>;
  /** HSETNX: sets a hash field unless it exists; true when it was set. */
  setIfAbsent(key: string, field: string, value: string): Promise<boolean>;
  close(): Promise<void>;
}

/** How a connection option reads in a message: its socket path, URL or host:port. */
export function describeConnection(connection: ConnectionOptions): string {
  const options = connection as { path?: unknown; url?: unknown; host?: unknown; port?: unknown; options?: { host?: unknown; port?: unknown; path?: unknown } };
  if (typeof options.path === 'string') return `unix:${options.path}`;
  if (typeof options.url === 'string') return options.url.replace(/\/\/[^@/]*@/, '//***@');
  const inner = options.options ?? options;
  if (typeof inner.path === 'string') return `unix:${inner.path}`;
  return `${typeof inner.host === 'string' ? inner.host : '127.0.0.1'}:${typeof inner.port === 'number' ? inner.port : 6379}`;
}

/** Whether a connection option is a client instance (not an options object). */
function isClient(connection: ConnectionOptions): boolean {
  return typeof (connection as { connect?: unknown }).connect === 'function';
}

/** Options for a connection whose commands wait through a Redis restart rather than fail. */
export function patientConnection(connection: ConnectionOptions): ConnectionOptions {
  return isClient(connection) ? connection : { ...(connection as object), maxRetriesPerRequest: null };
}

/**
 * Opens portscout's connection and waits until Redis answers, at most
 * `timeoutMs`: past it, rejects with `ERR_REDIS_UNREACHABLE` naming the
 * address and the last connection error.
 */
export async function openRedis(connection: ConnectionOptions, timeoutMs: number): Promise<RedisAccess> {
  const redis = new RedisConnection(connection, { shared: isClient(connection) });
  let lastError: unknown;
  const onError = (error: unknown): void => {
    lastError = error;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = lastError instanceof Error ? `: ${(lastError as { code?: string }).code ?? ''} ${lastError.message}`.replace(/: +/, ': ') : '';
      reject(
        new PortscoutError('ERR_REDIS_UNREACHABLE', `Redis at ${describeConnection(connection)} did not answer within ${timeoutMs} ms${why}.`, { cause: lastError }),
      );
    }, timeoutMs);
  });
  let client: IRedisClient;
  try {
    client = await Promise.race([
      (async () => {
        const ready = (await redis.client) as unknown as IRedisClient;
        await ready.get('portscout:ping');
        return ready;
      })(),
      deadline,
    ]);
  } catch (error) {
    await redis.close(true).catch(() => undefined);
    if (error instanceof PortscoutError) throw error;
    throw new PortscoutError('ERR_REDIS_UNREACHABLE', `Redis at ${describeConnection(connection)} refused the connection: ${(error as Error).message}.`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  client.defineCommand('portscoutRecord', { numberOfKeys: 2, lua: RECORD_LUA });
  client.defineCommand('portscoutRange', { numberOfKeys: 1, lua: RANGE_LUA, readOnly: true });
  client.defineCommand('portscoutSetIfAbsent', { numberOfKeys: 1, lua: HSETNX_LUA });
  return {
    client,
    async record(keys, shard, batch) {
      if (batch.length === 0) return 0;
      return Number(await client.runCommand('portscoutRecord', [keys.seen, keys.events, String(shard), ...batch.flat()]));
    },
    async range(keys, after, count) {
      const rows = (await client.runCommand('portscoutRange', [keys.events, after, String(count)])) as [string, string[]][];
      return rows.map(([id, fields]) => {
        const map = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]));
        return { id: String(id), key: map.get('k') ?? '', shard: Number(map.get('s') ?? 0), json: map.get('e') ?? 'null' };
      });
    },
    async setIfAbsent(key, field, value) {
      return Number(await client.runCommand('portscoutSetIfAbsent', [key, field, value])) === 1;
    },
    async close() {
      redis.off('error', onError);
      redis.on('error', () => undefined);
      await redis.close().catch(() => undefined);
    },
  };
}

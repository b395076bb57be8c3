/**
 * What a distributed scan is (a technique, its options and a shard count),
 * how it is checked before any job exists, and what each shard job carries.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { PortscoutError } from '../errors.js';
import type { ScanCursor, ShardSpec } from '../targets/index.js';
import { scan, type ScanRequest, type TechniqueName } from '../scan/index.js';
import { checkNumberOption, describeValue } from '../scan/option-check.js';

/**
 * A scan's options as a distributed scan takes them: every option of
 * `scan()` that can travel in a job as JSON. `technique` is
 * {@link DistributedScan.scanner}; `shard` and `resume` are set per shard
 * job; `signal` and `resolve` (a function) cannot travel. Targets are text
 * or an array of strings.
 */
export type DistributedScanOptions = Omit<ScanRequest, 'technique' | 'shard' | 'resume' | 'signal' | 'resolve' | 'targets'> & {
  /** Targets in nmap's syntax: text (one or more, separated by spaces, commas or newlines) or an array of such strings. */
  readonly targets: string | readonly string[];
};

/**
 * One scan to split into shard jobs: the scanner (a technique of
 * `TECHNIQUES`), its options and how many shards.
 *
 * @example
 * ```ts
 * const spec: DistributedScan = {
 *   scanner: 'syn',
 *   options: { targets: '127.0.0.1', ports: '1-1024', skipDiscovery: true, order: { random: true, seed: 'nightly' } },
 *   shards: 8,
 * };
 * ```
 */
export interface DistributedScan {
  /** The technique every shard runs: `'syn'`, `'connect'`, `'udp'`, ... (see `TECHNIQUES`). */
  readonly scanner: TechniqueName;
  /** The scan's options, the same for every shard. A random order without a seed gets one drawn here, so every shard permutes the same space. */
  readonly options: DistributedScanOptions;
  /** Shard jobs, 1 to 65,536: each takes every `shards`-th pair of the permuted space. */
  readonly shards: number;
  /** Attempts BullMQ gives each shard job (crashes and stalls are retried from the saved cursor). Default 5. */
  readonly attempts?: number;
  /** Milliseconds before a failed shard's next attempt (BullMQ's fixed backoff). Default 1000. */
  readonly backoffMs?: number;
}

/** The BullMQ job name of a distributed scan's parent job. */
export const PARENT_JOB_NAME = 'portscout-scan';
/** The BullMQ job name of a shard job. */
export const SHARD_JOB_NAME = 'portscout-shard';
/** Default prefix of the Redis keys portscout itself writes (metadata, event streams). */
export const DEFAULT_KEY_PREFIX = 'portscout:scan';

/**
 * The data of one shard job.
 *
 * @example
 * ```ts
 * const data: ShardJobData = job.data;
 * console.log(data.scanId, data.shard.index, data.shard.count);
 * ```
 */
export interface ShardJobData {
  readonly v: 1;
  /** The scan this shard belongs to. */
  readonly scanId: string;
  readonly scanner: TechniqueName;
  /** The scan's options with its order (and seed) fixed. */
  readonly options: DistributedScanOptions;
  readonly shard: ShardSpec;
  /** Prefix of portscout's own Redis keys. */
  readonly keyPrefix: string;
  /** Where to start when the job has no progress of its own yet (a shard re-queued by `resumeScan`). */
  readonly resume?: ScanCursor;
  /** Probes sent by earlier jobs of this shard (a shard re-queued by `resumeScan`). */
  readonly priorSent?: number;
}

/** Options a distributed scan sets itself, or that cannot travel in a job. */
const FORBIDDEN: Readonly<Record<string, string>> = {
  technique: 'give the technique as the scan\'s scanner',
  shard: 'enqueueScan sets each job\'s shard',
  resume: 'shards resume from their own saved cursors',
  signal: 'an AbortSignal cannot travel in a job; close the workers or remove the jobs instead',
  resolve: 'a function cannot travel in a job; workers resolve names with the system resolver',
};

/** Throws unless `value` is made of JSON values only (path names the first that is not). */
function checkJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PortscoutError('ERR_INVALID_OPTION', `Option ${path} must be a finite number to travel in a job; got ${String(value)}.`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [key, item] of Object.entries(value)) if (item !== undefined) checkJson(item, `${path}.${key}`);
    return;
  }
  throw new PortscoutError('ERR_INVALID_OPTION', `Option ${path} must be a JSON value (text, number, boolean, array or plain object) to travel in a job; got ${describeValue(value)}.`);
}

/** The scan's order with a seed fixed: a random order without one gets a drawn seed. */
function fixedOrder(order: DistributedScanOptions['order']): DistributedScanOptions['order'] {
  const drawn = (): string => randomBytes(8).toString('hex');
  if (order === 'random') return { random: true, seed: drawn() };
  if (typeof order === 'object' && order !== null && order.random === true && order.seed === undefined) return { random: true, seed: drawn() };
  return order;
}

/**
 * Checks a distributed scan synchronously, with the scanners' own option
 * checks (the options of shard 0 of N are given to `scan()`, which throws
 * before anything runs), and returns it with its order's seed fixed.
 * Throws `ERR_INVALID_OPTION` (or the plan's `ERR_INVALID_PORTS`,
 * `ERR_INVALID_TARGET`, `ERR_INVALID_CURSOR`).
 *
 * @example
 * ```ts
 * const checked = checkDistributedScan({ scanner: 'connect', options: { targets: '127.0.0.1', ports: '1-100' }, shards: 4 });
 * ```
 */
export function checkDistributedScan(spec: DistributedScan): DistributedScan & { readonly attempts: number; readonly backoffMs: number } {
  if (typeof spec !== 'object' || spec === null) throw new PortscoutError('ERR_INVALID_OPTION', `enqueueScan needs a scan { scanner, options, shards }; got ${describeValue(spec)}.`);
  for (const key of Object.keys(spec)) {
    if (!['scanner', 'options', 'shards', 'attempts', 'backoffMs'].includes(key)) {
      throw new PortscoutError('ERR_INVALID_OPTION', `Unknown field ${JSON.stringify(key)} of a distributed scan: it takes scanner, options, shards, attempts and backoffMs.`);
    }
  }
  if (typeof spec.shards !== 'number') throw new PortscoutError('ERR_INVALID_OPTION', `A distributed scan needs shards (a whole number 1-65536); got ${describeValue(spec.shards)}.`);
  checkNumberOption('shards', spec.shards, { min: 1, max: 65536, integer: true, unit: 'shard jobs' });
  checkNumberOption('attempts', spec.attempts, { min: 1, max: 1000, integer: true, unit: 'attempts per shard job' });
  checkNumberOption('backoffMs', spec.backoffMs, { min: 0, max: 86_400_000, unit: 'milliseconds' });
  const options = spec.options;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PortscoutError('ERR_INVALID_OPTION', `A distributed scan needs options (an object with at least targets); got ${describeValue(options)}.`);
  }
  for (const [key, why] of Object.entries(FORBIDDEN)) {
    if ((options as Record<string, unknown>)[key] !== undefined) throw new PortscoutError('ERR_INVALID_OPTION', `Option ${key} cannot be given to a distributed scan: ${why}.`);
  }
  const targets: unknown = options.targets;
  if (typeof targets !== 'string' && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string'))) {
    throw new PortscoutError('ERR_INVALID_OPTION', `A distributed scan's targets must be text or an array of strings (so that they travel in a job); got ${describeValue(targets)}.`);
  }
  checkJson(options, 'options');
  const fixed: DistributedScanOptions = { ...options, order: fixedOrder(options.order) };
  // The scanner's own synchronous checks: names, numbers, timing, technique options, ports, shard, order, targets given as text.
  const probe = scan({ ...(fixed as Omit<ScanRequest, 'technique'>), technique: spec.scanner, shard: { index: 0, count: spec.shards } } as ScanRequest);
  void probe.return();
  return { ...spec, options: fixed, attempts: spec.attempts ?? 5, backoffMs: spec.backoffMs ?? 1000 };
}

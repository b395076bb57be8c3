/**
 * A planned scan: the (host, protocol, port) space of a target set and a port
 * set, in sequential or seeded random order, cut to one shard and resumed from
 * a cursor. The plan is lazy: its size is known at once and each pair is
 * computed from its index when iterated, never stored.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { PortscoutError } from '../errors.js';
import { HostIndex } from './host-index.js';
import { IndexPermutation } from './index-permutation.js';
import { ipv4Bytes, parseIpv4 } from './ipv4-text.js';
import { ipv6Bytes, ipv6Words, parseIpv6 } from './ipv6-text.js';
import type { PortSet } from './port-spec.js';
import { validateScanCursor, type ScanCursor } from './scan-cursor.js';
import type { PortProtocol } from './service-table.js';
import type { TargetSet } from './target-set.js';

/**
 * The order of a scan: `'sequential'` (ascending address, then TCP ports
 * ascending, then UDP ports ascending) or a pseudo-random permutation of the
 * whole (host, port) space, reproducible from its seed (`'random'` draws one).
 *
 * @example
 * ```ts
 * const order: ScanOrder = { random: true, seed: 'nightly-2024-06-01' };
 * ```
 */
export type ScanOrder = 'sequential' | 'random' | { readonly random: true; readonly seed?: number | string };

/**
 * One of `count` disjoint parts of a scan (`0 <= index < count`); the parts
 * together cover the scan exactly, so each machine of a job runner can be
 * started with its index only.
 *
 * @example
 * ```ts
 * const shard: ShardSpec = { index: Number(process.env.JOB_COMPLETION_INDEX), count: 8 };
 * ```
 */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

function addressBytesOf(family: 4 | 6, address: string): Uint8Array {
  if (family === 4) return ipv4Bytes(parseIpv4(address)!);
  const [w0, w1, w2, w3] = ipv6Words(parseIpv6(address)!);
  return ipv6Bytes(w0, w1, w2, w3);
}

/**
 * A host of a plan, for host discovery.
 *
 * @example
 * ```ts
 * for (const host of plan.hosts()) console.log(host.family, host.address, host.hostname);
 * ```
 */
export class PlannedHost {
  constructor(
    readonly family: 4 | 6,
    /** Canonical text of the address. */
    readonly address: string,
    /** The host name the address was resolved from, if any. */
    readonly hostname: string | undefined,
  ) {}

  /** The 4 or 16 bytes of the address (network order), computed on access. */
  get addressBytes(): Uint8Array {
    return addressBytesOf(this.family, this.address);
  }
}

/**
 * One (address, protocol, port) pair to probe. Every field but
 * `addressBytes` is an own data property, so the pair spreads and serialises
 * as a plain object.
 *
 * @example
 * ```ts
 * for (const pair of plan.pairs()) send(pair.family, pair.address, pair.protocol, pair.port);
 * ```
 */
export class ScanPair {
  constructor(
    readonly family: 4 | 6,
    /** Canonical text of the address. */
    readonly address: string,
    readonly protocol: PortProtocol,
    readonly port: number,
    /** The host name the address was resolved from, if any. */
    readonly hostname: string | undefined,
    /** Position of the pair in its shard's order: `plan.cursorAt(position + 1)` marks it done. */
    readonly position: number,
  ) {}

  /** The 4 or 16 bytes of the address (network order), computed on access. */
  get addressBytes(): Uint8Array {
    return addressBytesOf(this.family, this.address);
  }
}

/**
 * What a {@link ScanPlan} is built from; `planScan()` fills it from user input.
 *
 * @example
 * ```ts
 * const plan = new ScanPlan({ targets: TargetSet.fromSpecs(['198.18.0.0/30']), ports: { tcp: [22], udp: [] }, names: new Map(),
 *   seed: undefined, shard: { index: 0, count: 1 }, unresolved: [], warnings: [] });
 * ```
 */
export interface ScanPlanInit {
  readonly targets: TargetSet;
  readonly ports: PortSet;
  /** Address text to the host name it was resolved from. */
  readonly names: ReadonlyMap<string, string>;
  /** `undefined` for sequential order. */
  readonly seed: string | undefined;
  readonly shard: ShardSpec;
  /** Resume after the pairs this cursor marks done; it must carry this plan's fingerprint. */
  readonly resume?: ScanCursor;
  readonly unresolved: readonly { readonly name: string; readonly error: string }[];
  readonly warnings: readonly string[];
}

const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/**
 * The plan of a scan. Create it with `planScan()`.
 *
 * @example
 * ```ts
 * const plan = await planScan({ targets: ['198.18.0.0/24'], ports: '22,80', order: { random: true, seed: 1 } });
 * plan.size; // 512
 * for (const pair of plan.pairs()) console.log(pair.address, pair.port);
 * ```
 */
export class ScanPlan {
  /** Pairs this plan yields: those of its shard, minus the ones a resume cursor marks done. */
  readonly size: number;
  /** Pairs of the whole space (every shard): hosts x ports. */
  readonly totalPairs: number;
  /** Pairs of this plan's shard, done or not. */
  readonly shardPairs: number;
  /** Exact number of hosts (after exclusions). */
  readonly hostCount: bigint;
  /** Host names that did not resolve, with the reason. */
  readonly unresolved: readonly { readonly name: string; readonly error: string }[];
  /** Problems that do not stop the scan (every target excluded, ...). */
  readonly warnings: readonly string[];
  /** The ports, normalised. */
  readonly ports: PortSet;
  /** The seed of a random order, `undefined` when sequential. */
  readonly seed: string | undefined;
  readonly shard: ShardSpec;
  /** Identifies the plan's space, order and shard; cursors carry it. */
  readonly fingerprint: string;
  /** Position in the shard's order this plan starts from. */
  readonly startPosition: number;
  /** Ranges `[from, to)` of positions after {@link startPosition} that the resume cursor marks done; {@link pairs} skips them. */
  readonly skip: readonly (readonly [number, number])[];

  private readonly hostIndex: HostIndex;
  private readonly names: ReadonlyMap<string, string>;
  private readonly portCount: number;
  private readonly permutation: IndexPermutation | undefined;

  constructor(init: ScanPlanInit) {
    this.hostIndex = new HostIndex(init.targets);
    this.hostCount = init.targets.count;
    this.ports = init.ports;
    this.portCount = init.ports.tcp.length + init.ports.udp.length;
    const total = BigInt(this.hostIndex.count) * BigInt(this.portCount);
    if (total > BigInt(MAX_INDEX)) {
      throw new PortscoutError(
        'ERR_SCAN_SPACE_TOO_LARGE',
        `The scan has ${this.hostIndex.count} hosts x ${this.portCount} ports = ${total} pairs; at most 2^53-1 are supported. ` +
          'Narrow the targets (longer IPv6 prefixes) or the ports, or run several scans.',
      );
    }
    this.totalPairs = Number(total);
    this.names = init.names;
    this.seed = init.seed;
    this.shard = init.shard;
    this.unresolved = init.unresolved;
    this.warnings = init.warnings;
    this.shardPairs = strideCount(this.totalPairs, init.shard);
    this.fingerprint = fingerprintOf(init);
    const resumeFrom = init.resume?.position ?? 0;
    if (init.resume && init.resume.fingerprint !== this.fingerprint) {
      throw new PortscoutError(
        'ERR_INVALID_CURSOR',
        `The resume cursor belongs to another plan (fingerprint ${init.resume.fingerprint}, this plan ${this.fingerprint}): ` +
          'targets, exclusions, resolved names, ports, order, seed and shard must be the same as in the run that made it.',
      );
    }
    if (resumeFrom > this.shardPairs) {
      throw new PortscoutError('ERR_INVALID_CURSOR', `The cursor's position ${resumeFrom} is beyond this plan's ${this.shardPairs} pairs.`);
    }
    const skip = init.resume?.skip ?? [];
    const lastSkip = skip.at(-1);
    if (lastSkip !== undefined && lastSkip[1] > this.shardPairs) {
      throw new PortscoutError('ERR_INVALID_CURSOR', `The cursor skips pairs up to position ${lastSkip[1]}, beyond this plan's ${this.shardPairs} pairs.`);
    }
    this.startPosition = resumeFrom;
    this.skip = skip;
    this.size = this.shardPairs - resumeFrom - skip.reduce((sum, [from, to]) => sum + (to - from), 0);
    this.permutation = init.seed === undefined ? undefined : new IndexPermutation(this.totalPairs, init.seed);
  }

  /** Number of distinct hosts as a number (at most 2^53-1). */
  get hostTotal(): number {
    return this.hostIndex.count;
  }

  /** The pairs of the plan, from its start position, in its order, without those the resume cursor skips. */
  pairs(): IterableIterator<ScanPair> {
    return new PairIterator(this, this.startPosition, this.shardPairs, this.skip);
  }

  /** The pair at a position of the shard's order (`0 <= position < shardPairs`), done or not. */
  pairAt(position: number): ScanPair {
    if (!Number.isSafeInteger(position) || position < 0 || position >= this.shardPairs) {
      throw new RangeError(`Position ${String(position)} is outside the shard's ${this.shardPairs} pairs.`);
    }
    return this.computePair(position);
  }

  /** @internal The pair at a valid position (the iterator's hot path). */
  computePair(position: number): ScanPair {
    const slot = this.shard.index + position * this.shard.count;
    const index = this.permutation === undefined ? slot : this.permutation.at(slot);
    const portCount = this.portCount;
    const host = portCount === 1 ? index : Math.floor(index / portCount);
    const portIndex = index - host * portCount;
    const hosts = this.hostIndex;
    const address = hosts.addressAt(host);
    const tcpCount = this.ports.tcp.length;
    const hostname = this.names.size === 0 ? undefined : this.names.get(address);
    return portIndex < tcpCount
      ? new ScanPair(host < hosts.ipv4Count ? 4 : 6, address, 'tcp', this.ports.tcp[portIndex]!, hostname, position)
      : new ScanPair(host < hosts.ipv4Count ? 4 : 6, address, 'udp', this.ports.udp[portIndex - tcpCount]!, hostname, position);
  }

  /**
   * The distinct hosts of the plan's shard, before ports, in the plan's order
   * (ascending, or a seeded permutation of the hosts); a shard takes every
   * `count`-th host. A resume cursor does not apply to hosts.
   */
  *hosts(): IterableIterator<PlannedHost> {
    const count = this.hostIndex.count;
    const permutation = this.seed === undefined ? undefined : new IndexPermutation(count, `${this.seed}:hosts`);
    for (let slot = this.shard.index; slot < count; slot += this.shard.count) {
      const index = permutation === undefined ? slot : permutation.at(slot);
      const address = this.hostIndex.addressAt(index);
      yield new PlannedHost(this.hostIndex.familyAt(index), address, this.names.get(address));
    }
  }

  /**
   * A cursor after the first `done` pairs that {@link pairs} yields (`0 <= done <= size`).
   * Pairs the plan's own resume cursor skipped stay skipped.
   */
  cursorAfter(done: number): ScanCursor {
    if (!Number.isSafeInteger(done) || done < 0 || done > this.size) {
      throw new PortscoutError('ERR_INVALID_CURSOR', `Cannot place a cursor after ${String(done)} pairs: this plan has ${this.size}.`);
    }
    // Walk the skipped ranges: the position after `done` yielded pairs.
    let position = this.startPosition + done;
    for (const [from, to] of this.skip) {
      if (from >= position) break;
      position += to - from;
    }
    return this.cursorAt(position, this.skip.filter(([from]) => from > position));
  }

  /**
   * A cursor at a position of the shard's order: every pair before it is done
   * (`0 <= position <= shardPairs`), and so are those in `skip`, `[from, to)`
   * ranges after `position`, ascending and disjoint (see {@link ScanCursor.skip}).
   */
  cursorAt(position: number, skip: readonly (readonly [number, number])[] = []): ScanCursor {
    if (!Number.isSafeInteger(position) || position < 0 || position > this.shardPairs) {
      throw new PortscoutError('ERR_INVALID_CURSOR', `Cannot place a cursor at position ${String(position)}: the shard has ${this.shardPairs} pairs.`);
    }
    const cursor: { v: 1; fingerprint: string; position: number; seed?: string; skip?: readonly (readonly [number, number])[] } = {
      v: 1,
      fingerprint: this.fingerprint,
      position,
    };
    if (this.seed !== undefined) cursor.seed = this.seed;
    if (skip.length > 0) cursor.skip = skip.map(([from, to]) => [from, to] as const);
    return validateScanCursor(cursor);
  }
}

/** How many of `0 .. total-1` are `index` modulo `count`. */
function strideCount(total: number, shard: ShardSpec): number {
  return total > shard.index ? Math.floor((total - 1 - shard.index) / shard.count) + 1 : 0;
}

function fingerprintOf(init: ScanPlanInit): string {
  const hash = createHash('sha256');
  const { ipv4, ipv6 } = init.targets;
  const chunk: string[] = [];
  const flush = (): void => {
    hash.update(chunk.join(','));
    chunk.length = 0;
  };
  hash.update('v4:');
  for (let i = 0; i < ipv4.starts.length; i++) {
    chunk.push(`${ipv4.starts[i]}-${ipv4.ends[i]}`);
    if (chunk.length >= 4096) flush();
  }
  flush();
  hash.update(';v6:');
  for (let i = 0; i < ipv6.starts.length; i++) chunk.push(`${ipv6.starts[i]}-${ipv6.ends[i]}`);
  flush();
  // The same text as `;tcp:${tcp.join(',')};udp:${udp.join(',')}`, written as bytes: a full port
  // range made 65,535 number strings (kept by V8's number-string cache) and a 380 KB string per plan.
  hash.update(';tcp:');
  hashPortList(hash, init.ports.tcp);
  hash.update(';udp:');
  hashPortList(hash, init.ports.udp);
  hash.update(`;names:${JSON.stringify([...init.names].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))}`);
  hash.update(`;order:${init.seed === undefined ? 'sequential' : `random:${init.seed}`};shard:${init.shard.index}/${init.shard.count}`);
  return hash.digest('hex').slice(0, 32);
}

/** Feeds `ports.join(',')` to `hash` as ASCII bytes, through a small buffer. */
function hashPortList(hash: Hash, ports: readonly number[]): void {
  const buffer = new Uint8Array(8192);
  let used = 0;
  for (let i = 0; i < ports.length; i++) {
    if (used > buffer.length - 8) {
      hash.update(buffer.subarray(0, used));
      used = 0;
    }
    if (i > 0) buffer[used++] = 0x2c; // ','
    let port = ports[i] as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      // Not a port number (a plan never holds one): its text, as join would write it.
      const text = String(port);
      for (let c = 0; c < text.length; c++) buffer[used++] = text.charCodeAt(c) & 0x7f;
      continue;
    }
    const digits = port >= 10000 ? 5 : port >= 1000 ? 4 : port >= 100 ? 3 : port >= 10 ? 2 : 1;
    for (let d = digits - 1; d >= 0; d--) {
      buffer[used + d] = 0x30 + (port % 10);
      port = Math.floor(port / 10);
    }
    used += digits;
  }
  if (used > 0) hash.update(buffer.subarray(0, used));
}

class PairIterator implements IterableIterator<ScanPair> {
  /** Index of the next skipped range in {@link skip}. */
  private nextSkip = 0;

  constructor(
    private readonly plan: ScanPlan,
    private position: number,
    private readonly end: number,
    private readonly skip: readonly (readonly [number, number])[],
  ) {}

  next(): IteratorResult<ScanPair, undefined> {
    const range = this.skip[this.nextSkip];
    if (range !== undefined && this.position >= range[0]) {
      this.position = range[1];
      this.nextSkip++;
      return this.next();
    }
    if (this.position >= this.end) return { done: true, value: undefined };
    return { done: false, value: this.plan.computePair(this.position++) };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

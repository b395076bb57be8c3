/**
 * planScan(): turns what a user writes (targets, exclusions, ports, order,
 * shard, resume cursor) into a lazy {@link ScanPlan}. Every specification is
 * validated before any host name is resolved, and everything is resolved
 * before the plan exists, so invalid input never sends a packet.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { PortscoutError } from '../errors.js';
import { systemResolver, type HostResolver, type ResolveFamily } from './host-resolver.js';
import { parseIpv4 } from './ipv4-text.js';
import { parseIpv6 } from './ipv6-text.js';
import { formatPortSet, normalizePortSet, parsePortSpec, type DefaultPortProtocol, type PortSet } from './port-spec.js';
import { validateScanCursor, type ScanCursor } from './scan-cursor.js';
import { ScanPlan, type ScanOrder, type ShardSpec } from './scan-plan.js';
import type { ServiceTable } from './service-table.js';
import { targetTokens } from './target-file.js';
import { parseTargetList, TargetSetBuilder, type TargetSet } from './target-set.js';
import { blocklistFor, parseBlocklist } from './blocklist.js';
import { blockOf, formatAddress, type HostnameTargetSpec } from './target-spec.js';

/**
 * Targets as one string (specs separated by whitespace), or any iterable or
 * async iterable of lines (for example `readTargetFile()`); `#` comments
 * and blank lines are ignored.
 *
 * @example
 * ```ts
 * const targets: TargetInput = ['198.18.0.0/24', 'fd00::/120', 'lab-host'];
 * ```
 */
export type TargetInput = string | Iterable<string> | AsyncIterable<string>;

/**
 * Options of {@link planScan}.
 *
 * @example
 * ```ts
 * const options: PlanScanOptions = { targets: ['198.18.0.0/24'], exclude: ['198.18.0.1'], ports: 'T:22,80,U:53', order: 'random' };
 * ```
 */
export interface PlanScanOptions {
  /** What to scan. */
  readonly targets: TargetInput;
  /** What never to scan, in the same syntaxes; applied before anything is sent. */
  readonly exclude?: TargetInput;
  /** nmap port syntax or a port set; omitted: no ports (a host-only plan for discovery). */
  readonly ports?: PortSet | string;
  /** Protocol of ports written without `T:`/`U:`. Default `'tcp'`. */
  readonly defaultProtocol?: DefaultPortProtocol;
  /**
   * Ports never to scan (nmap's `--exclude-ports`), in the same syntax or as a
   * port set. Throws `ERR_INVALID_PORTS` when they remove every port that was given.
   */
  readonly excludePorts?: PortSet | string;
  /** Services table for names and `top` in the port spec. Default: the built-in table. */
  readonly services?: ServiceTable;
  /** Default `'sequential'`. */
  readonly order?: ScanOrder;
  /** Default: the whole space (`{ index: 0, count: 1 }`). */
  readonly shard?: ShardSpec;
  /** Continue after the pairs a cursor of the same plan marks done. */
  readonly resume?: ScanCursor;
  /** Family host names resolve to: 4 (default, as nmap), 6, or `'any'`. */
  readonly family?: ResolveFamily;
  /** Scan every address a name resolves to, not only the first (nmap's `--resolve-all`). */
  readonly resolveAll?: boolean;
  /** Host-name resolver. Default: the system's (`dns.lookup`). */
  readonly resolve?: HostResolver;
  /** Names resolved at the same time at most. Default 16. */
  readonly resolveConcurrency?: number;
  /**
   * Blocks never to scan, in zmap's blocklist format (one address, range or
   * CIDR block per line, `#` comments), applied to every target list; or
   * `false` for none. Default: for target lists of more than 2^24 addresses,
   * the default blocklist (IANA special-purpose ranges, `DEFAULT_BLOCKLIST`);
   * multicast and the broadcast address are removed from every list unless
   * this is `false`. A warning says how many addresses were removed.
   */
  readonly blocklist?: string | false;
  /** Accept an empty target list (a plan of size 0) instead of throwing. */
  readonly allowEmpty?: boolean;
  /**
   * Keeps the addresses a scan can reach: called with the targets after
   * exclusions and the blocklist, it returns those to plan. The scan layer
   * passes one that drops the addresses the kernel has no route to (and
   * warns about them); by default nothing is dropped.
   */
  readonly reachable?: (targets: TargetSet) => Promise<TargetSet>;
}

interface CollectedTargets {
  readonly builder: TargetSetBuilder;
  readonly names: HostnameTargetSpec[];
  readonly specCount: number;
}

async function* linesOf(input: TargetInput): AsyncGenerator<string, void, undefined> {
  if (typeof input === 'string') {
    yield input;
    return;
  }
  if (input === null || typeof input !== 'object' || !(Symbol.iterator in input || Symbol.asyncIterator in input)) {
    throw new PortscoutError('ERR_INVALID_TARGET', `Invalid targets ${String(input)}: expected a string or an (async) iterable of strings.`);
  }
  for await (const line of input as AsyncIterable<unknown>) {
    if (typeof line !== 'string') throw new PortscoutError('ERR_INVALID_TARGET', `Invalid target ${String(line)}: expected a string.`);
    yield line;
  }
}

async function collect(input: TargetInput): Promise<CollectedTargets> {
  const builder = new TargetSetBuilder();
  const names: HostnameTargetSpec[] = [];
  let specCount = 0;
  for await (const line of linesOf(input)) {
    for (const token of targetTokens(line)) {
      for (const spec of parseTargetList(token)) {
        specCount++;
        if (spec.kind === 'hostname') names.push(spec);
        else builder.addSpec(spec);
      }
    }
  }
  return { builder, names, specCount };
}

function validateOrder(order: ScanOrder | undefined, cursorSeed: string | undefined): string | undefined {
  if (order === undefined || order === 'sequential') return undefined;
  if (order === 'random') return cursorSeed ?? randomBytes(8).toString('hex');
  if (typeof order === 'object' && order !== null && order.random === true) {
    if (order.seed === undefined) return cursorSeed ?? randomBytes(8).toString('hex');
    if ((typeof order.seed === 'number' && Number.isFinite(order.seed)) || typeof order.seed === 'string') return String(order.seed);
  }
  throw new PortscoutError(
    'ERR_INVALID_OPTION',
    `Invalid order ${JSON.stringify(order)}: expected 'sequential', 'random' or { random: true, seed?: number | string }.`,
  );
}

function validateShard(shard: ShardSpec | undefined): ShardSpec {
  if (shard === undefined) return { index: 0, count: 1 };
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new PortscoutError(
      'ERR_INVALID_OPTION',
      `Invalid shard ${JSON.stringify(shard)}: expected { index, count } with whole numbers 0 <= index < count.`,
    );
  }
  return { index, count };
}

function addressValue(address: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return { family: 4, value: BigInt(v4) };
  const v6 = parseIpv6(address);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

interface Resolution {
  readonly spec: HostnameTargetSpec;
  readonly addresses?: string[];
  readonly error?: string;
}

/** `ports` less `excluded`, protocol by protocol. */
function withoutPorts(ports: PortSet, excluded: PortSet): PortSet {
  const tcp = new Set(excluded.tcp);
  const udp = new Set(excluded.udp);
  return { tcp: ports.tcp.filter((p) => !tcp.has(p)), udp: ports.udp.filter((p) => !udp.has(p)) };
}

async function resolveAll(
  specs: readonly HostnameTargetSpec[],
  family: ResolveFamily,
  resolver: HostResolver,
  concurrency: number,
): Promise<Resolution[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    specs.map((spec) =>
      limit(async (): Promise<Resolution> => {
        try {
          const addresses = await resolver(spec.name, family);
          if (addresses.length === 0) return { spec, error: 'no address of the requested family' };
          return { spec, addresses };
        } catch (error) {
          // A custom resolver may reject with anything, null included.
          const code = (error as { code?: unknown } | null | undefined)?.code;
          const message = (error as { message?: unknown } | null | undefined)?.message;
          return { spec, error: typeof code === 'string' ? code : typeof message === 'string' ? message : String(error) };
        }
      }),
    ),
  );
}

/** Adds the resolved addresses of names to a builder; returns names that failed. */
function addResolved(
  resolutions: readonly Resolution[],
  builder: TargetSetBuilder,
  firstOnly: boolean,
  names: Map<string, string> | undefined,
): { name: string; error: string }[] {
  const failed: { name: string; error: string }[] = [];
  for (const { spec, addresses, error } of resolutions) {
    if (!addresses) {
      failed.push({ name: spec.text, error: error ?? 'unresolved' });
      continue;
    }
    let added = 0;
    for (const address of firstOnly ? addresses.slice(0, 1) : addresses) {
      const parsed = addressValue(address);
      if (!parsed) continue;
      const max = parsed.family === 4 ? 32 : 128;
      if (spec.prefix !== undefined && spec.prefix > max) continue;
      const { first, last } = spec.prefix === undefined ? { first: parsed.value, last: parsed.value } : blockOf(parsed.family, parsed.value, spec.prefix);
      builder.addRange(parsed.family, first, last);
      added++;
      const text = formatAddress(parsed.family, parsed.value);
      if (names && !names.has(text)) names.set(text, spec.name);
    }
    if (added === 0) failed.push({ name: spec.text, error: `no usable address (${addresses.join(', ')})` });
  }
  return failed;
}

/** The options of a plan as {@link checkPlanOptions} reads them. */
export interface CheckedPlanOptions {
  readonly cursor: ScanCursor | undefined;
  readonly seed: string | undefined;
  readonly shard: ShardSpec;
  readonly family: ResolveFamily;
  readonly concurrency: number;
  readonly ports: PortSet;
}

/**
 * Checks a plan's options synchronously, before anything is resolved or
 * sent: cursor, order, shard, family, the port specification and its
 * exclusions, and targets given as text (a string or an array of strings;
 * other iterables are read, and checked, by {@link planScan}). Throws what
 * {@link planScan} would throw for them.
 *
 * @example
 * ```ts
 * checkPlanOptions({ targets: '198.18.0.0/24', ports: '22,80', shard: { index: 0, count: 2 } });
 * ```
 */
export function checkPlanOptions(options: PlanScanOptions): CheckedPlanOptions {
  const cursor = options.resume === undefined ? undefined : validateScanCursor(options.resume);
  const seed = validateOrder(options.order, cursor?.seed);
  const shard = validateShard(options.shard);
  const family = options.family ?? 4;
  if (family !== 4 && family !== 6 && family !== 'any') {
    throw new PortscoutError('ERR_INVALID_OPTION', `Invalid family ${JSON.stringify(family)}: expected 4, 6 or 'any'.`);
  }
  const concurrency = options.resolveConcurrency ?? 16;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Invalid resolveConcurrency ${String(concurrency)}: expected a whole number >= 1.`);
  }
  const portSetOf = (spec: PortSet | string): PortSet =>
    typeof spec === 'string' ? parsePortSpec(spec, { defaultProtocol: options.defaultProtocol, services: options.services }) : normalizePortSet(spec);
  const given: PortSet = options.ports === undefined ? { tcp: [], udp: [] } : portSetOf(options.ports);
  const ports = options.excludePorts === undefined ? given : withoutPorts(given, portSetOf(options.excludePorts));
  if (given.tcp.length + given.udp.length > 0 && ports.tcp.length + ports.udp.length === 0) {
    throw new PortscoutError(
      'ERR_INVALID_PORTS',
      `The port exclusions ${JSON.stringify(typeof options.excludePorts === 'string' ? options.excludePorts : formatPortSet(options.excludePorts!))} ` +
        `remove every port of ${JSON.stringify(typeof options.ports === 'string' ? options.ports : formatPortSet(given))}: nothing is left to scan. Narrow the exclusions or add ports.`,
    );
  }

  if (options.blocklist !== undefined && options.blocklist !== false) {
    if (typeof options.blocklist !== 'string') throw new PortscoutError('ERR_INVALID_OPTION', `Invalid blocklist ${String(options.blocklist)}: expected a list in zmap's format (a string) or false.`);
    parseBlocklist(options.blocklist);
  }
  if (typeof options.targets === 'string' || Array.isArray(options.targets)) checkTargetText(options.targets as string | readonly unknown[]);
  if (typeof options.exclude === 'string' || Array.isArray(options.exclude)) checkTargetText(options.exclude as string | readonly unknown[]);
  return { cursor, seed, shard, family, concurrency, ports };
}

/** Target lines {@link checkPlanOptions} parses at most (a turn of the event loop stays short); planScan reads the rest. */
const SYNC_TARGET_LINES = 10_000;

/** Parses targets given as text, to throw their syntax errors at once. */
function checkTargetText(input: string | readonly unknown[]): void {
  for (const line of typeof input === 'string' ? [input] : input.slice(0, SYNC_TARGET_LINES)) {
    if (typeof line !== 'string') throw new PortscoutError('ERR_INVALID_TARGET', `Invalid target ${String(line)}: expected a string.`);
    for (const token of targetTokens(line)) parseTargetList(token);
  }
}

/**
 * Plans a scan: parses every target, exclusion and port specification
 * (throwing `ERR_INVALID_TARGET` / `ERR_INVALID_PORTS` before anything is
 * resolved or sent), resolves host names (a name that does not resolve is
 * listed in `unresolved`, not thrown), subtracts exclusions, and returns a lazy
 * {@link ScanPlan} of the (host, port) pairs in the chosen order, cut to the
 * shard and resumed from the cursor. Duplicates across the list are probed once.
 * Throws `ERR_SCAN_SPACE_TOO_LARGE` when hosts x ports reaches 2^53 and
 * `ERR_INVALID_CURSOR` for a cursor of another plan.
 *
 * @example
 * ```ts
 * const plan = await planScan({
 *   targets: ['198.18.0.0/24', '198.18.1.1-20', 'fd00::/120'],
 *   exclude: ['198.18.0.1'],
 *   ports: 'T:22,80,443,U:53',
 *   order: { random: true, seed: 'nightly' },
 *   shard: { index: 0, count: 4 },
 * });
 * for (const pair of plan.pairs()) console.log(pair.address, pair.protocol, pair.port);
 * ```
 */
export async function planScan(options: PlanScanOptions): Promise<ScanPlan> {
  const { cursor, seed, shard, family, concurrency, ports } = checkPlanOptions(options);
  const targets = await collect(options.targets);
  const exclusions = options.exclude === undefined ? undefined : await collect(options.exclude);
  if (targets.specCount === 0 && !options.allowEmpty) {
    throw new PortscoutError('ERR_INVALID_TARGET', 'No targets given: the target list is empty. Give at least one address, block, range or host name.');
  }

  const resolver = options.resolve ?? systemResolver;
  const warnings: string[] = [];
  const names = new Map<string, string>();
  const unresolved = addResolved(await resolveAll(targets.names, family, resolver, concurrency), targets.builder, !options.resolveAll, names);
  let excludeSet: TargetSet | undefined;
  if (exclusions) {
    const failed = addResolved(await resolveAll(exclusions.names, family, resolver, concurrency), exclusions.builder, false, undefined);
    for (const { name, error } of failed) warnings.push(`Exclusion ${JSON.stringify(name)} did not resolve (${error}); nothing was excluded for it.`);
    excludeSet = exclusions.builder.build();
  }
  const before = targets.builder.build();
  const excluded = excludeSet ? targets.builder.build(excludeSet) : before;
  if (before.count > 0n && excluded.count === 0n) warnings.push('The exclusions remove every target: nothing will be scanned.');
  const blocks = blocklistFor(options.blocklist, excluded.count);
  const allowed = blocks ? excluded.minus(blocks.set) : excluded;
  const blocked = excluded.count - allowed.count;
  if (blocked > 0n) {
    warnings.push(`${blocks?.what} removed ${blocked} of the ${excluded.count} target addresses${allowed.count === 0n ? ': nothing will be scanned' : ''}. Set blocklist (a list, or false for none) to change that.`);
  }
  const set = options.reachable && allowed.count > 0n ? await options.reachable(allowed) : allowed;
  for (const address of [...names.keys()]) if (!set.has(address)) names.delete(address);

  return new ScanPlan({ targets: set, ports, names, seed, shard, resume: cursor, unresolved, warnings });
}

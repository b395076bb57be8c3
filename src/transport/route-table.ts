/**
 * The prefixes of the kernel's routing tables, as Linux shows them in
 * `/proc/net/fib_trie` (IPv4, every table: main, local, policy tables) and
 * `/proc/net/ipv6_route` (IPv6, every table).
 *
 * The scanner does not route by itself: the kernel still decides every
 * destination. The prefixes only tell where its decision can change, so that
 * one lookup stands for a whole block of addresses that no prefix splits (see
 * `route-blocks.ts`). Other systems have no such files; then nothing is known
 * and every network is looked up on its own.
 *
 * @module
 */
import { open } from 'node:fs/promises';

/** One destination prefix of a routing table. */
export interface RoutePrefix {
  /** The prefix's first address, as an unsigned number of 32 (IPv4) or 128 (IPv6) bits. */
  readonly network: bigint;
  /** Its length in bits. */
  readonly length: number;
}

/**
 * More prefixes than this (a router holding a large table) are not used:
 * the blocks they cut (up to twice the prefixes times the address bits)
 * would be too many to look up before a scan. Networks are then looked up
 * one at a time as the scan reaches them.
 */
export const MAX_ROUTE_PREFIXES = 1024;

/** Text of a routing table longer than this is not read (far more than {@link MAX_ROUTE_PREFIXES} routes). */
const MAX_ROUTE_TEXT_BYTES = 1024 * 1024;

const FIB_TRIE = '/proc/net/fib_trie';
const IPV6_ROUTE = '/proc/net/ipv6_route';

/** The unsigned value of dotted-quad text (fib_trie prints only valid ones). */
function ipv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    const octet = Number(part);
    if (!Number.isInteger(octet) || octet < 0 || octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** Adds a prefix once, with its host bits cleared. */
function addPrefix(into: Map<string, RoutePrefix>, network: bigint, length: number, bits: number): void {
  const host = bits - length;
  const base = (network >> BigInt(host)) << BigInt(host);
  const key = `${base}/${length}`;
  if (!into.has(key)) into.set(key, { network: base, length });
}

/**
 * The prefixes listed in the text of `/proc/net/fib_trie`: each leaf
 * (`|-- 198.18.0.0`) is followed by its prefix lengths (`/24 link UNICAST`).
 *
 * @example
 * ```ts
 * parseFibTrie('Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n');
 * // [{ network: 0n, length: 0 }]
 * ```
 */
export function parseFibTrie(text: string): RoutePrefix[] {
  const prefixes = new Map<string, RoutePrefix>();
  let leaf: bigint | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trimStart();
    if (trimmed.startsWith('|-- ')) {
      leaf = ipv4Value(trimmed.slice(4).trim());
      continue;
    }
    if (!trimmed.startsWith('/')) {
      // A node (`+-- 0.0.0.0/0 3 0 5`) or a table's name (`Main:`): no leaf until the next `|--`.
      leaf = undefined;
      continue;
    }
    const length = Number.parseInt(trimmed.slice(1), 10);
    if (leaf === undefined || !Number.isInteger(length) || length < 0 || length > 32) continue;
    addPrefix(prefixes, leaf, length, 32);
  }
  return [...prefixes.values()];
}

/**
 * The prefixes listed in the text of `/proc/net/ipv6_route`: each line
 * starts with the destination (32 hex digits) and its length (2 hex digits).
 *
 * @example
 * ```ts
 * parseIpv6Route('fd000000000000000000000000000000 40 ' + '0'.repeat(32) + ' 00 ...');
 * // [{ network: 0xfd00n << 120n, length: 64 }]
 * ```
 */
export function parseIpv6Route(text: string): RoutePrefix[] {
  const prefixes = new Map<string, RoutePrefix>();
  for (const line of text.split('\n')) {
    const [destination, lengthHex] = line.trim().split(/\s+/);
    if (destination === undefined || lengthHex === undefined || !/^[0-9a-f]{32}$/i.test(destination) || !/^[0-9a-f]{2}$/i.test(lengthHex)) continue;
    const length = Number.parseInt(lengthHex, 16);
    if (length > 128) continue;
    addPrefix(prefixes, BigInt(`0x${destination}`), length, 128);
  }
  return [...prefixes.values()];
}

/**
 * The prefixes of every routing table of a family, read from `/proc`;
 * undefined where the file does not exist or cannot be read (not Linux), or
 * lists more than {@link MAX_ROUTE_PREFIXES} (or more than 1 MB of text).
 *
 * @example
 * ```ts
 * const prefixes = await readRoutePrefixes(4); // [{ network: 0n, length: 0 }, ...] on Linux
 * ```
 */
export async function readRoutePrefixes(family: 4 | 6): Promise<readonly RoutePrefix[] | undefined> {
  const path = family === 4 ? FIB_TRIE : IPV6_ROUTE;
  let text: string;
  try {
    // /proc files have no size; read at most a bounded prefix so a huge table is never parsed in one turn.
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_ROUTE_TEXT_BYTES + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > MAX_ROUTE_TEXT_BYTES) return undefined;
      }
      text = buffer.toString('utf8', 0, length);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const prefixes = family === 4 ? parseFibTrie(text) : parseIpv6Route(text);
  return prefixes.length === 0 || prefixes.length > MAX_ROUTE_PREFIXES ? undefined : prefixes;
}

/**
 * Keyed probe cookies: stateless validation of replies, as zmap and masscan do.
 *
 * The sequence number of a TCP probe (and the source port and ICMP identifier
 * chosen for it) are a keyed hash of the probe's destination and port, with a
 * random key per scan. A reply is accepted only when the same hash, recomputed
 * from the reply's own addresses and ports, matches what it acknowledges, so
 * no table of sent probes is needed to tell our replies from others' and
 * spoofed ones.
 *
 * @module
 */
import { randomFillSync } from 'node:crypto';

/** A scan's secret: four random 32-bit words. */
export type CookieKey = Uint32Array;

/**
 * Makes a fresh random key for one scan.
 *
 * @example
 * ```ts
 * const key = createCookieKey();
 * ```
 */
export function createCookieKey(): CookieKey {
  return randomFillSync(new Uint32Array(4));
}

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 32-bit cookie of a probe to `destination` (4 or 16 address bytes) and
 * `port`, under `key`, with a `salt` that separates uses (sequence number,
 * source port choice, ICMP identifier).
 *
 * @example
 * ```ts
 * const seq = probeCookie(key, new Uint8Array([198, 18, 1, 10]), 80, 0);
 * ```
 */
export function probeCookie(key: CookieKey, destination: Uint8Array, port: number, salt: number): number {
  let h = (key[0] as number) ^ salt;
  for (let i = 0; i + 3 < destination.length; i += 4) {
    const word =
      ((destination[i] as number) << 24) |
      ((destination[i + 1] as number) << 16) |
      ((destination[i + 2] as number) << 8) |
      (destination[i + 3] as number);
    h = mix(h, word ^ (key[1] as number));
  }
  h = mix(h, (port << 8) ^ (key[2] as number));
  h = mix(h, (key[3] as number) ^ destination.length);
  return finish(h);
}

/** Salts for {@link probeCookie}. */
export const CookieSalt = {
  /** TCP sequence number and ICMP echo sequence. */
  SEQUENCE: 0x5eed,
  /** Choice of source port (or ICMP identifier) within the scan's block. */
  SOURCE: 0x9047,
} as const;

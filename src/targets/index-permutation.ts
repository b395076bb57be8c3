/**
 * A seeded pseudo-random permutation of the integers `0 .. size-1`, computed
 * one index at a time (nothing is materialised): a four-round Feistel network
 * over the smallest power of two that covers `size`, with cycle walking for
 * the values beyond it, as zmap and masscan do. `size` may be up to 2^53.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

const ROUNDS = 4;

function mix32(value: number): number {
  let h = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Derives 32-bit keys from a seed (number or string) with FNV-1a and a
 * finaliser; the same seed always gives the same keys.
 *
 * @example
 * ```ts
 * seedKeys('scan-42', 4).length; // 4
 * ```
 */
export function seedKeys(seed: number | string, count: number): number[] {
  const text = typeof seed === 'number' ? `n:${seed}` : `s:${seed}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  const keys: number[] = [];
  for (let i = 0; i < count; i++) {
    h = mix32((h + 0x9e3779b9 + i) >>> 0);
    keys.push(h);
  }
  return keys;
}

/**
 * A bijection of `0 .. size-1` onto itself keyed by a seed.
 *
 * @example
 * ```ts
 * const permutation = new IndexPermutation(1000, 'seed');
 * const seen = new Set<number>();
 * for (let i = 0; i < 1000; i++) seen.add(permutation.at(i));
 * seen.size; // 1000
 * ```
 */
export class IndexPermutation {
  private readonly k0: number;
  private readonly k1: number;
  private readonly k2: number;
  private readonly k3: number;
  /** Bits of the low half at the start (the high half has `bits - loBits`). */
  private readonly loBits: number;
  private readonly hiBits: number;
  private readonly loScale: number;
  private readonly hiScale: number;
  private readonly loMask: number;
  private readonly hiMask: number;

  constructor(
    /** Number of indices permuted. */
    readonly size: number,
    seed: number | string,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new PortscoutError('ERR_SCAN_SPACE_TOO_LARGE', `Cannot permute ${String(size)} indices: the size must be a whole number below 2^53.`);
    }
    let bits = 2;
    while (2 ** bits < size) bits++;
    this.loBits = bits >>> 1;
    this.hiBits = bits - this.loBits;
    this.loScale = 2 ** this.loBits;
    this.hiScale = 2 ** this.hiBits;
    this.loMask = this.loScale - 1;
    this.hiMask = this.hiScale - 1;
    const keys = seedKeys(seed, ROUNDS);
    [this.k0, this.k1, this.k2, this.k3] = [keys[0]!, keys[1]!, keys[2]!, keys[3]!];
  }

  /** One pass of the Feistel network over the power-of-two domain. */
  private encrypt(x: number): number {
    // State (a: hiBits, b: loBits) -> (b, a ^ F(b)) swaps the half widths each round.
    let a = Math.floor(x / this.loScale);
    let b = x - a * this.loScale;
    let t = (a ^ mix32(b ^ this.k0)) & this.hiMask; // width hiBits
    a = b; // width loBits
    b = t;
    t = (a ^ mix32(b ^ this.k1)) & this.loMask; // width loBits
    a = b; // width hiBits
    b = t;
    t = (a ^ mix32(b ^ this.k2)) & this.hiMask;
    a = b;
    b = t;
    t = (a ^ mix32(b ^ this.k3)) & this.loMask;
    a = b;
    b = t;
    // After an even number of rounds a has hiBits and b has loBits again.
    return a * this.loScale + b;
  }

  /** The index at `position` of the permuted order (`0 <= position < size`). */
  at(position: number): number {
    if (this.size <= 1) return position;
    let x = this.encrypt(position);
    while (x >= this.size) x = this.encrypt(x);
    return x;
  }
}

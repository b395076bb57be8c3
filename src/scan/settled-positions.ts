/**
 * Which units of a plan a scan has settled, for a resume cursor that is
 * always safe: results arrive in completion order, not in the plan's order,
 * so the cursor is the first position not yet settled, plus the positions
 * after it that are.
 *
 * @module
 */

/** Words of the bitmap at first (8,192 positions); it doubles when a scan needs more. */
const INITIAL_WORDS = 256;

/**
 * Settled positions of a plan walked from `start`: the first unsettled one,
 * and the settled ones after it.
 *
 * @example
 * ```ts
 * const settled = new SettledPositions(0);
 * settled.settle(1);
 * settled.first;        // 0
 * settled.skipRanges(); // [[1, 2]]
 * settled.settle(0);
 * settled.first;        // 2
 * ```
 */
export class SettledPositions {
  private low: number;
  /**
   * The settled positions after {@link low}, one bit each: bit `i` of the
   * window is position `base + i`. A bitmap, not a `Set`: a scan settles a
   * position per pair, and a churned `Set` costs a rehashed table every few
   * hundred positions (see `probe-table.ts` for why those tables stay alive).
   */
  private bits = new Uint32Array(INITIAL_WORDS);
  /** The position of the window's first bit (a multiple of 32, at most {@link low}). */
  private base: number;
  /** Settled positions after {@link low}. */
  private ahead = 0;
  /** Positions settled so far. */
  count = 0;

  constructor(start: number) {
    this.low = start;
    this.base = start - (start % 32);
  }

  /** The first position not yet settled. */
  get first(): number {
    return this.low;
  }

  /** Marks `position` settled (once per position). */
  settle(position: number): void {
    this.count++;
    if (position !== this.low) {
      this.mark(position);
      return;
    }
    let low = position + 1;
    if (this.ahead > 0) {
      // Walk the run of settled positions after this one, clearing their bits.
      const bits = this.bits;
      for (;;) {
        const offset = low - this.base;
        const word = Math.floor(offset / 32);
        if (word >= bits.length) break;
        const bit = 1 << (offset % 32);
        const value = bits[word] as number;
        if ((value & bit) === 0) break;
        bits[word] = value & ~bit;
        this.ahead--;
        low++;
        if (this.ahead === 0) break;
      }
    }
    this.low = low;
    // Nothing ahead: every bit is clear, and the window restarts at the new first position.
    if (this.ahead === 0) this.base = low - (low % 32);
  }

  /** The settled positions after {@link first}, as ascending, disjoint `[from, to)` ranges. */
  skipRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    if (this.ahead === 0) return ranges;
    const bits = this.bits;
    let left = this.ahead;
    for (let word = Math.floor((this.low - this.base) / 32); word < bits.length && left > 0; word++) {
      const value = bits[word] as number;
      if (value === 0) continue;
      for (let bit = 0; bit < 32; bit++) {
        if ((value & (1 << bit)) === 0) continue;
        const position = this.base + word * 32 + bit;
        const last = ranges.at(-1);
        if (last !== undefined && last[1] === position) last[1] = position + 1;
        else ranges.push([position, position + 1]);
        left--;
      }
    }
    return ranges;
  }

  private mark(position: number): void {
    let offset = position - this.base;
    if (offset >= this.bits.length * 32) {
      this.makeRoom(position);
      offset = position - this.base;
    }
    const word = Math.floor(offset / 32);
    this.bits[word] = (this.bits[word] as number) | (1 << (offset % 32));
    this.ahead++;
  }

  /** Moves the window up to {@link low} and widens it (doubling) until `position` fits. */
  private makeRoom(position: number): void {
    const newBase = this.low - (this.low % 32);
    const shift = (newBase - this.base) / 32;
    let words = this.bits.length;
    while (position - newBase >= words * 32) words *= 2;
    const bits = words === this.bits.length ? this.bits : new Uint32Array(words);
    if (shift > 0 || bits !== this.bits) {
      bits.set(this.bits.subarray(shift));
      if (bits === this.bits) bits.fill(0, this.bits.length - shift);
    }
    this.bits = bits;
    this.base = newBase;
  }
}

/**
 * Which units of a plan a scan has settled, for a resume cursor that is
 * always safe: results arrive in completion order, not in the plan's order,
 * so the cursor is the first position not yet settled, plus the positions
 * after it that are.
 *
 * @module
 */

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
  private readonly ahead = new Set<number>();
  /** Positions settled so far. */
  count = 0;

  constructor(start: number) {
    this.low = start;
  }

  /** The first position not yet settled. */
  get first(): number {
    return this.low;
  }

  /** Marks `position` settled (once per position). */
  settle(position: number): void {
    this.count++;
    if (position !== this.low) {
      this.ahead.add(position);
      return;
    }
    let low = position + 1;
    while (this.ahead.size > 0 && this.ahead.delete(low)) low++;
    this.low = low;
  }

  /** The settled positions after {@link first}, as ascending, disjoint `[from, to)` ranges. */
  skipRanges(): [number, number][] {
    const sorted = [...this.ahead].sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    for (const position of sorted) {
      const last = ranges.at(-1);
      if (last !== undefined && last[1] === position) last[1] = position + 1;
      else ranges.push([position, position + 1]);
    }
    return ranges;
  }
}

/**
 * The resume point of a scan: a small JSON-serialisable object naming the plan
 * it belongs to (a fingerprint) and how many pairs of the plan's shard, in the
 * plan's order, are done.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

/**
 * A position in a scan plan's order. Save it (`JSON.stringify`) and pass it
 * back as `resume` to `planScan()` with the same targets, ports, order and
 * shard: the new plan probes exactly the pairs not yet done.
 *
 * @example
 * ```ts
 * const cursor: ScanCursor = plan.cursorAfter(1000);
 * const resumed = await planScan({ ...options, resume: JSON.parse(JSON.stringify(cursor)) });
 * ```
 */
export interface ScanCursor {
  readonly v: 1;
  /** Hash of the normalised targets, ports, order, seed and shard. */
  readonly fingerprint: string;
  /** Pairs of the shard already done, in the plan's order. */
  readonly position: number;
  /** The seed of a random order (so a plan whose seed was drawn at random can be resumed). */
  readonly seed?: string;
  /**
   * Pairs after {@link position} that are done as well, as `[from, to)` ranges
   * of positions, ascending and disjoint. A scan's cursor has them because its
   * results arrive in completion order, not in the plan's: resuming skips them,
   * so every pair is probed exactly once.
   */
  readonly skip?: readonly (readonly [number, number])[];
}

/**
 * Checks that a value has the shape of a {@link ScanCursor}; throws
 * `ERR_INVALID_CURSOR` otherwise.
 *
 * @example
 * ```ts
 * const cursor = validateScanCursor(JSON.parse(saved));
 * ```
 */
export function validateScanCursor(value: unknown): ScanCursor {
  const cursor = value as Partial<ScanCursor> | null;
  if (
    typeof cursor !== 'object' ||
    cursor === null ||
    cursor.v !== 1 ||
    typeof cursor.fingerprint !== 'string' ||
    !Number.isSafeInteger(cursor.position) ||
    (cursor.position as number) < 0 ||
    (cursor.seed !== undefined && typeof cursor.seed !== 'string') ||
    (cursor.skip !== undefined && !validSkip(cursor.skip, cursor.position as number))
  ) {
    throw new PortscoutError(
      'ERR_INVALID_CURSOR',
      `Invalid scan cursor ${JSON.stringify(value)}: expected { v: 1, fingerprint: string, position: whole number >= 0, seed?: string, skip?: [from, to) ranges ascending, disjoint and after position }.`,
    );
  }
  return cursor as ScanCursor;
}

/** Whether `skip` is a list of ascending, disjoint, non-empty `[from, to)` ranges after `position`. */
function validSkip(skip: unknown, position: number): boolean {
  if (!Array.isArray(skip)) return false;
  let last = position;
  for (const range of skip as unknown[]) {
    if (!Array.isArray(range) || range.length !== 2) return false;
    const [from, to] = range as unknown[];
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) return false;
    if ((from as number) <= last || (to as number) <= (from as number)) return false;
    last = to as number;
  }
  return true;
}

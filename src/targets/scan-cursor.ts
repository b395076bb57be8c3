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
    (cursor.seed !== undefined && typeof cursor.seed !== 'string')
  ) {
    throw new PortscoutError(
      'ERR_INVALID_CURSOR',
      `Invalid scan cursor ${JSON.stringify(value)}: expected { v: 1, fingerprint: string, position: whole number >= 0, seed?: string }.`,
    );
  }
  return cursor as ScanCursor;
}

/**
 * Range checks used by every builder: a value that does not fit its field is
 * a programmer error and throws a {@link WireError} naming the field and the
 * allowed range.
 *
 * @module
 */
import { WireError } from './wire-error.js';

/**
 * Throws `ERR_WIRE_FIELD_RANGE` unless `value` is an integer in `0..max`.
 * `field` is the human name used in the message, e.g. `'TCP destination port'`.
 *
 * @example
 * ```ts
 * checkFieldRange('IPv4 TTL', 300, 255);
 * // throws WireError: IPv4 TTL 300 is out of range: allowed 0-255
 * ```
 */
export function checkFieldRange(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new WireError('ERR_WIRE_FIELD_RANGE', `${field} ${String(value)} is out of range: allowed 0-${max}`);
  }
  return value;
}

/**
 * Like {@link checkFieldRange} for an optional field: `undefined` gives `fallback`.
 *
 * @example
 * ```ts
 * optionalField('IPv4 TTL', undefined, 255, 64); // 64
 * ```
 */
export function optionalField(field: string, value: number | undefined, max: number, fallback: number): number {
  return value === undefined ? fallback : checkFieldRange(field, value, max);
}

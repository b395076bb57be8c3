/**
 * Errors of the wire layer: {@link WireError} (thrown by builders for
 * programmer errors) and {@link WireParseError} / {@link WireResult} (returned
 * by parsers for bad bytes from the network, never thrown).
 *
 * @module
 */
import { PortscoutError, type PortscoutErrorCode } from '../errors.js';

/**
 * Stable codes of {@link WireError}.
 *
 * @example
 * ```ts
 * if ((err as WireError).code === ('ERR_WIRE_FIELD_RANGE' satisfies WireErrorCode)) retryWithSmallerValue();
 * ```
 */
export type WireErrorCode = Extract<PortscoutErrorCode, `ERR_WIRE_${string}`>;

/**
 * A programmer error in a wire builder: a field out of range, an address of
 * the wrong family or unparsable address text. The message names the field
 * and, for ranges, what is allowed.
 *
 * @example
 * ```ts
 * try {
 *   buildTcpSegment({ sourcePort: 1, destinationPort: 70000 }, undefined);
 * } catch (err) {
 *   if (err instanceof WireError) console.log(err.code); // 'ERR_WIRE_FIELD_RANGE'
 * }
 * ```
 */
export class WireError extends PortscoutError {
  declare readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * The part of a packet a {@link WireParseError} is about.
 *
 * @example
 * ```ts
 * if (!r.ok && r.error.layer === ('tcp-option' satisfies WireLayer)) counters.badOptions++;
 * ```
 */
export type WireLayer = 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'icmpv4' | 'icmpv6' | 'tcp-option' | 'quoted';

/**
 * Why a parser rejected its input.
 *
 * @example
 * ```ts
 * if (!r.ok && r.error.code === ('TRUNCATED' satisfies WireParseErrorCode)) counters.truncated++;
 * ```
 */
export type WireParseErrorCode =
  | 'TRUNCATED'
  | 'BAD_LENGTH'
  | 'BAD_VERSION'
  | 'BAD_HEADER_LENGTH'
  | 'BAD_OPTION'
  | 'BAD_ADDRESS'
  | 'UNSUPPORTED';

/**
 * What a parser says about bytes it could not accept. `required` and `actual`
 * are byte counts (or field values, for `BAD_VERSION`) when they apply.
 *
 * @example
 * ```ts
 * const r = parseIpv4Packet(new Uint8Array(10));
 * if (!r.ok) console.log(r.error); // { layer: 'ipv4', code: 'TRUNCATED', required: 20, actual: 10, message: ... }
 * ```
 */
export interface WireParseError {
  readonly layer: WireLayer;
  readonly code: WireParseErrorCode;
  readonly message: string;
  readonly required?: number;
  readonly actual?: number;
}

/**
 * The result of every parser: the parsed value, or why the bytes were refused.
 *
 * @example
 * ```ts
 * const r = parseTcpSegment(bytes);
 * if (r.ok) console.log(r.value.sourcePort); else console.log(r.error.message);
 * ```
 */
export type WireResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireParseError };

/**
 * Wraps a parsed value in a successful {@link WireResult}.
 *
 * @example
 * ```ts
 * const r = wireOk(42); // { ok: true, value: 42 }
 * ```
 */
export function wireOk<T>(value: T): WireResult<T> {
  return { ok: true, value };
}

/**
 * Builds a failed {@link WireResult}.
 *
 * @example
 * ```ts
 * wireFail('tcp', 'TRUNCATED', 'TCP header needs 20 bytes, got 3', 20, 3);
 * ```
 */
export function wireFail<T = never>(
  layer: WireLayer,
  code: WireParseErrorCode,
  message: string,
  required?: number,
  actual?: number,
): WireResult<T> {
  const error: WireParseError =
    required === undefined ? { layer, code, message } : { layer, code, message, required, ...(actual === undefined ? {} : { actual }) };
  return { ok: false, error };
}

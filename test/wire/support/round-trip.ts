/**
 * The one round-trip helper used for every codec (dns-packet style), with a
 * smoltcp-style check that the builder writes every byte it claims.
 */
import { expect } from 'vitest';
import { toHex, type WireCodec } from '../../../src/wire/index.js';

const GUARD = 5;

/**
 * Builds `value` with `codec` and checks that:
 * - the builder writes exactly `encodingLength(value)` bytes, all of them:
 *   building into a buffer pre-filled with 0xa5 and into a fresh zeroed
 *   buffer gives the same bytes, and the 0xa5 guard bytes around it stay;
 * - parse -> toValue -> build gives the same bytes again.
 * Returns the built bytes.
 */
export function expectRoundTrip<V, P>(codec: WireCodec<V, P>, value: V): Uint8Array {
  const length = codec.encodingLength(value);
  const fresh = codec.build(value);
  expect(fresh.length).toBe(length);

  const target = new Uint8Array(length + 2 * GUARD).fill(0xa5);
  const written = codec.build(value, { target, offset: GUARD });
  expect(written.length).toBe(length);
  expect(written.buffer).toBe(target.buffer);
  expect(toHex(written)).toBe(toHex(fresh));
  expect(toHex(target.subarray(0, GUARD))).toBe(toHex(new Uint8Array(GUARD).fill(0xa5)));
  expect(toHex(target.subarray(GUARD + length))).toBe(toHex(new Uint8Array(GUARD).fill(0xa5)));

  const parsed = codec.parse(fresh);
  if (!parsed.ok) throw new Error(`${codec.layer} parse of built bytes failed: ${parsed.error.message}\n${toHex(fresh)}`);
  const again = codec.build(codec.toValue(parsed.value));
  expect(toHex(again)).toBe(toHex(fresh));
  return fresh;
}

/**
 * Big-endian reads and writes on plain `Uint8Array`s, without allocating a
 * `DataView` per packet. Callers check bounds first; these helpers do not.
 *
 * @module
 */

/**
 * Reads a big-endian 16-bit unsigned integer at `offset`.
 *
 * @example
 * ```ts
 * readUint16(new Uint8Array([0x12, 0x34]), 0); // 0x1234
 * ```
 */
export function readUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/**
 * Reads a big-endian 32-bit unsigned integer at `offset`.
 *
 * @example
 * ```ts
 * readUint32(new Uint8Array([0xff, 0, 0, 1]), 0); // 0xff000001
 * ```
 */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/**
 * Writes a big-endian 16-bit value at `offset` (the value is taken modulo 2^16).
 *
 * @example
 * ```ts
 * const b = new Uint8Array(2); writeUint16(b, 0, 0xabcd); // b = [0xab, 0xcd]
 * ```
 */
export function writeUint16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

/**
 * Writes a big-endian 32-bit value at `offset` (the value is taken modulo 2^32).
 *
 * @example
 * ```ts
 * const b = new Uint8Array(4); writeUint32(b, 0, 1); // b = [0, 0, 0, 1]
 * ```
 */
export function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/**
 * Formats bytes as lowercase hex, two digits per byte separated by `separator`.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0x45, 0x00])); // '45 00'
 * ```
 */
export function toHex(bytes: Uint8Array, separator = ' '): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += separator;
    out += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  }
  return out;
}

/**
 * Parses hex text (whitespace, `:` and `-` separators ignored) into bytes.
 * Returns `undefined` for text that is not an even number of hex digits.
 *
 * @example
 * ```ts
 * fromHex('45 00 00 54'); // Uint8Array [0x45, 0, 0, 0x54]
 * ```
 */
export function fromHex(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

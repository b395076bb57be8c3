/**
 * Probe strings of the `nmap-service-probes` format: `q|...|` with any
 * delimiter, and C-style escapes.
 *
 * @module
 */

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  '0': 0x00,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
};

/**
 * The bytes of a probe string's text (read as latin1: one character per
 * byte), with its escapes decoded: `\0 \a \b \f \n \r \t \v \\`, `\xHH`;
 * any other escaped character stands for itself (`\|` is `|`).
 * Returns an error message for a `\x` without two hex digits or a trailing `\`.
 *
 * @example
 * ```ts
 * decodeProbeString('GET / HTTP/1.0\\r\\n\\r\\n'); // the 18 bytes of the request
 * decodeProbeString('\\x16\\x03\\x00');             // Uint8Array [0x16, 0x03, 0x00]
 * ```
 */
export function decodeProbeString(text: string): Uint8Array | { readonly error: string } {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c & 0xff);
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) return { error: 'the probe string ends with a lone backslash' };
    i++;
    if (next === 'x') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return { error: `\\x at offset ${i - 1} needs two hex digits (got ${JSON.stringify(hex)})` };
      out.push(Number.parseInt(hex, 16));
      i += 2;
      continue;
    }
    const simple = SIMPLE_ESCAPES[next];
    out.push(simple ?? next.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

/**
 * TCP options (RFC 9293, RFC 7323, RFC 2018): the option list type, its
 * encoded length, writer and parser.
 *
 * @module
 */
import { readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js';
import { checkFieldRange } from './value-range.js';
import { WireError, wireFail, type WireResult } from './wire-error.js';

/**
 * TCP option kind numbers.
 *
 * @example
 * ```ts
 * if (bytes[20] === TcpOptionKind.MSS) console.log('MSS first');
 * ```
 */
export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

/**
 * One SACK block: the left and right edges (32-bit sequence numbers).
 *
 * @example
 * ```ts
 * const block: TcpSackBlock = { left: 1000, right: 2000 };
 * ```
 */
export interface TcpSackBlock {
  readonly left: number;
  readonly right: number;
}

/**
 * One TCP option. Kinds portscout does not know are kept as `unknown` with
 * their raw data (the bytes after kind and length).
 *
 * @example
 * ```ts
 * const options: TcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', value: 1, echo: 0 }];
 * ```
 */
export type TcpOption =
  | { readonly kind: 'eol' }
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'window-scale'; readonly shift: number }
  | { readonly kind: 'sack-permitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly TcpSackBlock[] }
  | { readonly kind: 'timestamps'; readonly value: number; readonly echo: number }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/**
 * The largest options area a TCP header can carry (data offset 15).
 *
 * @example
 * ```ts
 * tcpOptionsLength(options) <= TCP_MAX_OPTIONS_LENGTH; // always true, or tcpOptionsLength throws
 * ```
 */
export const TCP_MAX_OPTIONS_LENGTH = 40;

function optionLength(option: TcpOption): number {
  switch (option.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * option.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      return 2 + option.data.length;
  }
}

/**
 * The encoded length of an option list, padded to a multiple of 4 bytes.
 * Throws `WireError` when it exceeds 40 bytes.
 *
 * @example
 * ```ts
 * tcpOptionsLength([{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }]); // 8
 * ```
 */
export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let length = 0;
  for (const option of options) length += optionLength(option);
  const padded = (length + 3) & ~3;
  if (padded > TCP_MAX_OPTIONS_LENGTH) {
    throw new WireError('ERR_WIRE_FIELD_RANGE', `TCP options length ${padded} is out of range: allowed 0-${TCP_MAX_OPTIONS_LENGTH}`);
  }
  return padded;
}

/**
 * Writes `options` at `offset` of `out`, pads with zero (EOL) bytes to a
 * multiple of 4 and returns the number of bytes written. Throws `WireError`
 * for values out of range, an EOL that is not the last option, and `unknown`
 * options of kind 0 or 1 (which have no length byte).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(4);
 * writeTcpOptions(out, 0, [{ kind: 'mss', value: 1460 }]); // out = 02 04 05 b4
 * ```
 */
export function writeTcpOptions(out: Uint8Array, offset: number, options: readonly TcpOption[]): number {
  const total = tcpOptionsLength(options);
  const eol = options.findIndex((option) => option.kind === 'eol');
  if (eol >= 0 && eol < options.length - 1) {
    // Receivers stop at EOL (RFC 9293), so options after it would be lost on the way.
    throw new WireError('ERR_WIRE_FIELD_RANGE', `TCP option ${eol + 1} of ${options.length} is EOL: EOL must be the last option`);
  }
  let i = offset;
  for (const option of options) {
    switch (option.kind) {
      case 'eol':
        out[i++] = TcpOptionKind.EOL;
        break;
      case 'nop':
        out[i++] = TcpOptionKind.NOP;
        break;
      case 'mss':
        out[i] = TcpOptionKind.MSS;
        out[i + 1] = 4;
        writeUint16(out, i + 2, checkFieldRange('TCP MSS option value', option.value, 0xffff));
        i += 4;
        break;
      case 'window-scale':
        out[i] = TcpOptionKind.WINDOW_SCALE;
        out[i + 1] = 3;
        out[i + 2] = checkFieldRange('TCP window scale shift', option.shift, 255);
        i += 3;
        break;
      case 'sack-permitted':
        out[i] = TcpOptionKind.SACK_PERMITTED;
        out[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        checkFieldRange('TCP SACK block count', option.blocks.length, 4);
        out[i] = TcpOptionKind.SACK;
        out[i + 1] = 2 + 8 * option.blocks.length;
        i += 2;
        for (const block of option.blocks) {
          writeUint32(out, i, checkFieldRange('TCP SACK left edge', block.left, 0xffffffff));
          writeUint32(out, i + 4, checkFieldRange('TCP SACK right edge', block.right, 0xffffffff));
          i += 8;
        }
        break;
      case 'timestamps':
        out[i] = TcpOptionKind.TIMESTAMPS;
        out[i + 1] = 10;
        writeUint32(out, i + 2, checkFieldRange('TCP timestamp value', option.value, 0xffffffff));
        writeUint32(out, i + 6, checkFieldRange('TCP timestamp echo reply', option.echo, 0xffffffff));
        i += 10;
        break;
      case 'unknown':
        checkFieldRange('TCP option kind', option.type, 255);
        if (option.type <= TcpOptionKind.NOP) {
          // Kinds 0 and 1 have no length byte: a parser reads them back as EOL and NOP.
          throw new WireError('ERR_WIRE_FIELD_RANGE', `TCP unknown option kind ${option.type} is out of range: allowed 2-255 (use { kind: 'eol' } or { kind: 'nop' })`);
        }
        checkFieldRange('TCP option data length', option.data.length, 38);
        out[i] = option.type;
        out[i + 1] = 2 + option.data.length;
        out.set(option.data, i + 2);
        i += 2 + option.data.length;
        break;
    }
  }
  while (i < offset + total) out[i++] = 0;
  return total;
}

const EOL: TcpOption = Object.freeze({ kind: 'eol' });
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
const SACK_PERMITTED: TcpOption = Object.freeze({ kind: 'sack-permitted' });

function badOption(message: string, required?: number, actual?: number): WireResult<never> {
  return wireFail('tcp-option', 'BAD_OPTION', message, required, actual);
}

/**
 * Parses the options area `bytes[start..end)` of a TCP header (`start` and
 * `end` are clamped to the buffer). Parsing stops
 * at EOL (which is included in the list; the padding after it is not
 * reported). Never throws: an option whose length byte is missing, below 2,
 * runs past the header, or does not match its kind gives `BAD_OPTION`
 * (layer `tcp-option`).
 *
 * @example
 * ```ts
 * parseTcpOptions(new Uint8Array([2, 4, 5, 0xb4])); // ok, [{ kind: 'mss', value: 1460 }]
 * ```
 */
export function parseTcpOptions(bytes: Uint8Array, start = 0, end = bytes.length): WireResult<TcpOption[]> {
  const options: TcpOption[] = [];
  // Bounds from the caller are clamped to the buffer: never read past it.
  if (end > bytes.length) end = bytes.length;
  let i = start > 0 ? start : 0;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === TcpOptionKind.EOL) {
      options.push(EOL);
      break;
    }
    if (kind === TcpOptionKind.NOP) {
      options.push(NOP);
      i++;
      continue;
    }
    if (i + 1 >= end) return badOption(`TCP option ${kind} at offset ${i - start} has no length byte`, 2, end - i);
    const length = bytes[i + 1]!;
    if (length < 2) return badOption(`TCP option ${kind} has length ${length}, below the minimum of 2`, 2, length);
    if (i + length > end) return badOption(`TCP option ${kind} has length ${length} but only ${end - i} bytes remain`, length, end - i);
    switch (kind) {
      case TcpOptionKind.MSS:
        if (length !== 4) return badOption(`TCP MSS option has length ${length}, expected 4`, 4, length);
        options.push({ kind: 'mss', value: readUint16(bytes, i + 2) });
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (length !== 3) return badOption(`TCP window scale option has length ${length}, expected 3`, 3, length);
        options.push({ kind: 'window-scale', shift: bytes[i + 2]! });
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (length !== 2) return badOption(`TCP SACK-permitted option has length ${length}, expected 2`, 2, length);
        options.push(SACK_PERMITTED);
        break;
      case TcpOptionKind.SACK: {
        if ((length - 2) % 8 !== 0) return badOption(`TCP SACK option has length ${length}, expected 2 + 8n`, 2 + 8 * Math.ceil((length - 2) / 8), length);
        const blocks: TcpSackBlock[] = [];
        for (let j = i + 2; j < i + length; j += 8) blocks.push({ left: readUint32(bytes, j), right: readUint32(bytes, j + 4) });
        options.push({ kind: 'sack', blocks });
        break;
      }
      case TcpOptionKind.TIMESTAMPS:
        if (length !== 10) return badOption(`TCP timestamps option has length ${length}, expected 10`, 10, length);
        options.push({ kind: 'timestamps', value: readUint32(bytes, i + 2), echo: readUint32(bytes, i + 6) });
        break;
      default:
        options.push({ kind: 'unknown', type: kind, data: bytes.subarray(i + 2, i + length) });
    }
    i += length;
  }
  return { ok: true, value: options };
}

/**
 * A reply's TCP options as nmap writes them (`M5B4ST11NW7`): M and the MSS,
 * S for SACK permitted, T and two digits (timestamp value and echo non-zero),
 * N for no-op, W and the window scale, L for end of list. An option cut
 * short, or one of another kind, gives the empty string (nmap's parse error).
 * OS detection's OPS, ECN and T tests read it; scans record it for OS hints.
 *
 * @example
 * ```ts
 * tcpOptionString(Uint8Array.of(2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0)); // 'M5B4ST10'
 * ```
 */
export function tcpOptionString(options: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < options.length) {
    const kind = options[i]!;
    const left = options.length - i;
    if (kind === 0) {
      out += 'L';
      i += 1;
    } else if (kind === 1) {
      out += 'N';
      i += 1;
    } else if (kind === 2) {
      if (left < 4) return '';
      out += `M${readUint16(options, i + 2).toString(16).toUpperCase()}`;
      i += 4;
    } else if (kind === 3) {
      if (left < 3) return '';
      out += `W${options[i + 2]!.toString(16).toUpperCase()}`;
      i += 3;
    } else if (kind === 4) {
      if (left < 2) return '';
      out += 'S';
      i += 2;
    } else if (kind === 8) {
      if (left < 10) return '';
      out += `T${readUint32(options, i + 2) !== 0 ? 1 : 0}${readUint32(options, i + 6) !== 0 ? 1 : 0}`;
      i += 10;
    } else {
      return '';
    }
  }
  return out;
}

/**
 * nmap's service fingerprint: the `SF-Port...` text `nmap -sV` prints, for
 * submission to nmap.org, when a service answered probes but no rule
 * matched. {@link serviceFingerprint} renders it exactly as nmap 7.93 does
 * (`ServiceNFO::addToServiceFingerprint` in nmap's `service_scan.cc`).
 *
 * The format, as nmap writes it:
 *
 * - A header, once: `SF-Port<port>-<TCP|UDP>:V=<version>` then `%T=SSL`
 *   when the service was reached through TLS, `%I=<intensity>`,
 *   `%D=<month>/<day>` (local date, no zero padding), `%Time=<seconds since
 *   1970, uppercase hex>` and `%P=<platform>`.
 * - One `%r(<probe>,<length>,"<bytes>")` per answering probe, in the order
 *   the answers came: the length is the whole answer's, in uppercase hex,
 *   but only its first 900 bytes are written. Letters and digits are
 *   written as they are; `\ ? " [ ] ( ) . * + $ ^ |` get a backslash; other
 *   punctuation is written as it is; CR, LF and tab are `\r`, `\n`, `\t`;
 *   a NUL is `\0`, or `\x00` before a digit; every other byte (space
 *   included) is `\x` and two lowercase hex digits.
 * - An answer is left out once the text is longer than 2,200 characters.
 * - The text is cut every 74 characters, counting from the start of the
 *   text with the line breaks: a line break and `SF:` are inserted, so each
 *   line is 74 characters (`SF:` included) and an escape may be split
 *   across lines. A `;` ends the text.
 *
 * @module
 */
import { arch, platform as osPlatform } from 'node:process';
import { PortscoutError } from '../errors.js';
import { DEFAULT_INTENSITY } from './probe-plan.js';

/**
 * What nmap's `V=` field holds when the caller names no version: portscout
 * and its version. nmap writes its own version there (`7.93`); portscout
 * does not claim to be nmap, since the answers came from its probes (and
 * its probe database, unless nmap's file was loaded). The field keeps the
 * shape nmap's submission form reads (no `%`, no space).
 */
export const SERVICE_FINGERPRINT_VERSION = 'portscout-0.1.0';

/** One answer to a probe, as {@link serviceFingerprint} takes it. */
export interface FingerprintResponse {
  /** The probe's name (`NULL`, `GetRequest`, ...). */
  readonly probe: string;
  /** Every byte the service sent for that probe (nmap keeps up to 4,096 bytes per probe). */
  readonly bytes: Uint8Array;
}

/** What {@link serviceFingerprint} renders. */
export interface ServiceFingerprintInput {
  /** The port, 0-65535. */
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** `ssl` when the service was probed through TLS: the header gets `%T=SSL`. */
  readonly tunnel?: 'ssl';
  /** The answers in the order they came (the probe order). Empty answers are left out, as nmap never records them. */
  readonly responses: readonly FingerprintResponse[];
  /** The version intensity of the scan, 0-9 (`%I=`); default 7, as nmap's. */
  readonly intensity?: number;
  /** When the first answer came: `%D=` (month/day) and `%Time=` (Unix seconds, hex) are taken from it. */
  readonly date: Date;
  /** Take `%D=` from the UTC date rather than the local one (nmap uses local time). */
  readonly utc?: boolean;
  /**
   * `%P=`: the platform, as a GNU triple like nmap's (`x86_64-pc-linux-gnu`).
   * Default: made from `process.arch` and `process.platform`.
   */
  readonly platform?: string;
  /** `V=`: the scanner's version. Default {@link SERVICE_FINGERPRINT_VERSION}; pass `7.93` to write what nmap 7.93 writes. */
  readonly version?: string;
  /** nmap's limits under `-d`: 1,300 bytes of each answer, answers until 10,000 characters (instead of 900 and 2,200). */
  readonly debug?: boolean;
}

/** nmap wraps after this many characters per line (`servicewrap`). */
const WRAP_AT = 74;
/** nmap formats the header and each `%r(` into a 128-byte buffer: at most 127 characters. */
const BUFFER_CHARS = 127;

/** The GNU CPU names nmap's configure uses, by Node's `process.arch`. */
const CPU: Readonly<Record<string, string>> = {
  x64: 'x86_64',
  ia32: 'i686',
  arm64: 'aarch64',
  arm: 'arm',
  ppc64: 'powerpc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
  mips: 'mips',
  mipsel: 'mipsel',
};

/** `%P=` for this process, in the shape of nmap's (the host triple its build was configured for). */
function defaultPlatform(): string {
  const cpu = CPU[arch] ?? arch;
  switch (osPlatform) {
    case 'linux':
      return cpu === 'x86_64' || cpu === 'i686' ? `${cpu}-pc-linux-gnu` : `${cpu}-unknown-linux-gnu`;
    case 'darwin':
      return `${cpu}-apple-darwin`;
    case 'win32':
      return `${cpu}-pc-windows-windows`;
    default:
      return `${cpu}-unknown-${osPlatform}`;
  }
}

/** Characters nmap writes after a backslash (the PCRE metacharacters). */
const BACKSLASHED = new Set('\\?"[]().*+$^|');

const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
/** C's `ispunct` in the C locale: printable, not a space, not a letter or digit. */
const isPunct = (b: number): boolean => b > 0x20 && b < 0x7f && !isAlnum(b);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** How nmap writes byte `bytes[at]` of an answer cut to `used` bytes. */
function escapeByte(bytes: Uint8Array, at: number, used: number): string {
  const b = bytes[at] as number;
  if (isAlnum(b)) return String.fromCharCode(b);
  // A NUL before a digit would read as an octal escape in a PCRE pattern.
  if (b === 0) return at + 1 < used && isDigit(bytes[at + 1] as number) ? '\\x00' : '\\0';
  const c = String.fromCharCode(b);
  if (BACKSLASHED.has(c)) return `\\${c}`;
  if (isPunct(b)) return c;
  if (b === 0x0d) return '\\r';
  if (b === 0x0a) return '\\n';
  if (b === 0x09) return '\\t';
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** Whether `text` can stand in a field of the header or as a probe name: printable ASCII, no space, no `%`. */
const isFieldText = (text: string): boolean => /^[\x21-\x24\x26-\x7e]+$/.test(text);

function invalid(message: string): PortscoutError {
  return new PortscoutError('ERR_INVALID_OPTION', `serviceFingerprint: ${message}`);
}

/**
 * Renders nmap's service fingerprint (`SF-Port...`) for answers that no rule
 * matched, character for character as nmap 7.93 writes it; the module's
 * documentation gives the format. nmap prints it (followed by a line
 * break) only when no hard match was found and the intensity is 7 or more;
 * that choice is the caller's.
 *
 * Returns undefined when no answer has a byte (nmap has no fingerprint then).
 *
 * @throws PortscoutError `ERR_INVALID_OPTION` for a port outside 0-65535,
 *   an intensity outside 0-9, an invalid date, or a probe name, version or
 *   platform that is empty or holds a space, a `%` or a byte outside
 *   printable ASCII
 * @example
 * ```ts
 * const text = serviceFingerprint({
 *   port: 4444,
 *   protocol: 'tcp',
 *   responses: [{ probe: 'NULL', bytes: new TextEncoder().encode('HELLO 1.0\r\n') }],
 *   date: new Date('2024-12-07T10:00:00Z'),
 *   utc: true,
 *   version: '7.93',
 *   platform: 'x86_64-pc-linux-gnu',
 * });
 * // SF-Port4444-TCP:V=7.93%I=7%D=12/7%Time=67541CA0%P=x86_64-pc-linux-gnu%r(NU
 * // SF:LL,B,"HELLO\x201\.0\r\n");
 * ```
 */
export function serviceFingerprint(input: ServiceFingerprintInput): string | undefined {
  const { port, protocol, date } = input;
  const intensity = input.intensity ?? DEFAULT_INTENSITY;
  const version = input.version ?? SERVICE_FINGERPRINT_VERSION;
  const platform = input.platform ?? defaultPlatform();
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`port must be an integer 0-65535, got ${String(port)}`);
  if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(`protocol must be 'tcp' or 'udp', got ${JSON.stringify(protocol)}`);
  if (!Number.isInteger(intensity) || intensity < 0 || intensity > 9) throw invalid(`intensity must be an integer 0-9, got ${String(intensity)}`);
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalid('date must be a valid Date');
  if (!isFieldText(version)) throw invalid(`version must be printable ASCII without spaces or %, got ${JSON.stringify(version)}`);
  if (!isFieldText(platform)) throw invalid(`platform must be printable ASCII without spaces or %, got ${JSON.stringify(platform)}`);
  for (const response of input.responses) {
    if (!isFieldText(response.probe)) throw invalid(`probe name must be printable ASCII without spaces or %, got ${JSON.stringify(response.probe)}`);
  }

  const maxBytes = input.debug ? 1300 : 900;
  const fullAt = input.debug ? 10_000 : 2200;
  const parts: string[] = [];
  let length = 0;
  /** nmap's addServiceChar: a line break and `SF:` first when the line is full. */
  const add = (text: string): void => {
    for (const c of text) {
      if (length % (WRAP_AT + 1) === WRAP_AT) {
        parts.push('\nSF:');
        length += 4;
      }
      parts.push(c);
      length++;
    }
  };

  for (const { probe, bytes } of input.responses) {
    if (bytes.length === 0) continue;
    if (length > fullAt) break; // nmap: "it is large enough"; the text only grows, so no later answer fits either
    if (length === 0) {
      const month = input.utc ? date.getUTCMonth() + 1 : date.getMonth() + 1;
      const day = input.utc ? date.getUTCDate() : date.getDate();
      // nmap prints (int) time(NULL) with %X: a 32-bit value, as unsigned hex.
      const seconds = (Math.floor(date.getTime() / 1000) | 0) >>> 0;
      const header = `SF-Port${port}-${protocol.toUpperCase()}:V=${version}${input.tunnel === 'ssl' ? '%T=SSL' : ''}%I=${intensity}%D=${month}/${day}%Time=${seconds.toString(16).toUpperCase()}%P=${platform}`;
      add(header.slice(0, BUFFER_CHARS));
    }
    add(`%r(${probe},${bytes.length.toString(16).toUpperCase()},"`.slice(0, BUFFER_CHARS));
    const used = Math.min(bytes.length, maxBytes);
    for (let i = 0; i < used; i++) add(escapeByte(bytes, i, used));
    add('")');
  }
  if (length === 0) return undefined;
  // The closing semicolon is never wrapped.
  return `${parts.join('')};`;
}

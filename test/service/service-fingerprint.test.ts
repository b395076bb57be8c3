/**
 * nmap's service fingerprint (`SF-Port...`): the rules one by one, a
 * round trip on random answers, and an oracle: nmap 7.93 scanning loopback
 * servers that answer with bytes no rule knows, whose fingerprint
 * serviceFingerprint must render character for character from the same
 * answers (the bytes the servers sent, as they recorded them). Traffic goes
 * to 127.0.0.1 only (nmap runs with -Pn -n: no ping, no DNS).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { Duplex } from 'node:stream';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVICE_FINGERPRINT_VERSION, serviceFingerprint, type FingerprintResponse, type ServiceFingerprintInput } from '../../src/service/service-fingerprint.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';
import { PortscoutError } from '../../src/errors.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'latin1')] : part)));

const DATE = new Date('2024-12-07T10:00:00Z');
const BASE: Omit<ServiceFingerprintInput, 'responses'> = { port: 4444, protocol: 'tcp', date: DATE, utc: true, version: '7.93', platform: 'x86_64-pc-linux-gnu' };
const render = (responses: FingerprintResponse[], extra: Partial<ServiceFingerprintInput> = {}): string => serviceFingerprint({ ...BASE, ...extra, responses }) as string;
const unwrap = (text: string): string => text.replaceAll('\nSF:', '');
/** The escaped bytes of the first `%r(...)` record. */
const firstBody = (text: string): string => /%r\([^,]+,[0-9A-F]+,"(.*?)"\)(?=%r\(|;$)/s.exec(unwrap(text))![1]!;

/** A decoder of the format, independent of the renderer: records as probe, length and bytes. */
function decode(text: string): { header: string; records: { probe: string; length: number; bytes: Uint8Array }[] } {
  const flat = unwrap(text);
  expect(flat.endsWith(';')).toBe(true);
  const first = flat.indexOf('%r(');
  const header = first < 0 ? flat.slice(0, -1) : flat.slice(0, first);
  const records: { probe: string; length: number; bytes: Uint8Array }[] = [];
  let at = first;
  while (at >= 0 && flat.startsWith('%r(', at)) {
    const m = /^%r\(([^,]+),([0-9A-F]+),"/.exec(flat.slice(at))!;
    at += m[0].length;
    const out: number[] = [];
    for (;;) {
      const c = flat[at]!;
      if (c === '"') break;
      if (c !== '\\') {
        out.push(c.charCodeAt(0));
        at++;
        continue;
      }
      const e = flat[at + 1]!;
      if (e === 'x') {
        out.push(Number.parseInt(flat.slice(at + 2, at + 4), 16));
        at += 4;
      } else {
        out.push(e === '0' ? 0 : e === 'r' ? 13 : e === 'n' ? 10 : e === 't' ? 9 : e.charCodeAt(0));
        at += 2;
      }
    }
    expect(flat.slice(at, at + 2)).toBe('")');
    at += 2;
    records.push({ probe: m[1]!, length: Number.parseInt(m[2]!, 16), bytes: Uint8Array.from(out) });
  }
  expect(flat.slice(at)).toBe(';');
  return { header, records };
}

describe('serviceFingerprint: the header', () => {
  it('writes port, protocol, V=, I=, D= (month/day), Time= (Unix seconds, uppercase hex) and P=', () => {
    const text = render([{ probe: 'NULL', bytes: bytes('HELLO 1.0\r\n') }]);
    expect(text).toBe('SF-Port4444-TCP:V=7.93%I=7%D=12/7%Time=67541CA0%P=x86_64-pc-linux-gnu%r(NU\nSF:LL,B,"HELLO\\x201\\.0\\r\\n");');
  });

  it('adds %T=SSL after the version for a TLS tunnel, and writes UDP and the intensity given', () => {
    const text = render([{ probe: 'DNSStatusRequest', bytes: bytes([0, 0, 0x90, 4]) }], { protocol: 'udp', tunnel: 'ssl', intensity: 9, port: 53 });
    expect(unwrap(text)).toBe('SF-Port53-UDP:V=7.93%T=SSL%I=9%D=12/7%Time=67541CA0%P=x86_64-pc-linux-gnu%r(DNSStatusRequest,4,"\\0\\0\\x90\\x04");');
  });

  it('takes D= from the local date by default, as nmap does, and Time= as 32-bit unsigned', () => {
    const late = new Date(2025, 0, 31, 23, 59, 59); // local time
    const text = unwrap(render([{ probe: 'NULL', bytes: bytes('x') }], { date: late, utc: false }));
    expect(text).toContain(`%D=1/31%Time=${(Math.floor(late.getTime() / 1000) >>> 0).toString(16).toUpperCase()}%`);
    expect(unwrap(render([{ probe: 'NULL', bytes: bytes('x') }], { date: new Date(0) }))).toContain('%D=1/1%Time=0%');
    // After 2038, nmap's (int) cast wraps; %X prints the 32 bits.
    expect(unwrap(render([{ probe: 'NULL', bytes: bytes('x') }], { date: new Date(2 ** 31 * 1000) }))).toContain('%Time=80000000%');
  });

  it('defaults: V= is portscout\'s version, P= a GNU triple like nmap\'s, I= 7', () => {
    const text = unwrap(serviceFingerprint({ port: 1, protocol: 'tcp', date: DATE, responses: [{ probe: 'NULL', bytes: bytes('x') }] })!);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SERVICE_FINGERPRINT_VERSION).toBe(`portscout-${pkg.version}`);
    expect(text).toMatch(new RegExp(`^SF-Port1-TCP:V=${SERVICE_FINGERPRINT_VERSION.replaceAll('.', '\\.')}%I=7%D=\\d+/\\d+%Time=67541CA0%P=[\\w.]+-[\\w.]+-[\\w.-]+%r\\(`));
    if (process.platform === 'linux' && process.arch === 'x64') expect(text).toContain('%P=x86_64-pc-linux-gnu%');
  });

  it('cuts the header at 127 characters, as nmap\'s 128-byte buffer does', () => {
    const text = unwrap(render([{ probe: 'NULL', bytes: bytes('x') }], { platform: 'p'.repeat(200) }));
    expect(text.indexOf('%r(')).toBe(127);
  });
});

describe('serviceFingerprint: the bytes', () => {
  it('keeps letters, digits and punctuation; backslashes PCRE metacharacters; escapes the rest', () => {
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes('azAZ09') }]))).toBe('azAZ09');
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes('\\?"[]().*+$^|') }]))).toBe('\\\\\\?\\"\\[\\]\\(\\)\\.\\*\\+\\$\\^\\|');
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes("!#%&',-/:;<=>@_`{}~") }]))).toBe("!#%&',-/:;<=>@_`{}~");
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes('\r\n\t') }]))).toBe('\\r\\n\\t');
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes([0x20, 0x01, 0x0b, 0x0c, 0x1b, 0x7f, 0x80, 0xab, 0xff]) }]))).toBe('\\x20\\x01\\x0b\\x0c\\x1b\\x7f\\x80\\xab\\xff');
  });

  it('writes a NUL as \\0, or \\x00 when a digit follows (within the bytes written)', () => {
    expect(firstBody(render([{ probe: 'NULL', bytes: bytes([0], 'a', [0, 0], '1', [0]) }]))).toBe('\\0a\\0\\x001\\0');
    // Byte 899 is the last written: the digit after it is cut, so the NUL is \0.
    const cut = bytes('a'.repeat(899), [0], '7');
    expect(firstBody(render([{ probe: 'NULL', bytes: cut }])).endsWith('a\\0')).toBe(true);
  });

  it('gives the whole length in hex but writes only the first 900 bytes (1,300 under debug)', () => {
    const long = bytes('b'.repeat(1500));
    expect(unwrap(render([{ probe: 'NULL', bytes: long }]))).toContain(`%r(NULL,5DC,"${'b'.repeat(900)}")`);
    expect(unwrap(render([{ probe: 'NULL', bytes: long }], { debug: true }))).toContain(`%r(NULL,5DC,"${'b'.repeat(1300)}")`);
  });

  it('leaves out empty answers, and gives undefined when no answer has a byte', () => {
    expect(serviceFingerprint({ ...BASE, responses: [] })).toBeUndefined();
    expect(serviceFingerprint({ ...BASE, responses: [{ probe: 'NULL', bytes: new Uint8Array() }] })).toBeUndefined();
    const text = render([{ probe: 'NULL', bytes: new Uint8Array() }, { probe: 'GetRequest', bytes: bytes('x') }]);
    expect(decode(text).records.map((r) => r.probe)).toEqual(['GetRequest']);
  });

  it('adds answers while the text is at most 2,200 characters long (10,000 under debug), each whole', () => {
    const answers = Array.from({ length: 40 }, (_, i) => ({ probe: `P${i}`, bytes: bytes(' '.repeat(100)) })); // 400 characters each
    const kept = decode(render(answers)).records;
    // The header is 69 characters, each record 412: after four records the text is 1,717 characters
    // and 23 line breaks (1,809 <= 2,200), so a fifth is added; after five it is 2,245 and the rest are left out.
    expect(kept.map((r) => r.probe)).toEqual(['P0', 'P1', 'P2', 'P3', 'P4']);
    expect(render(answers).length).toBeGreaterThan(2200);
    expect(decode(render(answers, { debug: true })).records.length).toBeGreaterThan(20);
  });
});

describe('serviceFingerprint: the lines', () => {
  it('cuts every 74 characters with a line break and SF:, even in the middle of an escape', () => {
    const text = render([{ probe: 'NULL', bytes: bytes('\x01'.repeat(300)) }]);
    const lines = text.split('\n');
    expect(lines[0]).toHaveLength(74);
    for (const line of lines.slice(1, -1)) {
      expect(line).toHaveLength(74);
      expect(line.startsWith('SF:')).toBe(true);
    }
    expect(lines.at(-1)!.length).toBeLessThanOrEqual(75);
    // The body is \x01 escapes, four characters each; lines of 71 body characters end inside some of them.
    expect(lines.slice(1, -1).some((line) => !line.endsWith('\\x01'))).toBe(true);
  });

  it('never wraps the closing semicolon: a full last line gets it as a 75th character', () => {
    // Find an answer length that ends the text exactly at the end of a line.
    let found: string | undefined;
    for (let n = 1; n < 200 && !found; n++) {
      const text = render([{ probe: 'NULL', bytes: bytes('a'.repeat(n)) }]);
      if (text.split('\n').at(-1)!.length === 75) found = text;
    }
    expect(found).toBeDefined();
    expect(found!.endsWith('");')).toBe(true);
  });

  it('round trip: any answers decode back to their first 900 bytes and lengths, every line 74 characters at most (75 with the ;)', () => {
    const answer = fc.record({ probe: fc.constantFrom('NULL', 'GenericLines', 'GetRequest', 'X11Probe'), bytes: fc.uint8Array({ minLength: 1, maxLength: 1200 }) });
    fc.assert(
      fc.property(fc.array(answer, { minLength: 1, maxLength: 4 }), fc.boolean(), (answers, tls) => {
        const text = render(answers, tls ? { tunnel: 'ssl' } : {});
        const { records } = decode(text);
        expect(records.length).toBeGreaterThanOrEqual(1);
        records.forEach((record, i) => {
          expect(record.probe).toBe(answers[i]!.probe);
          expect(record.length).toBe(answers[i]!.bytes.length);
          expect(record.bytes).toEqual(answers[i]!.bytes.slice(0, 900));
        });
        const lines = text.split('\n');
        lines.forEach((line, i) => {
          expect(line.length).toBeLessThanOrEqual(i === lines.length - 1 ? 75 : 74);
          if (i < lines.length - 1) expect(line).toHaveLength(74);
          if (i > 0) expect(line.startsWith('SF:')).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('serviceFingerprint: input checks', () => {
  const invalid = (input: Partial<ServiceFingerprintInput>): unknown => {
    try {
      serviceFingerprint({ ...BASE, responses: [{ probe: 'NULL', bytes: bytes('x') }], ...input });
    } catch (error) {
      return error;
    }
    return undefined;
  };
  it('refuses bad ports, intensities, dates and field text with ERR_INVALID_OPTION', () => {
    for (const input of [
      { port: 65536 },
      { port: 1.5 },
      { intensity: 10 },
      { date: new Date(Number.NaN) },
      { version: '7.93 beta' },
      { platform: 'x86%64' },
      { version: '' },
      { responses: [{ probe: 'NU LL', bytes: bytes('x') }] },
    ]) {
      const error = invalid(input);
      expect(error, JSON.stringify(input)).toBeInstanceOf(PortscoutError);
      expect((error as PortscoutError).code).toBe('ERR_INVALID_OPTION');
    }
  });
});

/* ------------------------------------------------------------------------ */
/* The oracle: nmap 7.93 on loopback                                         */
/* ------------------------------------------------------------------------ */

const NMAP_FILE = '/usr/share/nmap/nmap-service-probes';
const ON_CI = Boolean(process.env.CI);
const runs = (command: string, args: string[]): boolean => {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const nmapVersion = ((): string | undefined => {
  try {
    return /Nmap version (\S+)/.exec(execFileSync('nmap', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
})();
const hasNmap = nmapVersion !== undefined && existsSync(NMAP_FILE);
const hasOpenssl = runs('openssl', ['version']);
if (!hasNmap) console.warn(`[service-fingerprint] nmap or ${NMAP_FILE} not found: the nmap oracle tests are ${ON_CI ? 'failing (CI is set)' : 'skipped'}.`);
if (hasNmap && nmapVersion !== '7.93') console.warn(`[service-fingerprint] nmap ${nmapVersion} found; the oracle was written against 7.93.`);

/** One connection as the server saw it: what it received (the probe) and every byte it sent. */
interface Conversation {
  received: Buffer;
  sent: Buffer[];
}

/**
 * A service no rule knows: it sends BANNER at once; the first bytes it
 * receives (a probe) get an answer made of odd bytes (a NUL before a digit,
 * the probe's length, its first byte), then it closes; after 250 ms of
 * silence it closes too, so nmap's NULL probe ends at once.
 */
function talk(socket: Socket | TLSSocket, log: Conversation[], banner: Buffer): void {
  const conversation: Conversation = { received: Buffer.alloc(0), sent: [] };
  log.push(conversation);
  const send = (data: Buffer): void => {
    conversation.sent.push(data);
    socket.write(data);
  };
  send(banner);
  const idle = setTimeout(() => socket.end(), 250);
  socket.once('data', (data: Buffer) => {
    clearTimeout(idle);
    conversation.received = data;
    send(Buffer.concat([Buffer.from([0xfe, 0x00, data.length & 0xff, 0x00, 0x00, 0x5a]), Buffer.from(`#${data.length}#`), Buffer.from([data[0] ?? 0, 0x7f, 0x1b])]));
    socket.end();
  });
}

/** A TLS server side on a socket whose first bytes were read already (a stream wrapper, so TLS sees them). */
function serveTls(socket: Socket, first: Buffer, secureContext: SecureContext): TLSSocket {
  const duplex = new Duplex({
    read() {},
    write(chunk, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
  });
  duplex.push(first);
  socket.on('data', (data) => duplex.push(data));
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  const tls = new TLSSocket(duplex, { isServer: true, secureContext });
  tls.on('error', () => {});
  return tls;
}

async function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** nmap's fingerprint block from its normal output: the SF-Port line to the line ending in `;`. */
function fingerprintBlock(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('SF-Port'));
  expect(start, `nmap printed no fingerprint:\n${output}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i >= start && line.endsWith(';'));
  return lines.slice(start, end + 1).join('\n');
}

async function runNmap(port: number): Promise<string> {
  // -Pn: no ping; -n: no DNS. Only 127.0.0.1 is scanned, one port.
  const { stdout } = await promisify(execFile)('nmap', ['-sV', '-Pn', '-n', '-p', String(port), '127.0.0.1'], { timeout: 25_000 });
  return stdout;
}

/**
 * The answers nmap got, from the server's log, in the order of the
 * connections (nmap sends one probe after the other): each named by the
 * probe whose payload (read from nmap's probe file) the connection
 * received; the first connection that received nothing is the NULL probe.
 * Connections that received something else (a version script) are left
 * out. The answers past the point where nmap stopped recording (its
 * 2,200-character limit) are kept: the renderer must leave them out itself.
 */
function answersFor(nmapText: string, log: Conversation[]): FingerprintResponse[] {
  const { database } = parseServiceProbes(readFileSync(NMAP_FILE, 'latin1'), { source: NMAP_FILE });
  const names = [...unwrap(nmapText).matchAll(/%r\(([^,]+),/g)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(2);
  const answers: FingerprintResponse[] = [];
  for (const conversation of log) {
    const candidates =
      conversation.received.length === 0
        ? answers.length === 0 ? ['NULL'] : []
        : database.probes.filter((p) => p.protocol === 'tcp' && Buffer.from(p.payload).equals(conversation.received)).map((p) => p.name);
    if (candidates.length === 0) continue;
    const next = names[answers.length];
    answers.push({ probe: next !== undefined && candidates.includes(next) ? next : candidates[0]!, bytes: Buffer.concat(conversation.sent) });
  }
  expect(answers.slice(0, names.length).map((a) => a.probe)).toEqual(names);
  return answers;
}

/** Compares serviceFingerprint to nmap's text: exactly with nmap's V= and P=, and with the defaults after unwrapping, those fields aside. */
function compareWithNmap(nmapText: string, port: number, responses: FingerprintResponse[], tunnel: 'ssl' | undefined): void {
  const header = /^SF-Port(\d+)-TCP:V=([^%]+)(%T=SSL)?%I=(\d)%D=(\d+)\/(\d+)%Time=([0-9A-F]+)%P=([^%]+)%r\(/.exec(unwrap(nmapText));
  expect(header, nmapText).not.toBeNull();
  const [, nmapPort, version, ssl, intensity, , , time, platform] = header!;
  expect(Number(nmapPort)).toBe(port);
  expect(Boolean(ssl)).toBe(tunnel === 'ssl');
  const date = new Date(Number.parseInt(time!, 16) * 1000);
  const input: ServiceFingerprintInput = { port, protocol: 'tcp', ...(tunnel ? { tunnel } : {}), intensity: Number(intensity), date, responses };
  // nmap's D= is its local date; this process has the same time zone.
  expect(serviceFingerprint({ ...input, version: version!, platform: platform! })).toBe(nmapText);
  // With portscout's own V= and P= (other lengths move the cuts, and so where the 2,200-character limit falls):
  // the same header otherwise, and the same records as far as both go.
  const ours = decode(serviceFingerprint(input)!);
  const theirs = decode(nmapText);
  const fields = (text: string): string => text.replace(/:V=[^%]+/, ':V=*').replace(/%P=[^%]+/, '%P=*');
  expect(fields(ours.header)).toBe(fields(theirs.header));
  const common = Math.min(ours.records.length, theirs.records.length);
  expect(Math.abs(ours.records.length - theirs.records.length)).toBeLessThanOrEqual(1);
  expect(ours.records.slice(0, common)).toEqual(theirs.records.slice(0, common));
  if (process.platform === 'linux' && process.arch === 'x64') expect(ours.header).toContain(`%P=${platform}`);
}

const BANNER = Buffer.concat([
  Buffer.from('\x7fPSO', 'latin1'),
  Buffer.from([0x00, 0x31, 0x00, 0xff, 0x80, 0x20, 0x09, 0x0d, 0x0a, 0x5c, 0x25, 0x28, 0x29, 0x01]),
  Buffer.from(" zz-oracle? [ok] {$^|.*+} \"q\" <&> '~\r\n", 'latin1'),
]);

describe.skipIf(!hasNmap && !ON_CI)('the oracle: nmap -sV on loopback prints the same fingerprint', () => {
  it('a plain TCP service (NULL banner, answers to nmap\'s probes, past the 2,200-character limit)', async () => {
    if (!hasNmap) throw new Error(`nmap or ${NMAP_FILE} is missing (CI is set, so this test fails rather than skips): install nmap 7.93`);
    const log: Conversation[] = [];
    const server = createServer((socket) => {
      socket.on('error', () => {});
      talk(socket, log, BANNER);
    });
    try {
      const port = await listen(server);
      const nmapText = fingerprintBlock(await runNmap(port));
      const answers = answersFor(nmapText, log);
      // nmap stopped recording at its limit: later answers are in the log but not in its text.
      expect(nmapText.length).toBeGreaterThan(2200);
      expect(answers.length).toBeGreaterThan(decode(nmapText).records.length);
      compareWithNmap(nmapText, port, answers, undefined);
    } finally {
      server.close();
    }
  });

  it.skipIf(!hasOpenssl && !ON_CI)('a service behind TLS: %T=SSL, and the answers nmap got through the tunnel', async () => {
    if (!hasNmap || !hasOpenssl) throw new Error('nmap or openssl is missing (CI is set, so this test fails rather than skips)');
    const dir = mkdtempSync(join(tmpdir(), 'portscout-sf-tls-'));
    const log: Conversation[] = [];
    let server: Server | undefined;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      // nmap's SSL probes are old hellos: accept them.
      const secureContext = createSecureContext({ minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0', key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) });
      const banner = Buffer.from('\x7fPSO-tls\x00\x02 hi\r\n', 'latin1');
      // In the clear the service is silent (nmap's NULL probe waits 6 s) and closes on anything but a TLS handshake.
      server = createServer((socket) => {
        socket.on('error', () => {});
        const idle = setTimeout(() => socket.destroy(), 10_000);
        socket.once('data', (data: Buffer) => {
          clearTimeout(idle);
          if (data[0] !== 0x16) {
            socket.end();
            return;
          }
          const tls = serveTls(socket, data, secureContext);
          tls.on('secure', () => talk(tls, log, banner));
        });
      });
      const port = await listen(server);
      const nmapText = fingerprintBlock(await runNmap(port));
      compareWithNmap(nmapText, port, answersFor(nmapText, log), 'ssl');
    } finally {
      server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The TLS head start: an answer that looks like a TLS record starts the walk
 * through TLS at once (its NULL probe only), before the match says ssl. It is
 * used when the plain walk ends on ssl, and closed when it does not. Loopback
 * servers only; the certificate is made at test time with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionSlots } from '../../src/service/connection-slots.js';
import { identifyService, listedForTls, looksLikeTls } from '../../src/service/identify-service.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';

/** A TLS alert (protocol_version), the answer the plain probe gets. */
const ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);

function database(tlsName: string, sslPorts?: number): ReturnType<typeof parseServiceProbes>['database'] {
  const { database, diagnostics } = parseServiceProbes(
    [
      'Probe TCP NULL q||',
      'totalwaitms 800',
      'Probe TCP Hello q|HELLO\\n|',
      'totalwaitms 800',
      ...(sslPorts === undefined ? [] : [`sslports ${sslPorts}`]),
      `match ${tlsName} m|^\\x15\\x03| p/Alert/`,
      'match hellotls m|^hello tls\\n| p/Hello over TLS/',
    ].join('\n'),
    { source: 'head-start' },
  );
  expect(diagnostics).toEqual([]);
  return database;
}

describe('TLS head start', () => {
  let server: Server;
  let port = 0;
  let context: SecureContext;
  const sockets: Socket[] = [];
  /** Connections that began with a TLS ClientHello, and when (ms since the test's start). */
  let hellos: number[] = [];
  let t0 = 0;
  /** How long the plain "HELLO" waits for its alert. */
  let alertDelayMs = 0;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portscout-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore', timeout: 10_000 });
      context = createSecureContext({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Plain "HELLO" gets an alert; a ClientHello gets TLS, and "HELLO" through it "hello tls".
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', (data) => {
        if (data[0] !== 0x16) {
          if (data.toString('latin1').startsWith('HELLO')) setTimeout(() => socket.destroyed || socket.write(ALERT), alertDelayMs);
          return;
        }
        hellos.push(performance.now() - t0);
        socket.pause();
        socket.unshift(data);
        const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
        secure.on('error', () => {});
        secure.on('data', (line) => {
          if (line.toString('latin1').startsWith('HELLO')) secure.write('hello tls\n');
        });
      });
    });
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  });
  afterAll(() => server.close());

  it('recognises TLS records by their header only', () => {
    expect(looksLikeTls(ALERT)).toBe(true);
    expect(looksLikeTls(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x51, 0x02]))).toBe(true);
    expect(looksLikeTls(Buffer.from('HTTP/1.1 400'))).toBe(false);
    expect(looksLikeTls(Buffer.from([0x16, 0x03]))).toBe(false);
  });

  it('starts the walk through TLS before the plain NULL probe ends, and uses it on an ssl match', async () => {
    hellos = [];
    t0 = performance.now();
    // Matching waits 700 ms (as for patterns still being translated): the head start does not.
    const translated = new Promise<void>((resolve) => setTimeout(resolve, 700));
    const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database: database('ssl'), translated, intensity: 9, connections: new ConnectionSlots(8) });
    const elapsed = performance.now() - t0;
    expect(found.tls).toBe(true);
    expect(found.match).toMatchObject({ name: 'hellotls', product: 'Hello over TLS', probe: 'Hello' });
    // The TLS NULL probe started with the alert, not once the alert matched ssl (700 ms) or after
    // the plain NULL's 800 ms: the two waits overlap.
    expect(hellos[0]).toBeLessThan(300);
    expect(elapsed).toBeLessThan(1400);
  });

  it('closes the head start when the match is not ssl: one TLS connection, the NULL probe only', async () => {
    hellos = [];
    sockets.length = 0;
    t0 = performance.now();
    const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database: database('notssl'), intensity: 9, connections: new ConnectionSlots(8) });
    expect(found.tls).toBe(false);
    expect(found.match).toMatchObject({ name: 'notssl', product: 'Alert', probe: 'Hello' });
    expect(hellos).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sockets.filter((s) => !s.destroyed && s.readyState === 'open')).toEqual([]);
  });

  it('knows the ports that a probe\'s sslports lists', () => {
    expect(listedForTls(database('ssl', 8443), { port: 8443, protocol: 'tcp' })).toBe(true);
    expect(listedForTls(database('ssl', 8443), { port: 8080, protocol: 'tcp' })).toBe(false);
    expect(listedForTls(database('ssl', 8443), { port: 8443, protocol: 'udp' })).toBe(false);
    expect(listedForTls(database('ssl'), { port: 8443, protocol: 'tcp' })).toBe(false);
  });

  it('starts the walk through TLS at once on a port in sslports, before any answer', async () => {
    hellos = [];
    alertDelayMs = 400;
    t0 = performance.now();
    try {
      const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database: database('ssl', port), intensity: 9, connections: new ConnectionSlots(8) });
      const elapsed = performance.now() - t0;
      expect(found.tls).toBe(true);
      expect(found.match).toMatchObject({ name: 'hellotls', probe: 'Hello' });
      // The ClientHello went out with the plain NULL probe, not after the alert (400 ms).
      expect(hellos[0]).toBeLessThan(200);
      // The TLS NULL's 800 ms overlapped the plain walk's: about one wait, not one after the alert.
      expect(elapsed).toBeLessThan(1150);
    } finally {
      alertDelayMs = 0;
    }
  });

  it('on a port outside sslports, starts TLS only once an answer looks like TLS', async () => {
    hellos = [];
    const { database: plainOnly } = parseServiceProbes(['Probe TCP NULL q||', 'totalwaitms 300', 'Probe TCP Hello q|HELLO\\n|', 'totalwaitms 300', 'match other m|^\\x15\\x03| p/Alert/'].join('\n'), { source: 'no-tls' });
    // No sslports: the walk through TLS waits for the plain answer (an alert, which looks like TLS).
    const found = await identifyService({ address: '127.0.0.1', family: 4, port, protocol: 'tcp' }, { database: plainOnly, intensity: 9, connections: new ConnectionSlots(8) });
    expect(found.tls).toBe(false);
    expect(found.match).toMatchObject({ name: 'other' });
    expect(hellos).toHaveLength(1); // started by the alert (it looks like TLS), not before it
  });
});

/**
 * Service detection over a connect scan, against real servers on loopback
 * (node's net, http and tls servers speaking the protocols' first words):
 * an SSH banner, an HTTP server, HTTP through TLS, a service that closes at
 * once (tcpwrapped), one that never speaks (the services table's name) and
 * one whose banner nothing matches (the submission fingerprint).
 * The probe waits are cut to 300 ms in a copy of the default database.
 */
import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectServices } from '../../src/service/detect-services.js';
import { DEFAULT_SERVICE_PROBES } from '../../src/service/default-probes.js';
import { parseServiceProbes } from '../../src/service/probe-file.js';
import type { DetectionEvent, ServiceEvent } from '../../src/service/service-event.js';
import { tcpConnectScan } from '../../src/scan/index.js';

const FAST = parseServiceProbes(DEFAULT_SERVICE_PROBES.replace(/^totalwaitms \d+$/gm, '').replace(/^(Probe .*)$/gm, '$1\ntotalwaitms 300'), { source: 'fast' });

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('detectServices on loopback', () => {
  const servers: { close(): unknown }[] = [];
  const port: Record<string, number> = {};

  beforeAll(async () => {
    expect(FAST.diagnostics).toEqual([]);
    const ssh = createTcpServer((socket) => {
      socket.on('error', () => {}); // the scanner resets its connections
      socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    });
    const http = createHttpServer((_req, res) => {
      res.setHeader('Server', 'nginx/1.22.1');
      res.end('hello');
    });
    const dir = mkdtempSync(join(tmpdir(), 'portscout-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const https = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => {
      res.setHeader('Server', 'nginx/1.22.1');
      res.end('secret');
    });
    https.on('tlsClientError', () => {});
    const wrapped = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.destroy();
    });
    const silent = createTcpServer((socket) => socket.on('error', () => {}));
    // TLS, and an unknown protocol inside it (nmap's ssl/unknown).
    const tlsOdd = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (socket) => {
      socket.on('error', () => {});
      socket.write('\x7fPSO-tls 1\r\n');
    });
    tlsOdd.on('tlsClientError', () => {});
    const odd = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.write('WELCOME TO ODD 7\r\n\x00\x01');
    });
    for (const [name, server] of [['ssh', ssh], ['http', http], ['https', https], ['wrapped', wrapped], ['silent', silent], ['odd', odd], ['tlsOdd', tlsOdd]] as const) {
      servers.push(server);
      port[name] = await listen(server as Server);
    }
  }, 30_000);

  afterAll(() => {
    for (const server of servers) server.close();
  });

  it('adds a service event per open port to the scan\'s events, done last', async () => {
    const list = Object.values(port).join(',');
    const events: DetectionEvent[] = [];
    const started = performance.now();
    for await (const event of detectServices({ from: tcpConnectScan({ targets: '127.0.0.1', ports: list, skipDiscovery: true }), probes: FAST.database })) events.push(event);
    const wallMs = performance.now() - started;
    expect(events.at(-1)?.type).toBe('done');
    expect(events.filter((e) => e.type === 'port')).toHaveLength(7);
    const services = new Map(events.filter((e): e is ServiceEvent => e.type === 'service').map((e) => [e.port, e]));
    expect(services.size).toBe(7);
    // ssl with nothing known inside: the fingerprint of the answers through TLS.
    const tlsOdd = services.get(port.tlsOdd!);
    expect(tlsOdd).toMatchObject({ name: 'ssl', tunnel: 'ssl' });
    expect(tlsOdd?.fingerprint).toMatch(/%T=SSL%/);
    expect(tlsOdd?.fingerprint?.replace(/\nSF:/g, '')).toContain('PSO-tls');
    expect(services.get(port.ssh!)).toMatchObject({ name: 'ssh', product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u3', method: 'probed', confidence: 10, probe: 'NULL', soft: false, rule: { source: 'fast' } });
    expect(services.get(port.http!)).toMatchObject({ name: 'http', product: 'nginx', version: '1.22.1', probe: 'GetRequest', cpe: ['cpe:/a:igor_sysoev:nginx:1.22.1'] });
    expect(services.get(port.https!)).toMatchObject({ name: 'http', product: 'nginx', tunnel: 'ssl', probe: 'GetRequest' });
    expect(services.get(port.wrapped!)).toMatchObject({ name: 'tcpwrapped', method: 'probed' });
    expect(services.get(port.silent!)).toMatchObject({ method: 'table', confidence: 3 });
    expect(services.get(port.silent!)?.fingerprint).toBeUndefined();
    // An answer that matched nothing: nmap's submission fingerprint, its banner in the NULL record.
    const odd = services.get(port.odd!);
    expect(odd).toMatchObject({ method: 'table' });
    expect(odd?.fingerprint).toMatch(new RegExp(`^SF-Port${port.odd}-TCP:V=portscout-[^%]+%I=7%D=\\d+/\\d+%Time=[0-9A-F]+%P=`));
    expect(odd?.fingerprint?.replace(/\nSF:/g, '')).toContain('%r(NULL,14,"WELCOME\\x20TO\\x20ODD\\x207\\r\\n\\0\\x01")');
    expect(services.get(port.ssh!)?.fingerprint).toBeUndefined();
    // The probes' waits ran side by side: well under the sum of 300 ms waits of the walks in a row.
    console.log(`[service] 5 loopback ports identified in ${Math.round(wallMs)} ms`);
  }, 30_000);

  it('runs a connect scan itself without from, and leaving early closes everything', async () => {
    const seen: DetectionEvent[] = [];
    for await (const event of detectServices({ targets: '127.0.0.1', ports: String(port.ssh), skipDiscovery: true, probes: FAST.database })) seen.push(event);
    expect(seen.find((e) => e.type === 'service')).toMatchObject({ name: 'ssh' });
    for await (const event of detectServices({ targets: '127.0.0.1', ports: String(port.silent), skipDiscovery: true, probes: FAST.database })) {
      if (event.type === 'port') break;
    }
  }, 30_000);

  it('reports its own progress (phase service), a last one before done', async () => {
    const list = [port.ssh, port.http, port.silent].join(',');
    const seen: DetectionEvent[] = [];
    for await (const event of detectServices({ targets: '127.0.0.1', ports: list, skipDiscovery: true, probes: FAST.database, progressInterval: 50 })) seen.push(event);
    const service = seen.filter((e) => e.type === 'progress' && e.phase === 'service');
    expect(service.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-2)).toMatchObject({ type: 'progress', phase: 'service', done: 3, total: 3, fraction: 1, found: 2 });
    const last = seen.at(-2) as { sent: number; rate: number };
    expect(last.sent).toBeGreaterThanOrEqual(3);
    expect(last.rate).toBeGreaterThan(0);
    expect(seen.at(-1)?.type).toBe('done');
    expect(() => detectServices({ targets: '127.0.0.1', progressInterval: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  }, 30_000);

  it('a dropped iterator with progressInterval lets the process exit by itself', () => {
    const code = `
      import { createServer } from 'node:net';
      import { detectServices } from './src/service/detect-services.ts';
      const server = createServer((s) => { s.on('error', () => {}); s.write('SSH-2.0-OpenSSH_9.2p1\\r\\n'); });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const it = detectServices({ targets: '127.0.0.1', ports: String(server.address().port), skipDiscovery: true, progressInterval: 50 })[Symbol.asyncIterator]();
      await it.next();
      server.close();
      server.unref();
    `;
    const t0 = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);

  it('leaving the loop or aborting stops a pattern running for the scan: the process exits at once', () => {
    // One pattern runs 60 s (its budget) on the hostile banner unless detection stops it.
    const code = `
      import { createServer } from 'node:net';
      import { detectServices } from './src/service/detect-services.ts';
      import { parseServiceProbes } from './src/service/probe-file.ts';
      const { database } = parseServiceProbes('Probe TCP NULL q||\\ntotalwaitms 5000\\nmatch evil m|^(a+)+$|\\n', { source: 'evil' });
      const server = createServer((s) => { s.on('error', () => {}); s.write('a'.repeat(40) + 'b'); });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const options = { targets: '127.0.0.1', ports: String(server.address().port), skipDiscovery: true, probes: database, matchBudgetMs: 60000 };
      for await (const event of detectServices(options)) {
        if (event.type === 'port') { await new Promise((r) => setTimeout(r, 500)); break; }
      }
      const t0 = Date.now();
      try {
        for await (const event of detectServices({ ...options, signal: AbortSignal.timeout(500) })) {}
      } catch {}
      if (Date.now() - t0 > 5000) process.exit(3);
      server.close();
    `;
    const t0 = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);

  it('rejects bad options at the call', () => {
    expect(() => detectServices({ intensity: 12, targets: '127.0.0.1' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => detectServices({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

describe("detectServices' connections to one host", () => {
  // Silent services: every probe waits its whole time, so each port's walk wants all its 11 probes at once.
  const probes = parseServiceProbes(
    ['Probe TCP NULL q||', 'totalwaitms 400', ...Array.from({ length: 10 }, (_, i) => `Probe TCP P${i} q|p${i}\\r\\n|\nrarity 1\ntotalwaitms 400`)].join('\n'),
    { source: 'silent' },
  );

  /** Runs detection on `count` silent loopback servers and counts, at the servers, the connections it opens. */
  async function silentHost(count: number): Promise<{ ports: number[]; found: ServiceEvent[]; firstWave: Set<number>; hostMost: number; portMost: number }> {
    const servers: Server[] = [];
    const open = new Map<number, number>();
    let hostNow = 0;
    let hostMost = 0;
    let portMost = 0;
    let counting = false;
    let firstAt: number | undefined;
    const firstWave = new Set<number>();
    for (let i = 0; i < count; i++) {
      const server = createTcpServer((socket) => {
        const local = socket.localPort as number;
        socket.on('error', () => {});
        socket.resume(); // read (and drop) the probes, so the scanner's close is seen
        open.set(local, (open.get(local) ?? 0) + 1);
        hostNow++;
        if (counting) {
          // Counted a turn later: a connection the scanner closed in the same turn has said so by then.
          setImmediate(() => {
            hostMost = Math.max(hostMost, hostNow);
            portMost = Math.max(portMost, open.get(local) as number);
          });
          // The first wave: connections before any NULL probe could have ended (400 ms after the first).
          firstAt ??= performance.now();
          if (performance.now() - firstAt < 350) firstWave.add(local);
        }
        let ended = false;
        const gone = (): void => {
          if (ended) return;
          ended = true;
          open.set(local, (open.get(local) as number) - 1);
          hostNow--;
        };
        socket.on('end', gone);
        socket.on('close', gone);
      });
      servers.push(server);
    }
    try {
      const ports = await Promise.all(servers.map((s) => listen(s)));
      // The connect scan first, on its own: only detection's connections are counted.
      const scanned: DetectionEvent[] = [];
      for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: ports.join(','), skipDiscovery: true })) scanned.push(event);
      for (let i = 0; i < 100 && hostNow > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      counting = true;
      const found: ServiceEvent[] = [];
      const replay = (async function* () {
        yield* scanned as never[];
      })();
      for await (const event of detectServices({ from: replay, probes: probes.database, intensity: 9 })) {
        if (event.type === 'service') found.push(event);
      }
      return { ports, found, firstWave, hostMost, portMost };
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  }

  it('every port of a host at once (its first probes), at most 16 connections to the host', async () => {
    expect(probes.diagnostics).toEqual([]);
    const { ports, found, firstWave, hostMost } = await silentHost(12);
    expect(found).toHaveLength(12);
    // nmap runs every port of a host at once: here each of the 12 had a connection in the first wave.
    expect([...firstWave].sort()).toEqual([...ports].sort());
    expect(hostMost).toBeLessThanOrEqual(16);
    expect(hostMost).toBeGreaterThan(12);
  }, 30_000);

  it('one port (one service) gets at most 8 of them, though the host has room for 16', async () => {
    const { found, portMost, hostMost } = await silentHost(1);
    expect(found).toHaveLength(1);
    expect(portMost).toBe(8);
    expect(hostMost).toBe(8);
  }, 30_000);
});

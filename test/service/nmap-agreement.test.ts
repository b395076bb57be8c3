/**
 * Agreement with nmap -sV on the same ports, on loopback: servers speaking
 * the first words of SSH, HTTP and HTTP over TLS (node's net, http, https),
 * identified by nmap 7.93 and by portscout with nmap's own probe file
 * (read at test time, never copied). Service, product, version and tunnel
 * must be identical. Skipped when nmap or its file is not installed.
 */
import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectServices } from '../../src/service/detect-services.js';
import { loadServiceProbes } from '../../src/service/probe-file.js';
import type { ServiceEvent } from '../../src/service/service-event.js';

const NMAP_FILE = '/usr/share/nmap/nmap-service-probes';
const hasNmap = existsSync(NMAP_FILE) && (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Seen {
  name?: string;
  product?: string;
  version?: string;
  tunnel?: string;
}

/** The service fields of nmap's XML, per port (a few attributes; enough for the comparison). */
function nmapServices(xml: string): Map<number, Seen> {
  const out = new Map<number, Seen>();
  for (const m of xml.matchAll(/<port protocol="tcp" portid="(\d+)">.*?<\/port>/gs)) {
    const service = /<service ([^>]*?)\/?>/.exec(m[0]);
    if (!service) continue;
    const attr = (name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(service[1]!)?.[1];
    const seen: Seen = {};
    for (const key of ['name', 'product', 'version', 'tunnel'] as const) {
      const value = attr(key);
      if (value !== undefined) seen[key] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    }
    out.set(Number(m[1]), seen);
  }
  return out;
}

describe.skipIf(!hasNmap)('agreement with nmap -sV on loopback (nmap\'s own probe file)', () => {
  const servers: { close(): unknown }[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portscout-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const handler = (_req: unknown, res: { setHeader(k: string, v: string): void; end(body: string): void }): void => {
      res.setHeader('Server', 'nginx/1.22.1');
      res.end('<html>hello</html>');
    };
    const list: Server[] = [
      createTcpServer((socket) => {
        socket.on('error', () => {});
        socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
      }),
      createHttpServer(handler) as unknown as Server,
      createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, handler) as unknown as Server,
    ];
    for (const server of list) {
      server.on('tlsClientError', () => {});
      server.on('clientError', () => {});
      servers.push(server);
      ports.push(await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))));
    }
  }, 30_000);

  afterAll(() => {
    for (const server of servers) server.close();
  });

  it('gives nmap\'s service, product, version and tunnel for each port', async () => {
    const nmapStarted = performance.now();
    const { stdout } = await promisify(execFile)('nmap', ['-sV', '-sT', '-Pn', '-n', '-p', ports.join(','), '127.0.0.1', '-oX', '-'], { timeout: 120_000 });
    const nmapMs = performance.now() - nmapStarted;
    const theirs = nmapServices(stdout);
    const { database, diagnostics } = await loadServiceProbes(NMAP_FILE);
    expect(diagnostics).toEqual([]);
    const started = performance.now();
    const ours = new Map<number, Seen>();
    for await (const event of detectServices({ targets: '127.0.0.1', ports: ports.join(','), skipDiscovery: true, probes: database })) {
      if (event.type !== 'service') continue;
      const e = event as ServiceEvent;
      const seen: Seen = { name: e.name };
      if (e.product !== undefined) seen.product = e.product;
      if (e.version !== undefined) seen.version = e.version;
      if (e.tunnel !== undefined) seen.tunnel = e.tunnel;
      ours.set(e.port, seen);
    }
    const oursMs = performance.now() - started;
    console.log(`[service] nmap -sV ${Math.round(nmapMs)} ms, portscout ${Math.round(oursMs)} ms; nmap: ${JSON.stringify([...theirs])}`);
    expect(theirs.size).toBe(3);
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(theirs));
  }, 180_000);
});

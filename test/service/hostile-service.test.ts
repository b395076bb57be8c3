/**
 * Hostile and broken services on loopback: answers crafted to make patterns
 * backtrack (for a pattern of our own and, when nmap is installed, for two
 * of nmap's file, read at test time), a port that resets mid-banner, one
 * that stalls, and one that sends 10 MB. Each is reported with what was
 * learned, within its time budget; the other ports are unaffected, the
 * event loop never stalls, and no connection is left open.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectServices } from '../../src/service/detect-services.js';
import { DEFAULT_SERVICE_PROBES } from '../../src/service/default-probes.js';
import { loadServiceProbes, parseServiceProbes } from '../../src/service/probe-file.js';
import type { ServiceProbeDatabase } from '../../src/service/probe-database.js';
import type { ServiceEvent } from '../../src/service/service-event.js';
import { watchLoop } from '../support/loop-watch.js';

const NMAP_FILE = '/usr/share/nmap/nmap-service-probes';
const FAST = parseServiceProbes(DEFAULT_SERVICE_PROBES.replace(/^totalwaitms \d+$/gm, '').replace(/^(Probe .*)$/gm, '$1\ntotalwaitms 300'), { source: 'fast' }).database;

interface Served {
  readonly port: number;
  readonly server: Server;
  readonly sockets: Socket[];
}

async function serve(onConnection: (socket: Socket) => void): Promise<Served> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume(); // read what comes, so our hang-up (EOF) is seen and the server closes its end
    onConnection(socket);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { port, server, sockets };
}

const sshBanner = (socket: Socket): void => void socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');

/**
 * Detection of the ports, with the time each service event came and the
 * longest turn of the event loop (a timer gap, bounded by the CPU time the
 * process spent in it: a suite running beside us can deschedule us, which is
 * no long turn of ours).
 */
async function detect(ports: number[], probes: ServiceProbeDatabase, matchBudgetMs?: number, intensity = 7): Promise<{ services: Map<number, ServiceEvent & { atMs: number }>; wallMs: number; maxLagMs: number }> {
  const started = performance.now();
  const services = new Map<number, ServiceEvent & { atMs: number }>();
  const options = { targets: '127.0.0.1', ports: ports.join(','), skipDiscovery: true, probes, intensity, ...(matchBudgetMs === undefined ? {} : { matchBudgetMs }) };
  const watched = await watchLoop(async () => {
    for await (const event of detectServices(options)) {
      if (event.type === 'service') services.set(event.port, { ...event, atMs: performance.now() - started });
    }
  });
  return { services, wallMs: performance.now() - started, maxLagMs: watched.maxTurnMs };
}

/** Every connection the servers took is closed (by us) shortly after detection. */
async function allClosed(served: Served[]): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return served.flatMap((s) => s.sockets).filter((socket) => !socket.destroyed && socket.readyState !== 'closed').length;
}

describe('hostile services', () => {
  const all: Served[] = [];
  afterAll(() => {
    for (const s of all) {
      for (const socket of s.sockets) socket.destroy();
      s.server.close();
    }
  });

  it('a pattern of our own, made to backtrack: the pattern runs out of budget, the next one matches', async () => {
    const { database } = parseServiceProbes('Probe TCP NULL q||\ntotalwaitms 1000\nmatch evil m|^(a+)+$|\nmatch banner m|^a+(b)| p/Banner/ v/$1/\n', { source: 'evil' });
    const evil = await serve((socket) => void socket.write('a'.repeat(40) + 'b'));
    const ssh = await serve(sshBanner);
    all.push(evil, ssh);
    const { services, wallMs, maxLagMs } = await detect([evil.port, ssh.port], database, 100);
    expect(services.get(evil.port)).toMatchObject({ name: 'banner', product: 'Banner', version: 'b', overBudget: [{ source: 'evil', line: 3 }] });
    console.log(`[hostile] own pattern: ${Math.round(wallMs)} ms, event loop max delay ${maxLagMs.toFixed(1)} ms`);
    expect(wallMs).toBeLessThan(3000);
    expect(maxLagMs).toBeLessThan(100);
    expect(await allClosed([evil, ssh])).toBe(0);
  }, 20_000);

  it.skipIf(!existsSync(NMAP_FILE))("an answer crafted for two of nmap's patterns: the port is reported, the other ports are not held up", async () => {
    const { database } = await loadServiceProbes(NMAP_FILE);
    // Lines 281-282 of nmap 7.93's file (bruker-axs): four `.*` in a row under `s`, polynomial on this banner.
    const crafted = '[ANGLESTATUS' + '[XYZSTATUS[ZOOMSTATUS[INSTRUMENTSTATUS'.repeat(400);
    const hostile = await serve((socket) => void socket.write(crafted, 'latin1'));
    const ssh = await serve(sshBanner);
    all.push(hostile, ssh);
    // Intensity 1 keeps the walk short: every probe gets the same unmatched banner and waits its 5 s out, as in nmap.
    const { services, wallMs, maxLagMs } = await detect([hostile.port, ssh.port], database, 100, 1);
    const slow = services.get(hostile.port);
    expect(slow).toBeDefined();
    expect(slow?.overBudget?.length).toBeGreaterThanOrEqual(1);
    for (const rule of slow?.overBudget ?? []) expect(rule.source).toBe(NMAP_FILE);
    expect(services.get(ssh.port)).toMatchObject({ name: 'ssh', product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u3' });
    console.log(`[hostile] nmap's patterns: ssh at ${Math.round(services.get(ssh.port)!.atMs)} ms, hostile port at ${Math.round(slow!.atMs)} ms (${slow!.overBudget!.map((r) => r.line).join(', ')} over budget), event loop max delay ${maxLagMs.toFixed(1)} ms`);
    expect(services.get(ssh.port)!.atMs).toBeLessThan(2000);
    expect(maxLagMs).toBeLessThan(100);
    expect(wallMs).toBeLessThan(60_000);
    expect(await allClosed([hostile, ssh])).toBe(0);
  }, 90_000);

  it('a port that resets mid-banner, one that stalls and one that sends 10 MB are reported within their waits', async () => {
    const reset = await serve((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.2p1 Deb');
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const stall = await serve(() => {}); // reads, never answers, never closes
    const flooded: number[] = [];
    const flood = await serve((socket) => {
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const at = flooded.push(0) - 1;
      let left = 160; // 10 MB
      const push = (): void => {
        while (left > 0 && !socket.destroyed) {
          left--;
          flooded[at] = (flooded[at] as number) + chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', push);
            return;
          }
        }
      };
      push();
    });
    all.push(reset, stall, flood);
    const { services, wallMs, maxLagMs } = await detect([reset.port, stall.port, flood.port], FAST);
    // What was learned: the reset port said SSH before it went (a softmatch: no full version line).
    expect(services.get(reset.port)).toMatchObject({ name: 'ssh', soft: true, method: 'probed' });
    expect(services.get(stall.port)).toMatchObject({ method: 'table', confidence: 3 });
    expect(services.get(flood.port)).toMatchObject({ method: 'table' });
    const most = Math.max(...flooded);
    console.log(`[hostile] reset/stall/flood: ${Math.round(wallMs)} ms; ${flooded.length} flood connections, at most ${(most / 1e6).toFixed(1)} MB written into one (kernel buffers included) before we hung up; event loop max delay ${maxLagMs.toFixed(1)} ms`);
    // Each probe waits 300 ms; the walks run side by side (16 connections per host, 8 per port).
    expect(wallMs).toBeLessThan(5000);
    expect(most).toBeLessThan(10 * 1024 * 1024);
    expect(maxLagMs).toBeLessThan(100);
    expect(await allClosed([reset, stall, flood])).toBe(0);
  }, 30_000);
});

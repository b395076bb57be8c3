/**
 * Fault 12 in the namespace lab: a hostile process in t1's namespace
 * (test/support/hostile-target.ts) answers every probe with crafted packets
 * (bad checksums, wrong acknowledgments, wrong ports, forged quotes,
 * truncated segments) next to whatever t1's kernel answers. None of them may
 * decide a state: the states are the lab's ground truth, and the junk is
 * counted as invalid or malformed. On the junk-only ports the firewall drops
 * t1's own answers (TTL 64), so only the hostile packets (TTL 99) come back:
 * the ground truth there is silence (filtered for SYN, open|filtered for UDP).
 * The oracle is the ground truth, not nmap: nmap does not check TCP checksums
 * and would call the junk-only ports open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { scanInLab } from './scan-in-lab.js';
import { declaredPorts, expectedPort } from './ground-truth.js';
import { tsxArgv } from './exec.js';

const JUNK_TCP: [number, number] = [47000, 47049];
const JUNK_UDP: [number, number] = [47100, 47149];
const LIFETIME_MS = 240_000;

describe.skipIf(skipLab('hostile target in the lab'))('a hostile target in the namespace lab', () => {
  let lab: Lab;
  let hostile: ChildProcess | undefined;
  let hostileOutput = '';
  let t1v4: string;
  let tcpPorts: number[];

  beforeAll(async () => {
    lab = await createLab();
    t1v4 = lab.t1.ipv4[0];
    tcpPorts = [...declaredPorts(lab.groundTruth, t1v4, 'tcp'), ...Array.from({ length: JUNK_TCP[1] - JUNK_TCP[0] + 1 }, (_, i) => JUNK_TCP[0] + i)];
    // t1's own answers on the junk-only ports are dropped; the hostile process's (TTL 99) pass.
    const rules = [
      ['-I', 'OUTPUT', '-p', 'tcp', '--sport', `${JUNK_TCP[0]}:${JUNK_TCP[1]}`, '-m', 'ttl', '--ttl-eq', '64', '-j', 'DROP'],
      ['-I', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'port-unreachable', '-m', 'ttl', '--ttl-eq', '64', '-j', 'DROP'],
    ];
    for (const rule of rules) {
      const r = await lab.exec('t1', ['iptables', ...rule]);
      if (r.code !== 0) throw new Error(`iptables ${rule.join(' ')}: ${r.stderr}`);
    }
    const request = { scanner: lab.scanner.ipv4[0], tcpPorts: [[1, 65535]], udpPorts: [JUNK_UDP], lifetimeMs: LIFETIME_MS };
    // Its own process group, so teardown ends it with everything it started.
    hostile = spawn('ip', ['netns', 'exec', lab.t1.ns, ...tsxArgv('test/support/hostile-target.ts', [JSON.stringify(request)])], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    hostile.stdout?.on('data', (chunk: Buffer) => (hostileOutput += chunk.toString()));
    hostile.stderr?.on('data', (chunk: Buffer) => (hostileOutput += chunk.toString()));
    const started = Date.now();
    while (!hostileOutput.includes('ready')) {
      if (hostile.exitCode !== null || Date.now() - started > 30_000) throw new Error(`hostile target did not start: ${hostileOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 150_000);

  afterAll(async () => {
    if (hostile?.pid !== undefined && hostile.exitCode === null) {
      const exited = new Promise((resolve) => hostile?.once('exit', resolve));
      try {
        process.kill(-hostile.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      try {
        process.kill(-hostile.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await lab?.destroy();
  }, 60_000);

  it('SYN scan: the crafted packets change no state and are counted as invalid or malformed', async () => {
    const ours = await scanInLab(lab, 'tcpSynScan', { targets: t1v4, ports: tcpPorts.join(','), timing: 'T4', skipDiscovery: true }, { timeoutMs: 90_000 });
    expect(ours.errors).toEqual([]);
    const got = Object.fromEntries(ours.ports.map((p) => [p.port, `${p.state}/${p.reason}`]));
    const want = Object.fromEntries(
      tcpPorts.map((port) => {
        if (port >= JUNK_TCP[0] && port <= JUNK_TCP[1]) return [port, 'filtered/no-response'];
        const e = expectedPort(lab.groundTruth, t1v4, 'tcp', port, 'syn');
        return [port, `${e?.state}/${e?.reason}`];
      }),
    );
    expect(got).toEqual(want);
    // Six crafted packets per probe: two fail the checksum (malformed), the truncated one too; the others fail validation.
    expect(ours.stats.malformed, JSON.stringify(ours.stats)).toBeGreaterThanOrEqual(tcpPorts.length);
    expect(ours.stats.invalid, JSON.stringify(ours.stats)).toBeGreaterThanOrEqual(tcpPorts.length);
    console.log(`[hostile] SYN scan of ${tcpPorts.length} ports in ${Math.round(ours.stats.durationMs)} ms; stats ${JSON.stringify(ours.stats)}`);
  }, 120_000);

  it('UDP scan: a datagram from the next port and a bad-checksum port-unreachable are not answers (open|filtered)', async () => {
    const ports = `U:${JUNK_UDP[0]}-${JUNK_UDP[1]}`;
    const ours = await scanInLab(lab, 'udpScan', { targets: t1v4, ports, timing: 'T4', skipDiscovery: true, maxRetries: 1 }, { timeoutMs: 90_000 });
    expect(ours.errors).toEqual([]);
    const states = new Set(ours.ports.map((p) => `${p.state}/${p.reason}`));
    expect([...states]).toEqual(['open|filtered/no-response']);
    expect(ours.ports).toHaveLength(JUNK_UDP[1] - JUNK_UDP[0] + 1);
    expect(ours.stats.malformed, JSON.stringify(ours.stats)).toBeGreaterThanOrEqual(ours.ports.length);
    expect(ours.stats.invalid, JSON.stringify(ours.stats)).toBeGreaterThanOrEqual(ours.ports.length);
    console.log(`[hostile] UDP scan of ${ours.ports.length} ports in ${Math.round(ours.stats.durationMs)} ms; stats ${JSON.stringify(ours.stats)}`);
  }, 120_000);
});

/**
 * Sends the scanner's own kernel refuses (fault 3 of the misuse issue), in
 * the namespace lab: an `OUTPUT -j DROP` rule for the target in the
 * scanner's namespace makes every sendto (and connect) fail with EPERM.
 * A probe that never left proves nothing: while the rule stays, raw ports
 * are `unknown`/`send-error` (or the scan ends with ERR_SEND_FAILED when
 * nothing left at all), never `filtered`/`no-response`; a rule that goes
 * away after a second changes no final state of a SYN or connect scan
 * (compared with the lab's ground truth).
 * The scanner's link going down for 1 s in the middle of a full-port SYN
 * scan at 10,000 probes/s changes no final state either (compared with an
 * undisturbed scan; before the fix about 4,160 closed ports came back
 * filtered, silently).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { scanInLab } from './scan-in-lab.js';
import { expectedPort } from './ground-truth.js';

const PORTS = Array.from({ length: 200 }, (_, i) => i + 1);

describe.skipIf(skipLab('refused sends in the lab'))('sends refused by the scanner\'s firewall, in the namespace lab', () => {
  let lab: Lab;
  let t1v4: string;
  const rule = (action: '-I' | '-D'): string[] => ['iptables', action, 'OUTPUT', '-d', t1v4, '-j', 'DROP'];

  beforeAll(async () => {
    lab = await createLab();
    t1v4 = lab.t1.ipv4[0];
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  /** Packets the scanner's namespace has sent towards t1 (its veth's counter: raw and connect sends alike). */
  const packetsSent = async (): Promise<number> => Number((await lab.exec('scan', ['cat', '/sys/class/net/to-t1/statistics/tx_packets'])).stdout.trim());

  const truth = (scan: 'syn' | 'connect'): Record<number, string> =>
    Object.fromEntries(
      PORTS.map((port) => {
        const e = expectedPort(lab.groundTruth, t1v4, 'tcp', port, scan);
        return [port, `${e?.state}/${e?.reason}`];
      }),
    );

  it('a rule that stays: the SYN scan ends with ERR_SEND_FAILED and reports no port filtered', async () => {
    expect((await lab.exec('scan', rule('-I'))).code).toBe(0);
    try {
      const ours = await scanInLab(lab, 'tcpSynScan', { targets: t1v4, ports: '1-200', timing: 'T4', skipDiscovery: true }, { timeoutMs: 60_000 });
      expect(ours.errors).toEqual([expect.objectContaining({ code: 'ERR_SEND_FAILED' })]);
      expect(ours.ports.filter((p) => p.state !== 'unknown')).toEqual([]);
    } finally {
      await lab.exec('scan', rule('-D'));
    }
  }, 90_000);

  // A connect scan cannot see such a rule: Linux drops the SYN of connect() in OUTPUT without telling
  // the socket (tcp_connect ignores every error of the first transmission but ECONNREFUSED), so the
  // attempt times out as silence would. nmap -sT is in the same place. Unsent connects that the
  // kernel does report (EPERM, EACCES, ENETDOWN at connect time) are retried and never a state.

  for (const [scanner, scan] of [['tcpSynScan', 'syn'], ['tcpConnectScan', 'connect']] as const) {
    it(`${scan}: a rule for 1 s in the middle of a scan at 100 probes/s changes no final state`, async () => {
      const before = await packetsSent();
      const running = scanInLab(lab, scanner, { targets: t1v4, ports: '1-200', timing: 'T4', skipDiscovery: true, rate: 100, ...(scan === 'connect' ? { workers: 0 } : {}) }, { timeoutMs: 60_000 });
      // The rule goes in once the scan is sending (about 50 probes out), not after a fixed time:
      // a loaded machine can take seconds to start the child.
      const deadline = Date.now() + 30_000;
      while ((await packetsSent()) - before < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await lab.exec('scan', rule('-I'))).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await lab.exec('scan', rule('-D'));
      const ours = await running;
      expect(ours.errors).toEqual([]);
      expect(Object.fromEntries(ours.ports.map((p) => [p.port, `${p.state}/${p.reason}`]))).toEqual(truth(scan));
      // The probes of that second were refused, counted and sent again (raw); the connect attempts
      // of that second were made again after their waits ran out (the kernel hides the drop).
      if (scan === 'syn') expect(ours.stats.sendErrors, JSON.stringify(ours.stats)).toBeGreaterThan(20);
      else expect(ours.stats.retransmitted, JSON.stringify(ours.stats)).toBeGreaterThan(20);
      console.log(`[send-faults] ${scan}: ${ours.stats.sendErrors} refused sends in the 1 s rule; stats ${JSON.stringify(ours.stats)}`);
    }, 90_000);
  }

  it('the link down for 1 s in the middle of a full-port SYN scan at 10,000 probes/s changes no final state', async () => {
    const options = { targets: t1v4, ports: '1-65535', timing: 'T4', skipDiscovery: true, rate: 10_000 };
    const undisturbed = await scanInLab(lab, 'tcpSynScan', options, { timeoutMs: 60_000, compact: true });
    const running = scanInLab(lab, 'tcpSynScan', options, { timeoutMs: 90_000, compact: true });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    try {
      expect((await lab.exec('scan', ['ip', 'link', 'set', 'to-t1', 'down'])).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await lab.exec('scan', ['ip', 'link', 'set', 'to-t1', 'up']);
    }
    const ours = await running;
    expect(ours.errors).toEqual([]);
    const want = new Map(undisturbed.ports.map((p) => [p.port, `${p.state}/${p.reason}`]));
    const wrong = ours.ports.filter((p) => want.get(p.port) !== `${p.state}/${p.reason}`);
    expect(ours.ports).toHaveLength(65535);
    expect(wrong.slice(0, 5).map((p) => `${p.port} ${p.state}/${p.reason} (want ${want.get(p.port)})`), `${wrong.length} ports differ`).toEqual([]);
    expect(ours.stats.sendErrors, JSON.stringify(ours.stats)).toBeGreaterThan(100);
    console.log(`[send-faults] link down 1 s: ${ours.stats.sendErrors} refused sends, ${ours.stats.retransmitted} retransmitted; states equal the undisturbed scan's; ${Math.round(ours.wallMs)} ms against ${Math.round(undisturbed.wallMs)} ms`);
  }, 180_000);
});

/**
 * Consumers that stop reading (faults 5 and "a consumer pausing" of the
 * misuse issue), in the namespace lab:
 * - a script that takes a few events of a full-port scan and drops the
 *   iterator (no return()) must exit by itself: before the fix it was still
 *   running after 30 s, its raw sockets and workers holding the loop;
 * - a consumer that pauses 5 s in the middle and then reads on gets the same
 *   states as an undisturbed scan of the same host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { scanInLab, type LabScanResult, type ScannerName } from './scan-in-lab.js';

const states = (result: LabScanResult): Map<number, string> => new Map(result.ports.map((p) => [p.port, `${p.state}/${p.reason}`]));

describe.skipIf(skipLab('consumer faults in the lab'))('consumers that stop reading, in the namespace lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab();
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  for (const scanner of ['tcpSynScan', 'tcpConnectScan'] as const satisfies readonly ScannerName[]) {
    it(`${scanner}: a process that drops a full-port scan after five events exits by itself`, async () => {
      const result = await scanInLab(lab, scanner, { targets: lab.t1.ipv4[0], ports: '1-65535', timing: 'T4', skipDiscovery: true }, { timeoutMs: 30_000, dropAfter: 5 });
      expect(result.dropped).toBe(true);
      expect(result.timedOut, 'the process was still running after 30 s').toBe(false);
      expect(result.exitCode).toBe(0);
      console.log(`[consumer] ${scanner} dropped after five events: the process exited after ${Math.round(result.wallMs)} ms`);
    }, 60_000);
  }

  for (const scanner of ['tcpSynScan', 'tcpConnectScan'] as const satisfies readonly ScannerName[]) {
    it(`${scanner}: a consumer pausing 5 s in the middle of a full-port scan gets the undisturbed scan's states`, async () => {
      const options = { targets: lab.t1.ipv4[0], ports: '1-65535', timing: 'T4', skipDiscovery: true };
      const undisturbed = await scanInLab(lab, scanner, options, { timeoutMs: 60_000, compact: true });
      const paused = await scanInLab(lab, scanner, options, { timeoutMs: 60_000, compact: true, pauseAfter: 2000, pauseMs: 5000 });
      expect(paused.errors).toEqual([]);
      expect(paused.wallMs).toBeGreaterThan(5000);
      expect(paused.ports).toHaveLength(65535);
      expect(states(paused)).toEqual(states(undisturbed));
      console.log(`[consumer] ${scanner} paused 5 s: ${Math.round(paused.wallMs)} ms against ${Math.round(undisturbed.wallMs)} ms undisturbed, states equal`);
    }, 150_000);
  }
});

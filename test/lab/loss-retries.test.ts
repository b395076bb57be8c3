/**
 * Retries that adapt to measured loss (issue 14): t2 drops 10% of packets
 * each way (about 19% of round trips). nmap's T4 makes 7 attempts, which
 * leaves about 0.6 wrong ports in a full-port scan; the engine measures the
 * loss from the answers and raises the retries until fewer than 0.01 pairs
 * are expected wrong. Five SYN scans of 10,000 ports with the T4 template and
 * no maxRetries must each agree with the lab's ground truth on every port
 * (the oracle is the ground truth: nmap takes minutes under this loss), and
 * say what they did (a PACKET_LOSS warning).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { scanInLab } from './scan-in-lab.js';
import { expectedPort } from './ground-truth.js';
import { lossRetries } from '../../src/scan/scan-engine.js';

describe('retries raised by measured loss', () => {
  it('need 9 retries for 19% loss over 65,535 ports, none without loss, more for more', () => {
    expect(lossRetries(0.19, 65_535)).toBe(9);
    expect(lossRetries(0.19, 10_000)).toBe(8);
    expect(lossRetries(0, 65_535)).toBe(0);
    expect(lossRetries(0.5, 65_535)).toBe(22);
    expect(lossRetries(0.99, 10)).toBe(40);
  });
});

describe.skipIf(skipLab('loss retries lab'))('a SYN scan under 10% loss each way', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  it('agrees with the ground truth on all of 10,000 ports, five times in a row', async () => {
    const t2 = lab.t2.ipv4[0];
    for (let run = 0; run < 5; run++) {
      const ours = await scanInLab(lab, 'tcpSynScan', { targets: t2, ports: '1-10000', skipDiscovery: true, timing: 'T4' }, { timeoutMs: 120_000, compact: true });
      expect(ours.errors).toEqual([]);
      const wrong = ours.ports.filter((p) => {
        const truth = expectedPort(lab.groundTruth, t2, 'tcp', p.port, 'syn');
        return truth === undefined ? p.state !== 'closed' : p.state !== truth.state;
      });
      expect(wrong.map((p) => `${p.port} ${p.state}`), `run ${run + 1}`).toEqual([]);
      expect(ours.ports).toHaveLength(10_000);
      expect(ours.events.some((e) => e.type === 'warning' && e.code === 'PACKET_LOSS')).toBe(true);
      console.log(`[loss] run ${run + 1}: ${(ours.stats.durationMs / 1000).toFixed(2)} s, sent ${ours.stats.sent}, retransmitted ${ours.stats.retransmitted}`);
    }
  }, 600_000);
});

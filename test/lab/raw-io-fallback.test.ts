/**
 * The raw scans on both raw I/O paths, in the namespace lab: portscout's own
 * native addon (the default where it built) and the raw-socket package (the
 * fallback, forced here with PORTSCOUT_RAW_IO=raw-socket). Each scan must give
 * the lab's ground truth, state and reason, on both paths, over IPv4 and IPv6
 * (issue 14: with the addon off, every scan still works on raw-socket). The
 * native path, the default, runs every scan of scanners.test.ts; here it runs
 * only what tells the paths apart.
 * Only the native path reads the IPv6 hop limit, so IPv6 answers carry a ttl
 * there and none on raw-socket: that also shows which path ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from './lab.js';
import { skipLab } from './support.js';
import { scanInLab, type ScannerName } from './scan-in-lab.js';
import { declaredPorts, expectedPort, type LabScanType } from './ground-truth.js';

const PATHS = ['native', 'raw-socket'] as const;

describe.skipIf(skipLab('raw I/O paths in the namespace lab'))('raw scans on the native addon and on raw-socket', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab({ loss: 0 });
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  const cases: { scanner: ScannerName; scan: LabScanType; protocol: 'tcp' | 'udp'; extra?: Record<string, unknown> }[] = [
    { scanner: 'tcpSynScan', scan: 'syn', protocol: 'tcp' },
    { scanner: 'tcpFlagScan', scan: 'ack', protocol: 'tcp', extra: { scan: 'ack' } },
    { scanner: 'udpScan', scan: 'udp', protocol: 'udp' },
  ];

  for (const path of PATHS) {
    for (const { scanner, scan, protocol, extra } of cases) {
      for (const family of ['ipv4', 'ipv6'] as const) {
        // The native path runs every scan of scanners.test.ts already; here it shows the IPv6 hop limit.
        if (path === 'native' && (family === 'ipv4' || scanner !== 'tcpSynScan')) continue;
        it(`${path}: ${scanner}${extra ? ` (${String(extra.scan)})` : ''} over ${family} gives the ground truth`, async () => {
          const address = family === 'ipv4' ? lab.t1.ipv4[0] : lab.t1.ipv6[0];
          const ports = [...new Set([...declaredPorts(lab.groundTruth, address, protocol), 20, 21, 8080])].sort((a, b) => a - b);
          const ours = await scanInLab(
            lab,
            scanner,
            { targets: address, ports: ports.join(','), skipDiscovery: true, timing: 'T4', maxRetries: 2, ...extra },
            { env: { PORTSCOUT_RAW_IO: path } },
          );
          expect(ours.errors).toEqual([]);
          expect(ours.ports).toHaveLength(ports.length);
          for (const p of ours.ports) {
            const truth = expectedPort(lab.groundTruth, address, protocol, p.port, scan);
            expect(`${p.port} ${p.state} ${p.reason}`).toBe(`${p.port} ${truth?.state} ${truth?.reason}`);
          }
          const answered = ours.ports.filter((p) => p.reason === 'syn-ack' || p.reason === 'reset' || p.reason === 'udp-response' || p.reason === 'port-unreach');
          expect(answered.length).toBeGreaterThan(0);
          const ttls = new Set(answered.map((p) => p.ttl));
          // The lab's hosts answer with 64; only the native path can read an IPv6 reply's hop limit.
          expect([...ttls]).toEqual([family === 'ipv6' && path === 'raw-socket' ? undefined : 64]);
        });
      }
    }

    it(`${path}: discoverHosts finds t1 over both families and the sweep's live addresses`, async () => {
      const ours = await scanInLab(lab, 'discoverHosts', { targets: [lab.t1.ipv4[0], lab.t1.ipv6[0], ...lab.sweep.live], timing: 'T4', maxRetries: 1 }, { env: { PORTSCOUT_RAW_IO: path } });
      expect(ours.errors).toEqual([]);
      const up = new Set(ours.hosts.filter((h) => h.status === 'up').map((h) => h.address));
      expect(up.has(lab.t1.ipv4[0]) && up.has(lab.t1.ipv6[0])).toBe(true);
      for (const live of lab.sweep.live) expect(up.has(live), live).toBe(true);
      const t1v6 = ours.hosts.find((h) => h.address === lab.t1.ipv6[0]);
      expect(t1v6?.ttl).toBe(path === 'native' ? 64 : undefined);
    });
  }

  it('PORTSCOUT_RAW_IO with a value it does not know fails the scan with ERR_INVALID_OPTION', async () => {
    const ours = await scanInLab(lab, 'tcpSynScan', { targets: lab.t1.ipv4[0], ports: '22', skipDiscovery: true }, { env: { PORTSCOUT_RAW_IO: 'dpdk' } });
    expect(ours.errors.map((e) => e.code)).toEqual(['ERR_INVALID_OPTION']);
    expect(ours.errors[0]?.message).toMatch(/PORTSCOUT_RAW_IO/);
  });
});

/**
 * Target and port expansion compared exactly with nmap's own, on specs in
 * 198.18.0.0/15. nmap runs only as `-sL -n` (list scan, no DNS) or with no
 * targets at all, so nothing is sent.
 */
import { describe, expect, it } from 'vitest';
import { countTargets, loadNmapServices, parsePortSpec, planScan, topPorts } from '../../src/targets/index.js';
import { nmapListScan, nmapPorts, skipNmapOracle } from './support/nmap-oracle.js';

const NMAP_SERVICES = '/usr/share/nmap/nmap-services';

function sortedUniqueIpv4(addresses: readonly string[]): string[] {
  const value = (a: string): number => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return [...new Set(addresses)].sort((a, b) => value(a) - value(b));
}

async function ourAddresses(targets: readonly string[], exclude?: readonly string[]): Promise<string[]> {
  const plan = await planScan({ targets, exclude, ports: '80' });
  return [...plan.pairs()].map((pair) => pair.address);
}

const TARGET_CASES: { name: string; targets: string[]; exclude?: string[] }[] = [
  { name: 'single address', targets: ['198.18.0.1'] },
  { name: 'CIDR block', targets: ['198.18.0.0/28'] },
  { name: 'host address with a prefix means the whole block', targets: ['198.18.0.77/29'] },
  { name: '/32 and /31', targets: ['198.18.3.3/32', '198.18.4.9/31'] },
  { name: 'octet ranges in two octets', targets: ['198.18.0-2.1-3'] },
  { name: 'wildcard octet', targets: ['198.18.1.*'] },
  { name: 'wildcard in a middle octet', targets: ['198.18.*.1'] },
  { name: 'open-start range', targets: ['198.18.1.-5'] },
  { name: 'open-end range', targets: ['198.18.1.250-'] },
  { name: 'bare dash octet', targets: ['198.18.2.-'] },
  { name: 'comma list inside an octet', targets: ['198.18.0.1,3,5-7'] },
  { name: 'comma lists in several octets', targets: ['198.18-19.0,255.0-1,254'] },
  { name: 'a /23', targets: ['198.19.0.0/23'] },
  { name: 'overlapping specs are listed once', targets: ['198.18.0.0/30', '198.18.0.2-5', '198.18.0.3', '198.18.0.0/29'] },
  { name: 'mixed syntaxes', targets: ['198.19.255.250-255', '198.19.255.0/30', '198.18.7.7'] },
  { name: 'exclusion of a block and an octet range', targets: ['198.18.0.0/24'], exclude: ['198.18.0.0/26', '198.18.0.128-250'] },
  { name: 'exclusion of single addresses inside an octet range', targets: ['198.18.0-1.0-15'], exclude: ['198.18.0.3', '198.18.1.0/30'] },
];

describe.skipIf(skipNmapOracle('target expansion against nmap -sL', false))('target expansion matches nmap -sL -n', () => {
  for (const { name, targets, exclude } of TARGET_CASES) {
    it(`${name}: ${targets.join(' ')}${exclude ? ` --exclude ${exclude.join(',')}` : ''}`, async () => {
      const expected = sortedUniqueIpv4(nmapListScan(targets, exclude));
      expect(expected.length).toBeGreaterThan(0);
      const ours = await ourAddresses(targets, exclude);
      expect(ours).toEqual(expected);
      expect(countTargets(targets, { exclude })).toBe(BigInt(expected.length));
    });
  }
});

const PORT_CASES: string[] = [
  '22',
  '1-1024',
  '-',
  '-100',
  '65000-',
  '0,22,80',
  'T:22,80,U:53,161',
  'U:53,T:1-3,443',
  '21-25,80,110-111,U:1-10',
];

describe.skipIf(skipNmapOracle('port expansion against nmap -p', true))('port expansion matches nmap -p', () => {
  for (const spec of PORT_CASES) {
    it(spec, () => {
      const expected = nmapPorts(['-p', spec]);
      // nmap gives unprefixed ports to every requested scan type (here TCP and UDP).
      expect(parsePortSpec(spec, { defaultProtocol: 'both' })).toEqual({ tcp: expected.tcp, udp: expected.udp });
    });
  }
});

describe.skipIf(skipNmapOracle('top ports against nmap --top-ports', true))('top ports from the user nmap-services file match nmap --top-ports', () => {
  for (const n of [1, 10, 100, 1000]) {
    it(`--top-ports ${n}`, async () => {
      const services = await loadNmapServices(NMAP_SERVICES);
      const expected = nmapPorts(['--top-ports', String(n)]);
      const sorted = (ports: number[]): number[] => [...ports].sort((a, b) => a - b);
      expect(sorted(topPorts(n, 'tcp', services))).toEqual(expected.tcp);
      expect(sorted(topPorts(n, 'udp', services))).toEqual(expected.udp);
      expect(parsePortSpec(`T:top:${n},U:top:${n}`, { services })).toEqual(expected);
    });
  }

  it('resolves service names from the nmap table like nmap -p does', async () => {
    const services = await loadNmapServices(NMAP_SERVICES);
    for (const spec of ['T:ms-sql-s,snmp,U:snmp', 'ssh,http,https', 'T:http,U:domain']) {
      const expected = nmapPorts(['-p', spec]);
      expect(parsePortSpec(spec, { services, defaultProtocol: 'both' })).toEqual(expected);
    }
  });
});

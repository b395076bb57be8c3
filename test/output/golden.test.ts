/**
 * Golden tests of the three nmap formats on recorded event streams: a real
 * SYN scan with service detection of loopback servers
 * (fixtures/loopback-syn-sv.jsonl, recorded by fixtures/record-loopback.ts)
 * and hand-written lab-like streams (fixtures/hand-written.ts). The expected
 * outputs are in golden/; `UPDATE_GOLDEN=1 npx vitest run test/output/golden.test.ts`
 * rewrites them (read the diff before committing it).
 *
 * Every XML document is then checked by outside readers: xmllint against
 * nmap's DTD (the only complaint allowed is scanner="portscout"), Python's
 * xml.etree, python-libnmap, and the IPv4 lookup DefectDojo's parser makes.
 */
process.env.TZ = 'UTC';

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGrepableOutput, writeNmapXml, writeNormalOutput, type DetectionEvent } from '../../src/index.js';
import { parseXml, childrenNamed } from '../lab/xml.js';
import { labLikeSynScan, labLikeUdpScan } from './fixtures/hand-written.js';
import { GOLDEN_SERVICES } from './fixtures/services.js';
import { collector, fakeClock, has, hasLibnmap, HERE, missing, readFixture, readWithPython, SCANNER_COMPLAINT, streamOf, xmllintComplaints } from './support.js';

const GOLDEN = join(HERE, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

type Format = 'xml' | 'nmap' | 'gnmap';

interface Case {
  readonly name: string;
  readonly events: () => DetectionEvent[];
  readonly format: Format;
  readonly options?: Record<string, unknown>;
  /** Throw this after that many events (an aborted scan). */
  readonly abortAfter?: number;
}

const loopback = (): DetectionEvent[] => readFixture('loopback-syn-sv.jsonl');
const abortError = (): Error => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

const CASES: Case[] = [
  { name: 'loopback-syn-sv.xml', events: loopback, format: 'xml', options: { serviceDetection: true } },
  { name: 'loopback-syn-sv.nmap', events: loopback, format: 'nmap', options: { serviceDetection: true } },
  { name: 'loopback-syn-sv.terminal.nmap', events: loopback, format: 'nmap', options: { serviceDetection: true, reason: true, layout: 'terminal' } },
  { name: 'loopback-syn-sv.gnmap', events: loopback, format: 'gnmap', options: { serviceDetection: true } },
  { name: 'lab-syn-sv.xml', events: labLikeSynScan, format: 'xml', options: { serviceDetection: true, args: 'portscout -sS -sV -p 1-30,80,443,8081-8085 198.18.1.10-12 fd00:1::10' } },
  { name: 'lab-syn-sv.verbose.xml', events: labLikeSynScan, format: 'xml', options: { serviceDetection: true, verbose: 1, progress: true, stylesheet: 'https://svn.nmap.org/nmap/docs/nmap.xsl' } },
  { name: 'lab-syn-sv.ipv4.xml', events: labLikeSynScan, format: 'xml', options: { serviceDetection: true, family: 4 } },
  { name: 'lab-syn-sv.ipv6.xml', events: labLikeSynScan, format: 'xml', options: { serviceDetection: true, family: 6 } },
  { name: 'lab-syn-sv.nmap', events: labLikeSynScan, format: 'nmap', options: { serviceDetection: true } },
  { name: 'lab-syn-sv.verbose.nmap', events: labLikeSynScan, format: 'nmap', options: { serviceDetection: true, verbose: 1, reason: true } },
  { name: 'lab-syn-sv.gnmap', events: labLikeSynScan, format: 'gnmap', options: { serviceDetection: true } },
  { name: 'lab-syn-sv.verbose.gnmap', events: labLikeSynScan, format: 'gnmap', options: { serviceDetection: true, verbose: 1 } },
  { name: 'lab-udp-sv.xml', events: labLikeUdpScan, format: 'xml', options: { serviceDetection: true } },
  { name: 'lab-udp-sv.nmap', events: labLikeUdpScan, format: 'nmap', options: { serviceDetection: true, reason: true } },
  { name: 'lab-udp-sv.gnmap', events: labLikeUdpScan, format: 'gnmap', options: { serviceDetection: true } },
  { name: 'lab-udp.open.nmap', events: labLikeUdpScan, format: 'nmap', options: { serviceDetection: true, openOnly: true } },
  // Aborted during service detection, after 95 of the 102 events: 8 of the 14 services are in.
  { name: 'loopback-aborted.xml', events: loopback, format: 'xml', options: { serviceDetection: true }, abortAfter: 95 },
  { name: 'loopback-aborted.nmap', events: loopback, format: 'nmap', options: { serviceDetection: true }, abortAfter: 95 },
  { name: 'loopback-aborted.gnmap', events: loopback, format: 'gnmap', options: { serviceDetection: true }, abortAfter: 95 },
];

const WRITERS = { xml: writeNmapXml, nmap: writeNormalOutput, gnmap: writeGrepableOutput } as const;

async function render(c: Case): Promise<{ text: string; error?: unknown }> {
  const events = c.events();
  const out = collector();
  const stream = c.abortAfter === undefined ? streamOf(events) : streamOf(events, { throwAfter: c.abortAfter, error: abortError() });
  try {
    await WRITERS[c.format](stream, out.sink, { clock: fakeClock(events), serviceTable: GOLDEN_SERVICES, ...c.options } as never);
    return { text: out.text() };
  } catch (error) {
    return { text: out.text(), error };
  }
}

function golden(name: string, text: string): string {
  const path = join(GOLDEN, name);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, text);
  }
  return readFileSync(path, 'utf8');
}

describe('golden outputs', () => {
  for (const c of CASES) {
    it(`${c.name}`, async () => {
      const { text, error } = await render(c);
      if (c.abortAfter !== undefined) expect(error).toMatchObject({ name: 'AbortError' });
      else expect(error).toBeUndefined();
      expect(text).toBe(golden(c.name, text));
    });
  }

  it('the aborted documents are complete: both hosts with every port and the services gathered, exit="error"', async () => {
    const xml = (await render(CASES.find((c) => c.name === 'loopback-aborted.xml')!)).text;
    const root = parseXml(xml);
    const hosts = childrenNamed(root, 'host');
    expect(hosts).toHaveLength(2);
    const services = hosts.flatMap((h) => childrenNamed(childrenNamed(h, 'ports')[0]!, 'port')).filter((p) => childrenNamed(p, 'service')[0]?.attrs.method === 'probed');
    expect(services).toHaveLength(8);
    expect(root.children.at(-1)?.children[0]?.attrs).toMatchObject({ exit: 'error', errormsg: 'scan aborted' });
    expect(readFileSync(join(GOLDEN, 'loopback-aborted.nmap'), 'utf8')).toMatch(/\n# portscout stopped at .* \(scan aborted\) -- 2 IP addresses \(2 hosts up\) scanned in [\d.]+ seconds\n$/);
  });
});

describe('the golden XML documents, read by outside readers', () => {
  const xmlCases = CASES.filter((c) => c.format === 'xml');

  it.skipIf(missing('xmllint (libxml2-utils) and nmap.dtd (nmap)', has('xmllint') && has('nmap')))(
    'xmllint --dtdvalid nmap.dtd: the only complaint is scanner="portscout"; with scanner="nmap" they validate',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'portscout-xml-'));
      for (const c of xmlCases) {
        const file = join(GOLDEN, c.name);
        const lint = xmllintComplaints(file);
        expect(lint.complaints, c.name).toHaveLength(1);
        expect(lint.complaints[0], c.name).toMatch(SCANNER_COMPLAINT);
        const asNmap = join(dir, c.name);
        writeFileSync(asNmap, readFileSync(file, 'utf8').replace('scanner="portscout"', 'scanner="nmap"'));
        expect(xmllintComplaints(asNmap), c.name).toEqual({ status: 0, complaints: [], summary: [] });
      }
    },
  );

  it('xml.etree reads hosts, ports, services and CPEs', () => {
    const run = readWithPython<{ scanner: string; exit: string; hosts_up: number; hosts: { addresses: [string, string][]; status: string; hostnames: [string, string][]; extraports: [string, number][]; ports: { port: number; state: string; service: string | null; product: string | null; cpe: string[] }[] }[] }>(
      'etree',
      join(GOLDEN, 'lab-syn-sv.xml'),
    );
    expect(run).toMatchObject({ scanner: 'portscout', exit: 'success', hosts_up: 3 });
    const byAddress = new Map(run.hosts.map((h) => [h.addresses[0]![0], h]));
    // fd00:1::10 is written first: its services were all in before t1's last (443, through TLS).
    expect([...byAddress.keys()]).toEqual(['fd00:1::10', '198.18.1.10', '198.18.1.12']);
    const t1 = byAddress.get('198.18.1.10')!;
    expect(t1.addresses).toEqual([['198.18.1.10', 'ipv4']]);
    expect(t1.hostnames).toEqual([['t1.example', 'user'], ['t1.lab.test', 'PTR']]);
    expect(t1.extraports).toEqual([['closed', 31]]);
    expect(t1.ports.map((p) => `${p.port} ${p.state} ${p.service ?? '-'}`)).toEqual(['22 open ssh', '80 open http', '443 open http', '8081 filtered http-alt', '8082 filtered -', '8085 filtered -']);
    expect(t1.ports[0]).toMatchObject({ product: 'OpenSSH', cpe: ['cpe:/a:openbsd:openssh:9.2p1', 'cpe:/o:linux:linux_kernel'] });
    expect(byAddress.get('fd00:1::10')!.addresses).toEqual([['fd00:1::10', 'ipv6']]);
    expect(byAddress.get('198.18.1.12')!.ports).toEqual([]);
  });

  it.skipIf(missing('python-libnmap (python3-libnmap)', hasLibnmap()))('python-libnmap reads every document: hosts, states, services, the TLS tunnel', () => {
    for (const c of xmlCases) {
      const run = readWithPython<{ hosts: { address: string; status: string; services: { port: number; state: string; service: string; tunnel: string }[] }[] }>('libnmap', join(GOLDEN, c.name));
      expect(run.hosts.length, c.name).toBeGreaterThan(0);
    }
    const lab = readWithPython<{ version: string; commandline: string; scan_type: string; started: number; consistent: boolean; hosts_up: number; hosts_total: number; hosts: { address: string; ipv4: string; ipv6: string; status: string; hostnames: string[]; services: { port: number; protocol: string; state: string; service: string; banner: string; tunnel: string }[] }[] }>(
      'libnmap',
      join(GOLDEN, 'lab-syn-sv.xml'),
    );
    expect(lab).toMatchObject({ version: '0.1.0', commandline: 'portscout -sS -sV -p 1-30,80,443,8081-8085 198.18.1.10-12 fd00:1::10', scan_type: 'syn', started: 1_796_000_000, consistent: true, hosts_up: 3, hosts_total: 4 });
    const v6 = lab.hosts[0];
    const t1 = lab.hosts[1];
    expect(t1).toMatchObject({ address: '198.18.1.10', ipv4: '198.18.1.10', status: 'up', hostnames: ['t1.example', 't1.lab.test'] });
    expect(t1!.services.find((s) => s.port === 443)).toMatchObject({ state: 'open', service: 'http', tunnel: 'ssl', banner: 'product: nginx version: 1.22.1 hostname: www.example' });
    expect(t1!.services.find((s) => s.port === 22)).toMatchObject({ banner: 'product: OpenSSH version: 9.2p1 Debian 2+deb12u3 extrainfo: protocol 2.0 ostype: Linux' });
    expect(v6).toMatchObject({ address: 'fd00:1::10', ipv6: 'fd00:1::10', ipv4: '' });
    const udp = readWithPython<{ hosts: { services: { port: number; protocol: string; state: string }[] }[] }>('libnmap', join(GOLDEN, 'lab-udp-sv.xml'));
    expect(udp.hosts[0]!.services.map((s) => `${s.port}/${s.protocol} ${s.state}`)).toEqual(['1/udp closed', '9/udp closed', '53/udp open', '161/udp filtered', '7777/udp open', '9999/udp closed']);
  });

  it("IPv6-only hosts: a reader that looks up every host's IPv4 address (as DefectDojo's parser) fails on them, as on nmap's -6 output; family: 4 gives it a document it reads", () => {
    expect(readWithPython('ipv4-lookup', join(GOLDEN, 'lab-syn-sv.xml'))).toEqual({ result: 'AttributeError' });
    expect(readWithPython('ipv4-lookup', join(GOLDEN, 'lab-syn-sv.ipv4.xml'))).toEqual({ result: 'ok', addresses: ['198.18.1.10', '198.18.1.12'] });
    const v6 = readFileSync(join(GOLDEN, 'lab-syn-sv.ipv6.xml'), 'utf8');
    expect(v6).toContain('<address addr="fd00:1::10" addrtype="ipv6"/>');
    expect(v6).not.toContain('addrtype="ipv4"');
    expect(v6).toContain('<!-- portscout: 2 IPv4 hosts not written (family: 6) -->');
    expect(v6).toContain('<hosts up="1" down="0" total="1"/>');
  });
});

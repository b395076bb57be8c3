/**
 * The nmap XML reader and the port comparison, on nmap-shaped documents (no lab needed).
 */
import { describe, expect, it } from 'vitest';
import { comparePortStates, parseNmapXml, singularReason, type NmapHost } from './nmap.js';
import { decodeXmlEntities, parseXml } from './xml.js';
import { buildGroundTruth, declaredPorts, expectedPort, expectedResult } from './ground-truth.js';

const SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated as: nmap -oX - -n -sS -p 1-30 198.18.1.10 -->
<nmaprun scanner="nmap" args="nmap -oX - -n -sS -p 1-30 198.18.1.10" start="1" version="7.93" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="30" services="1-30"/>
<verbose level="0"/>
<debugging level="0"/>
<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="198.18.1.10" addrtype="ipv4"/>
<address addr="7A:14:99:8E:EC:A9" addrtype="mac"/>
<hostnames>
</hostnames>
</hosthint>
<host starttime="1" endtime="2"><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="198.18.1.10" addrtype="ipv4"/>
<address addr="7A:14:99:8E:EC:A9" addrtype="mac"/>
<hostnames>
</hostnames>
<ports><extraports state="closed" count="27">
<extrareasons reason="resets" count="27" proto="tcp" ports="1-21,23-28"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" method="table" conf="3"/></port>
<port protocol="tcp" portid="29"><state state="filtered" reason="admin-prohibited" reason_ttl="64"/><service name="msg-icp" method="table" conf="3"/></port>
<port protocol="tcp" portid="30"><state state="filtered" reason="no-response" reason_ttl="0"/></port>
</ports>
<times srtt="52" rttvar="3758" to="100000"/>
</host>
<runstats><finished time="2" timestr="x" summary="a &amp; b" elapsed="0.13" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
`;

describe('parseXml', () => {
  it('reads elements, attributes and entities, skipping prolog, comments and text', () => {
    const root = parseXml(`<?xml version="1.0"?><!-- c --><a x="1 &lt; 2" y='q'>text<b/><c z="&#65;&#x42;"></c></a>`);
    expect(root.name).toBe('a');
    expect(root.attrs).toEqual({ x: '1 < 2', y: 'q' });
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(root.children[1]?.attrs.z).toBe('AB');
  });

  it('rejects malformed documents', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/unexpected <\/a>/);
    expect(() => parseXml('<a>')).toThrow(/unclosed <a>/);
    expect(() => parseXml('<a x=1/>')).toThrow(/malformed tag/);
    expect(() => parseXml('no markup')).toThrow(/no element/);
  });

  it('decodes entity references', () => {
    expect(decodeXmlEntities('&amp;&quot;&apos;&gt;&unknown;')).toBe(`&"'>&unknown;`);
  });
});

describe('parseNmapXml', () => {
  it('turns nmap XML into hosts, ports and extraports', () => {
    const run = parseNmapXml(SAMPLE, ['-sS']);
    expect(run.args).toEqual(['-sS']);
    expect(run.elapsedSeconds).toBe(0.13);
    expect(run.hostCounts).toEqual({ up: 1, down: 0, total: 1 });
    expect(run.hosts).toHaveLength(1); // <hosthint> is not a host
    const host = run.hosts[0]!;
    expect(host).toMatchObject({ address: '198.18.1.10', addrtype: 'ipv4', mac: '7A:14:99:8E:EC:A9', status: 'up', reason: 'arp-response', reasonTtl: 0 });
    expect(host.ports).toEqual([
      { protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', reasonTtl: 64, service: 'ssh' },
      { protocol: 'tcp', port: 29, state: 'filtered', reason: 'admin-prohibited', reasonTtl: 64, service: 'msg-icp' },
      { protocol: 'tcp', port: 30, state: 'filtered', reason: 'no-response', reasonTtl: 0 },
    ]);
    expect(host.extraPorts).toEqual([{ state: 'closed', count: 27, reasons: [{ reason: 'reset', count: 27, protocol: 'tcp' }] }]);
  });

  it('rejects documents that are not nmap runs', () => {
    expect(() => parseNmapXml('<html></html>')).toThrow(/not nmap XML/);
  });

  it('singularises the plural reasons of <extrareasons> like nmap\'s reason table', () => {
    expect(['resets', 'no-responses', 'port-unreaches', 'host-unreaches', 'echo-replies', 'admin-prohibiteds', 'conn-refused', 'syn-acks'].map(singularReason)).toEqual([
      'reset', 'no-response', 'port-unreach', 'host-unreach', 'echo-reply', 'admin-prohibited', 'conn-refused', 'syn-ack',
    ]);
  });
});

describe('comparePortStates', () => {
  const host: NmapHost = parseNmapXml(SAMPLE).hosts[0]!;
  const scanned = { tcp: Array.from({ length: 30 }, (_, i) => i + 1) };
  const truth = scanned.tcp.map((port) => {
    if (port === 22) return { protocol: 'tcp' as const, port, state: 'open', reason: 'syn-ack' };
    if (port === 29) return { protocol: 'tcp' as const, port, state: 'filtered', reason: 'admin-prohibited' };
    if (port === 30) return { protocol: 'tcp' as const, port, state: 'filtered', reason: 'no-response' };
    return { protocol: 'tcp' as const, port, state: 'closed', reason: 'reset' };
  });

  it('accepts identical results, with or without reasons', () => {
    expect(comparePortStates(host, truth, scanned)).toEqual([]);
    expect(comparePortStates(host, truth.map(({ reason: _r, ...p }) => p), scanned)).toEqual([]);
  });

  it('reports listed ports with another state or reason', () => {
    const changed = truth.map((p) => (p.port === 29 ? { ...p, reason: 'host-unreach' } : p.port === 22 ? { ...p, state: 'closed', reason: 'reset' } : p));
    expect(comparePortStates(host, changed, scanned)).toEqual([
      '198.18.1.10 tcp/22: state closed (reset), nmap says open (syn-ack)',
      '198.18.1.10 tcp/29: filtered with reason host-unreach, nmap\'s reason is admin-prohibited',
    ]);
    expect(comparePortStates(host, changed.filter((p) => p.port !== 22), scanned, { reasons: false })).toEqual([
      '198.18.1.10 tcp/22: missing from our results; nmap says open (syn-ack)',
    ]);
  });

  it('reports folded ports whose state or count differs', () => {
    const oneOpen = truth.map((p) => (p.port === 5 ? { ...p, state: 'open', reason: 'syn-ack' } : p));
    const diffs = comparePortStates(host, oneOpen, scanned);
    expect(diffs).toContain('198.18.1.10 tcp/5: state open (syn-ack), but nmap did not list it and has no "open" extraports (27 closed [27 reset])');
    expect(diffs).toContain('198.18.1.10 extraports closed: nmap 27 ports, ours 26');
    expect(comparePortStates(host, truth, { tcp: [...scanned.tcp, 31] })).toEqual(['198.18.1.10 tcp/31: missing from our results; nmap folded it into 27 closed [27 reset]']);
    expect(comparePortStates(host, [...truth, truth[0]!], scanned)).toEqual(['198.18.1.10 tcp/1: reported more than once by us']);
  });
});

describe('ground truth', () => {
  const gt = buildGroundTruth({ loss: 0.1 });

  it('declares every firewall rule of t1 with nmap\'s words for each scan type', () => {
    expect(declaredPorts(gt, '198.18.1.10', 'tcp')).toEqual([1, 22, 23, 53, 80, 443, 2121, 2525, 8081, 8082, 8083, 8084, 8085]);
    expect(declaredPorts(gt, 'fd00:1::10', 'udp')).toEqual([1, 9, 53, 161, 162, 7777]);
    expect(expectedPort(gt, '198.18.1.10', 'tcp', 8082, 'connect')).toMatchObject({ state: 'filtered', reason: 'host-unreach' });
    expect(expectedPort(gt, 'fd00:1::10', 'tcp', 8082, 'connect')).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
    expect(expectedPort(gt, '198.18.1.10', 'tcp', 8081, 'fin')).toMatchObject({ state: 'open|filtered', reason: 'no-response' });
    expect(expectedPort(gt, '198.18.1.10', 'tcp', 4444, 'ack')).toMatchObject({ state: 'unfiltered', reason: 'reset', nmapReliable: true });
    expect(expectedPort(gt, '198.18.2.10', 'udp', 4444, 'udp')).toMatchObject({ state: 'closed', nmapReliable: false });
    expect(expectedPort(gt, '198.18.2.10', 'tcp', 22, 'syn')).toMatchObject({ state: 'open', nmapReliable: false });
    expect(buildGroundTruth({ loss: 0 }).ports.find((p) => p.address === '198.18.2.10' && p.port === 22)?.expected.syn?.nmapReliable).toBe(true);
    expect(expectedResult('reject-tcp-reset', 'tcp', 'udp', 'ipv4')).toBeUndefined();
    expect(gt.sweep.live).toEqual(['198.18.1.10', '198.18.1.11', '198.18.1.12', '198.18.1.13', '198.18.1.14']);
  });
});

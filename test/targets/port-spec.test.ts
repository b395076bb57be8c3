/**
 * Port specifications, the built-in services table and nmap-services files.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortscoutError } from '../../src/errors.js';
import {
  builtinServices,
  formatPortSet,
  loadNmapServices,
  normalizePortSet,
  parseNmapServices,
  parsePortSpec,
  serviceName,
  topPorts,
  type ServiceTable,
} from '../../src/targets/index.js';

function expectPortsError(text: string, fragment: string, services?: ServiceTable): void {
  try {
    parsePortSpec(text, { services });
  } catch (error) {
    expect(error).toBeInstanceOf(PortscoutError);
    expect((error as PortscoutError).code).toBe('ERR_INVALID_PORTS');
    expect((error as Error).message).toContain(JSON.stringify(text));
    expect((error as Error).message).toContain(fragment);
    expect((error as Error).message).toContain('Allowed:');
    return;
  }
  throw new Error(`${JSON.stringify(text)} was accepted`);
}

const range = (low: number, high: number): number[] => Array.from({ length: high - low + 1 }, (_, i) => low + i);

describe('parsePortSpec', () => {
  it('reads single ports, ranges, open ranges and the whole range', () => {
    expect(parsePortSpec('22')).toEqual({ tcp: [22], udp: [] });
    expect(parsePortSpec('80,22,22,1-3')).toEqual({ tcp: [1, 2, 3, 22, 80], udp: [] });
    expect(parsePortSpec('-5')).toEqual({ tcp: range(1, 5), udp: [] });
    expect(parsePortSpec('65530-')).toEqual({ tcp: range(65530, 65535), udp: [] });
    expect(parsePortSpec('-').tcp).toEqual(range(1, 65535));
    expect(parsePortSpec(' 22 , 80 ')).toEqual({ tcp: [22, 80], udp: [] });
  });

  it('allows port 0 only when written explicitly', () => {
    expect(parsePortSpec('0')).toEqual({ tcp: [0], udp: [] });
    expect(parsePortSpec('0-2')).toEqual({ tcp: [0, 1, 2], udp: [] });
    expect(parsePortSpec('-').tcp[0]).toBe(1);
    expect(parsePortSpec('-2').tcp).toEqual([1, 2]);
  });

  it('applies T: and U: prefixes to the items after them', () => {
    expect(parsePortSpec('T:22,80,U:53,161,T:443')).toEqual({ tcp: [22, 80, 443], udp: [53, 161] });
    expect(parsePortSpec('u:53,t:22')).toEqual({ tcp: [22], udp: [53] });
    expect(parsePortSpec('53,123', { defaultProtocol: 'udp' })).toEqual({ tcp: [], udp: [53, 123] });
    expect(parsePortSpec('53,T:22', { defaultProtocol: 'both' })).toEqual({ tcp: [22, 53], udp: [53] });
  });

  it('resolves service names per protocol from the table', () => {
    expect(parsePortSpec('ssh,https')).toEqual({ tcp: [22, 443], udp: [] });
    expect(parsePortSpec('U:domain,ntp')).toEqual({ tcp: [], udp: [53, 123] });
    expect(parsePortSpec('HTTP-ALT')).toEqual({ tcp: [8000, 8008, 8081, 8888], udp: [] });
    expect(parsePortSpec('domain', { defaultProtocol: 'both' })).toEqual({ tcp: [53], udp: [53] });
  });

  it('selects the most common ports with top and top:N', () => {
    expect(parsePortSpec('top:3')).toEqual({ tcp: [22, 80, 443], udp: [] });
    expect(parsePortSpec('U:top:2')).toEqual({ tcp: [], udp: [53, 137] });
    expect(parsePortSpec('T:top').tcp).toHaveLength(builtinServices.entries('tcp').length);
    expect(parsePortSpec('top:0')).toEqual({ tcp: [], udp: [] });
  });

  it('rejects invalid specifications with the text and the allowed syntax', () => {
    expectPortsError('1-70000', 'port 70000 is out of range 0-65535');
    expectPortsError('65536', 'out of range');
    expectPortsError('80-22', 'ends before it starts');
    expectPortsError('T:', 'T: is not followed by a port');
    expectPortsError('22,U:', 'U: is not followed by a port');
    expectPortsError('', 'the list is empty');
    expectPortsError('   ', 'the list is empty');
    expectPortsError('22,,80', 'empty');
    expectPortsError('S:80', 'only T: (TCP) and U: (UDP)');
    expectPortsError('no-such-service', 'service name');
    expectPortsError('U:ssh', 'udp service name');
    expectPortsError('22;80', 'not a port');
    expectPortsError('1-2-3', 'not a port');
  });
});

describe('port sets', () => {
  it('normalizePortSet sorts, deduplicates and checks ranges', () => {
    expect(normalizePortSet({ tcp: [443, 80, 80], udp: [53] })).toEqual({ tcp: [80, 443], udp: [53] });
    expect(() => normalizePortSet({ tcp: [70000], udp: [] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PORTS' }));
    expect(() => normalizePortSet({ tcp: [1.5], udp: [] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PORTS' }));
  });

  it('formatPortSet writes nmap syntax that parses back to the same set', () => {
    const set = parsePortSpec('T:1-3,5,7-9,100,U:53,67-69');
    expect(formatPortSet(set)).toBe('T:1-3,5,7-9,100,U:53,67-69');
    expect(parsePortSpec(formatPortSet(set))).toEqual(set);
  });
});

describe('built-in services table', () => {
  it('holds a hand-ranked table of the expected size, unique per port', () => {
    const tcp = builtinServices.entries('tcp');
    const udp = builtinServices.entries('udp');
    expect(tcp.length).toBeGreaterThanOrEqual(100);
    expect(tcp.length).toBeLessThanOrEqual(150);
    expect(udp.length).toBeGreaterThanOrEqual(40);
    expect(udp.length).toBeLessThanOrEqual(60);
    expect(new Set(tcp.map((e) => e.port)).size).toBe(tcp.length);
    expect(new Set(udp.map((e) => e.port)).size).toBe(udp.length);
  });

  it('covers the seed list of 20 common TCP ports with their names', () => {
    const seed: [number, string][] = [
      [21, 'ftp'], [22, 'ssh'], [23, 'telnet'], [25, 'smtp'], [53, 'domain'], [80, 'http'], [110, 'pop3'],
      [111, 'rpcbind'], [135, 'msrpc'], [139, 'netbios-ssn'], [143, 'imap'], [443, 'https'], [445, 'microsoft-ds'],
      [993, 'imaps'], [995, 'pop3s'], [1723, 'pptp'], [3306, 'mysql'], [3389, 'ms-wbt-server'], [5900, 'vnc'], [8080, 'http-proxy'],
    ];
    for (const [port, name] of seed) expect(serviceName(port, 'tcp')).toBe(name);
    expect(new Set(topPorts(20, 'tcp'))).toEqual(new Set(seed.map(([port]) => port)));
  });

  it('answers names and top lists', () => {
    expect(serviceName(53, 'udp')).toBe('domain');
    expect(serviceName(40000, 'tcp')).toBeUndefined();
    expect(topPorts(3, 'tcp')).toEqual([80, 443, 22]);
    expect(topPorts(1000, 'udp')).toHaveLength(builtinServices.entries('udp').length);
    expect(() => topPorts(-1, 'tcp')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PORTS' }));
  });
});

describe('nmap-services files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portscout-services-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ranks a hand-written file by its frequencies', async () => {
    const path = join(dir, 'nmap-services');
    await writeFile(
      path,
      [
        '# a tiny services file in nmap format',
        'alpha\t1000/tcp\t0.002000\t# comment',
        'beta\t2000/tcp\t0.300000',
        'gamma\t3000/tcp\t0.010000',
        'beta\t2000/udp\t0.050000',
        'delta\t4000/udp\t0.060000',
        'sctpsvc\t5000/sctp\t0.900000',
        'tied\t1500/tcp\t0.010000',
        '',
      ].join('\n'),
    );
    const services = await loadNmapServices(path);
    expect(topPorts(2, 'tcp', services)).toEqual([2000, 1500]);
    expect(topPorts(10, 'tcp', services)).toEqual([2000, 1500, 3000, 1000]);
    expect(topPorts(10, 'udp', services)).toEqual([4000, 2000]);
    expect(serviceName(3000, 'tcp', services)).toBe('gamma');
    expect(serviceName(5000, 'tcp', services)).toBeUndefined();
    expect(parsePortSpec('beta', { services, defaultProtocol: 'both' })).toEqual({ tcp: [2000], udp: [2000] });
    expect(parsePortSpec('T:top:1,U:top:1', { services })).toEqual({ tcp: [2000], udp: [4000] });
    expectPortsError('ssh', 'service name', services);
  });

  it('rejects malformed lines and missing files with ERR_INVALID_SERVICES', async () => {
    expect(() => parseNmapServices('ok 1/tcp 0.1\nbroken line here\n')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_SERVICES', message: expect.stringContaining('line 2') }));
    await expect(loadNmapServices(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ERR_INVALID_SERVICES' });
  });
});

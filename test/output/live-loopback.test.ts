/**
 * Live scans of servers this test starts on loopback (127.0.0.1 and ::1
 * only), through every formatter: results are written while the scan runs,
 * the XML passes xmllint with nmap's DTD (but for scanner="portscout"),
 * an aborted scan still gives a complete document, and, with nmap
 * installed, nmap's own connect scan of the same ports gives the same
 * results: ndiff finds no difference, and the normal and grepable host
 * lines are nmap's but for the latency figure. No root needed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtinServices,
  createGrepableFormatter,
  createNmapXmlFormatter,
  createNormalFormatter,
  detectServices,
  loadNmapServices,
  tcpConnectScan,
  writeNmapXml,
  writeReports,
  type DetectionEvent,
  type ServiceTable,
} from '../../src/index.js';
import { childrenNamed, parseXml } from '../lab/xml.js';
import { collector, has, missing, readWithPython, SCANNER_COMPLAINT, xmllintComplaints } from './support.js';

/** Ports below Linux's ephemeral range, so no client connection of this machine lands in them between two scans. */
const BASES = [29400, 29500, 29600, 29700, 29800];
const SPAN = 41;
const NMAP_SERVICES = '/usr/share/nmap/nmap-services';

describe('formatters on live loopback scans', () => {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let base = 0;
  let ports = '';
  let open: number[] = [];
  let services: ServiceTable = builtinServices;
  const dir = mkdtempSync(join(tmpdir(), 'portscout-live-'));

  const listenAll = async (candidate: number): Promise<boolean> => {
    const started: Server[] = [];
    const make = (banner: string | undefined): Server =>
      createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        if (banner !== undefined) socket.write(banner);
      });
    try {
      for (const [offset, banner] of [[3, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'], [10, '220 (vsFTPd 3.0.3)\r\n'], [33, undefined]] as const) {
        for (const host of ['127.0.0.1', '::1']) {
          const server = make(banner);
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(candidate + offset, host, () => resolve());
          });
          started.push(server);
        }
      }
      servers.push(...started);
      return true;
    } catch {
      await Promise.all(started.map((s) => new Promise((r) => s.close(r))));
      return false;
    }
  };

  beforeAll(async () => {
    for (const candidate of BASES) {
      if (await listenAll(candidate)) {
        base = candidate;
        break;
      }
    }
    expect(base, 'a free block of loopback ports').toBeGreaterThan(0);
    ports = `${base}-${base + SPAN - 1}`;
    open = [base + 3, base + 10, base + 33];
    if (existsSync(NMAP_SERVICES)) services = await loadNmapServices(NMAP_SERVICES);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  const scanOptions = (): Parameters<typeof tcpConnectScan>[0] => ({ targets: ['127.0.0.1', '::1'], ports, skipDiscovery: true, maxInFlight: 1 });

  it('writes each host while the scan runs, in all three formats, and the XML is valid (but for scanner="portscout") and read by xml.etree', async () => {
    const [xml, normal, grep] = [collector(), collector(), collector()];
    let writtenBeforeDone = -1;
    async function* watched(): AsyncGenerator<DetectionEvent> {
      for await (const event of tcpConnectScan(scanOptions())) {
        if (event.type === 'done') writtenBeforeDone = (xml.text().match(/<host /g) ?? []).length;
        yield event;
      }
    }
    const summary = await writeReports(
      watched(),
      [
        { formatter: createNmapXmlFormatter(), sink: xml.sink },
        { formatter: createNormalFormatter({ reason: true }), sink: normal.sink },
        { formatter: createGrepableFormatter(), sink: grep.sink },
      ],
      { serviceTable: services },
    );
    expect(summary).toMatchObject({ exit: 'success', hosts: { up: 2, down: 0, total: 2 } });
    // One port at a time (maxInFlight 1), in plan order: the first host is complete, and written, before the scan's end.
    expect(writtenBeforeDone).toBeGreaterThanOrEqual(1);
    expect(normal.text()).toContain(`Not shown: ${SPAN - 3} closed tcp ports (conn-refused)`);
    expect(grep.text()).toContain(`\tIgnored State: closed (${SPAN - 3})`);
    const file = join(dir, 'live.xml');
    writeFileSync(file, xml.text());
    if (has('xmllint') && existsSync('/usr/share/nmap/nmap.dtd')) {
      const lint = xmllintComplaints(file);
      expect(lint.complaints).toHaveLength(1);
      expect(lint.complaints[0]).toMatch(SCANNER_COMPLAINT);
    }
    const run = readWithPython<{ hosts: { addresses: [string, string][]; extraports: [string, number][]; ports: { port: number; state: string }[] }[] }>('etree', file);
    expect(run.hosts.map((h) => h.addresses[0]![1]).sort()).toEqual(['ipv4', 'ipv6']);
    for (const host of run.hosts) {
      expect(host.ports.map((p) => `${p.port} ${p.state}`)).toEqual(open.map((p) => `${p} open`));
      expect(host.extraports).toEqual([['closed', SPAN - 3]]);
    }
  });

  it.skipIf(missing('nmap and ndiff', has('nmap') && has('ndiff')))(
    "agrees with nmap's own connect scan of the same ports: ndiff finds no difference, and the host lines of -oN and -oG are nmap's",
    async () => {
      const [xml, normal, grep] = [collector(), collector(), collector()];
      await writeReports(
        tcpConnectScan({ ...scanOptions(), targets: '127.0.0.1' }),
        [
          { formatter: createNmapXmlFormatter(), sink: xml.sink },
          { formatter: createNormalFormatter({ reason: true }), sink: normal.sink },
          { formatter: createGrepableFormatter(), sink: grep.sink },
        ],
        { serviceTable: services },
      );
      const nmap = spawnSync('nmap', ['-sT', '-Pn', '-n', '--reason', '-p', ports, '-oX', join(dir, 'nmap.xml'), '-oN', join(dir, 'nmap.nmap'), '-oG', join(dir, 'nmap.gnmap'), '127.0.0.1'], { encoding: 'utf8', timeout: 60_000 });
      expect(nmap.status, nmap.stderr).toBe(0);
      writeFileSync(join(dir, 'ours.xml'), xml.text());
      const diff = spawnSync('ndiff', [join(dir, 'nmap.xml'), join(dir, 'ours.xml')], { encoding: 'utf8' });
      // Only the banner lines (who scanned, when) differ.
      expect(diff.stdout.split('\n').filter((l) => l !== '' && !/^-Nmap 7\.\d+ scan initiated/.test(l) && !/^\+portscout \S+ scan initiated/.test(l))).toEqual([]);
      expect(diff.status, diff.stdout).toBe(0);
      // Normal output: the host's lines, the latency figure aside.
      const hostLines = (text: string): string[] =>
        text
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .map((l) => l.replace(/ \([\d.]+s latency\)/, ' (Xs latency)'));
      expect(hostLines(normal.text())).toEqual(hostLines(readFileSync(join(dir, 'nmap.nmap'), 'utf8')));
      const grepLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('Host: '));
      expect(grepLines(grep.text())).toEqual(grepLines(readFileSync(join(dir, 'nmap.gnmap'), 'utf8')));
    },
  );

  it('with service detection: services, versions and CPEs in the XML', async () => {
    const xml = collector();
    await writeNmapXml(detectServices({ from: tcpConnectScan({ ...scanOptions(), targets: '127.0.0.1', maxInFlight: 64 }) }), xml.sink, { serviceDetection: true, serviceTable: services });
    const host = childrenNamed(parseXml(xml.text()), 'host')[0]!;
    const byPort = new Map(childrenNamed(childrenNamed(host, 'ports')[0]!, 'port').map((p) => [Number(p.attrs.portid), childrenNamed(p, 'service')[0]]));
    expect(byPort.get(base + 3)?.attrs).toMatchObject({ name: 'ssh', product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u3', method: 'probed', conf: '10' });
    expect(childrenNamed(byPort.get(base + 3)!, 'cpe').length).toBeGreaterThan(0);
    expect(byPort.get(base + 10)?.attrs).toMatchObject({ name: 'ftp', product: 'vsftpd', version: '3.0.3' });
  }, 60_000);

  it('an aborted scan still ends in a complete document (exit="error"), and the promise rejects with the abort', async () => {
    const controller = new AbortController();
    const xml = collector();
    let reported = 0;
    async function* abortSoon(): AsyncGenerator<DetectionEvent> {
      for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: `${base}-${base + 2000}`, skipDiscovery: true, rate: 400, signal: controller.signal })) {
        if (event.type === 'port' && ++reported === 50) controller.abort();
        yield event;
      }
    }
    const error = await writeNmapXml(abortSoon(), xml.sink, { serviceTable: services }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    const root = parseXml(xml.text());
    const host = childrenNamed(root, 'host')[0]!;
    const ports = childrenNamed(host, 'ports')[0]!;
    const listed = childrenNamed(ports, 'port').length;
    const folded = childrenNamed(ports, 'extraports').reduce((n, e) => n + Number(e.attrs.count), 0);
    expect(listed + folded).toBeGreaterThanOrEqual(50);
    expect(childrenNamed(childrenNamed(root, 'runstats')[0]!, 'finished')[0]?.attrs).toMatchObject({ exit: 'error', errormsg: 'scan aborted' });
    const file = join(dir, 'aborted.xml');
    writeFileSync(file, xml.text());
    if (has('xmllint') && existsSync('/usr/share/nmap/nmap.dtd')) {
      expect(xmllintComplaints(file).complaints).toEqual([expect.stringMatching(SCANNER_COMPLAINT)]);
    }
  }, 60_000);
});

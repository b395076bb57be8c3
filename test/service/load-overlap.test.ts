/**
 * Probing while a probe file loads: loadServiceProbes knows the probes
 * before their patterns are translated, and detectServices given the load
 * itself probes meanwhile and answers as with the loaded database.
 * Loopback servers only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectServices } from '../../src/service/detect-services.js';
import { loadServiceProbes, parseServiceProbes, probesKnownOf } from '../../src/service/probe-file.js';
import type { ServiceEvent } from '../../src/service/service-event.js';

// Enough rules that translation takes several slices; the banner's rule comes last.
const FILE = [
  'Probe TCP NULL q||',
  'totalwaitms 600',
  ...Array.from({ length: 3000 }, (_, i) => `match filler${i} m|^filler ${i} (\\w+) [\\d.]+\\r\\n|i p/Filler/ v/$1/`),
  'match bad m|(?<=x|',
  'match ftp m|^220 Example FTP ([\\d.]+)\\r\\n| p/Example FTP/ v/$1/',
  'Probe TCP Hello q|HELLO\\r\\n|',
  'totalwaitms 600',
  'match hello m|^hi ([\\d.]+)\\r\\n| p/Hello/ v/$1/',
  'fallback Missing',
].join('\n');

describe('loading while probing', () => {
  let dir: string;
  let path: string;
  const servers: Server[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portscout-overlap-'));
    path = join(dir, 'probes');
    writeFileSync(path, FILE, 'latin1');
    // A banner service, and one that answers Hello only.
    const handlers = [
      (socket: import('node:net').Socket) => socket.write('220 Example FTP 1.5\r\n'),
      (socket: import('node:net').Socket) => socket.on('data', (d) => d.toString('latin1').startsWith('HELLO') && socket.write('hi 2.1\r\n')),
    ];
    for (const handler of handlers) {
      const server = createServer((socket) => {
        socket.on('error', () => {});
        handler(socket);
      });
      servers.push(server);
      ports.push(await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))));
    }
  });
  afterAll(() => {
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('knows the probes before the patterns are translated, and ends as parseServiceProbes does', async () => {
    const load = loadServiceProbes(path);
    const early = probesKnownOf(load);
    expect(early).toBeDefined();
    let loaded = false;
    void load.then(() => (loaded = true));
    const database = await early!;
    expect(loaded).toBe(false);
    expect(database.probes.map((p) => p.name)).toEqual(['NULL', 'Hello']);
    expect(database.probes[0]!.totalWaitMs).toBe(600);
    const result = await load;
    expect(result.database).toBe(database); // the same object, its rules filled in
    expect(result).toEqual(parseServiceProbes(FILE, { source: path }));
    expect(result.diagnostics.map((d) => d.line)).toEqual([3003, 3005]); // the bad pattern (translation), then the fallback check (at its probe)
    expect(probesKnownOf(Promise.resolve(result))).toBeUndefined();
  });

  it('detectServices given the load answers as with the loaded database', async () => {
    const run = async (probes: Parameters<typeof detectServices>[0]['probes']): Promise<Partial<ServiceEvent>[]> => {
      const out: Partial<ServiceEvent>[] = [];
      for await (const event of detectServices({ targets: '127.0.0.1', ports: ports.join(','), skipDiscovery: true, probes })) {
        if (event.type === 'service') out.push({ port: event.port, name: event.name, product: event.product, version: event.version, probe: event.probe, rule: event.rule });
      }
      return out.sort((a, b) => (a.port as number) - (b.port as number));
    };
    const whileLoading = await run(loadServiceProbes(path));
    const loaded = await run((await loadServiceProbes(path)).database);
    expect(whileLoading).toEqual(loaded);
    expect(loaded.map((e) => [e.name, e.product, e.version]).sort()).toEqual([
      ['ftp', 'Example FTP', '1.5'],
      ['hello', 'Hello', '2.1'],
    ]);
  });

  it('a load that fails ends detection with its error', async () => {
    const stream = detectServices({ targets: '127.0.0.1', ports: String(ports[0]), skipDiscovery: true, probes: loadServiceProbes(join(dir, 'missing')) });
    await expect((async () => {
      for await (const _ of stream) void _;
    })()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

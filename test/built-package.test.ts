/**
 * The package as tsup builds it (the package's own entries, ESM and CJS).
 *
 * - `instanceof PortscoutError` across entry points and module formats: tsup
 *   bundles a copy of the error classes into each entry of each build; the
 *   brand makes an error of any copy an instance of every copy's class.
 * - The connect worker program, which runs from its own source text, works
 *   from both bundles as it does from src/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');

describe('the built package', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-brand-'));
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'brand', private: true, type: 'module' }));
    // The bundles import their dependencies (ip-address, raw-socket) from the repository's.
    await symlink(join(repo, 'node_modules'), join(root, 'node_modules'));
    const { build } = await import('tsup');
    await build({
      config: false,
      entry: { index: join(repo, 'src/index.ts'), wire: join(repo, 'src/wire/index.ts') },
      outDir: join(root, 'dist'),
      format: ['esm', 'cjs'],
      target: 'node20',
      platform: 'node',
      noExternal: ['p-limit', 'yocto-queue'],
      external: ['raw-socket', 'ip-address'],
      dts: false,
      silent: true,
    });
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('an error from any entry and format is an instance of every copy of PortscoutError, and WireError of every WireError', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const copies = {
        'esm index': await import('./dist/index.js'),
        'esm wire': await import('./dist/wire.js'),
        'cjs index': require('./dist/index.cjs'),
        'cjs wire': require('./dist/wire.cjs'),
      };
      const thrown = (f) => { try { f(); } catch (e) { return e; } throw new Error('did not throw'); };
      const errors = {};
      for (const [name, m] of Object.entries(copies)) {
        errors[name] = name.endsWith('index')
          ? thrown(() => m.parsePortSpec('1-70000'))
          : thrown(() => m.buildUdpDatagram({ sourcePort: 70000, destinationPort: 1, payload: new Uint8Array(0) }, { source: '127.0.0.1', destination: '127.0.0.1' }));
      }
      const out = [];
      for (const [from, error] of Object.entries(errors)) {
        for (const [of, m] of Object.entries(copies)) {
          if (m.PortscoutError) out.push([from, 'PortscoutError of ' + of, error instanceof m.PortscoutError]);
          if (m.WireError) out.push([from, 'WireError of ' + of, error instanceof m.WireError]);
        }
      }
      out.push(['plain Error', 'PortscoutError', new Error('x') instanceof copies['esm index'].PortscoutError]);
      console.log(JSON.stringify(out));
    `;
    await writeFile(join(root, 'check.mjs'), script);
    const rows = JSON.parse(execFileSync(process.execPath, ['check.mjs'], { cwd: root, encoding: 'utf8' })) as [string, string, boolean][];
    for (const [from, of, result] of rows) {
      const expected = from === 'plain Error' ? false : of.startsWith('PortscoutError') ? true : from.endsWith('wire');
      expect(result, `${from} instanceof ${of}`).toBe(expected);
    }
    expect(rows.filter(([, of]) => of.startsWith('PortscoutError')).length).toBe(4 * 2 + 1);
  }, 60_000);

  it('runs connect scans on worker threads from both builds (the worker program runs from its own text)', async () => {
    const script = `
      import { createServer } from 'node:net';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const server = createServer((s) => s.destroy());
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const open = server.address().port;
      const out = {};
      for (const [name, m] of [['esm', await import('./dist/index.js')], ['cjs', require('./dist/index.cjs')]]) {
        const states = {};
        for await (const e of m.tcpConnectScan({ targets: '127.0.0.1', ports: open + ',' + (open === 65535 ? 1 : open + 1), skipDiscovery: true, workers: 2 })) {
          if (e.type === 'port') states[e.port === open ? 'listening' : 'other'] = e.state + '/' + e.reason;
        }
        out[name] = states;
      }
      server.close();
      console.log(JSON.stringify(out));
    `;
    await writeFile(join(root, 'connect.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['connect.mjs'], { cwd: root, encoding: 'utf8', timeout: 30_000 })) as Record<string, Record<string, string>>;
    // The port after the listener's is almost surely free; if something listens there, it is open (not a failure of the worker).
    for (const format of ['esm', 'cjs']) {
      expect(out[format]?.listening, format).toBe('open/syn-ack');
      expect(['closed/conn-refused', 'open/syn-ack'], format).toContain(out[format]?.other);
    }
  }, 60_000);
});

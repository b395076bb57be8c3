import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isRawSocketAvailable, loadRawSocket } from '../../src/transport/raw-socket-loader.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(repo, 'node_modules/.bin/tsx');

describe('loadRawSocket (addon installed)', () => {
  it('loads the addon with the constants portscout uses', () => {
    const raw = loadRawSocket();
    expect(typeof raw.createSocket).toBe('function');
    expect(raw.Protocol).toMatchObject({ ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58 });
    expect(raw.AddressFamily).toMatchObject({ IPv4: 1, IPv6: 2 });
    expect(raw.SocketLevel).toMatchObject({ SOL_SOCKET: 1, IPPROTO_IP: 0, IPPROTO_IPV6: 41 });
    expect(raw.SocketOption.IP_HDRINCL).toBe(3); // Linux value
    expect(raw.SocketOption.IP_TTL).toBe(2);
    expect(raw.htons(0x1234)).toBe(0x3412);
    expect(loadRawSocket()).toBe(raw);
    expect(isRawSocketAvailable()).toBe(true);
  });
});

/**
 * The failure paths, for real: the loader is copied into a directory where
 * `raw-socket` is missing, or present without its native build (what a failed
 * `node-gyp` leaves), or present and working, and imported by a child process,
 * once as an ES module and once as CommonJS (the two builds tsup makes).
 */
describe('loadRawSocket in a fresh install', () => {
  let root: string;
  const CHECK = `
import { isRawSocketAvailable, loadRawSocket } from './src/transport/raw-socket-loader.js';
const available = isRawSocketAvailable();
let result;
try {
  const raw = loadRawSocket();
  result = { available, loaded: true, tcp: raw.Protocol.TCP };
} catch (error) {
  result = { available, loaded: false, code: error.code, message: error.message, again: (() => { try { loadRawSocket(); return 'loaded'; } catch (e) { return e === error ? 'same' : 'other'; } })() };
}
console.log(JSON.stringify(result));
`;

  async function makeProject(name: string, type: 'module' | 'commonjs', addon: 'missing' | 'broken' | 'present'): Promise<string> {
    const dir = join(root, name);
    await mkdir(join(dir, 'src/transport'), { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `loader-${name}`, private: true, type }));
    await copyFile(join(repo, 'src/errors.ts'), join(dir, 'src/errors.ts'));
    await copyFile(join(repo, 'src/transport/raw-socket-loader.ts'), join(dir, 'src/transport/raw-socket-loader.ts'));
    await writeFile(join(dir, 'check.ts'), CHECK);
    if (addon !== 'missing') await mkdir(join(dir, 'node_modules'), { recursive: true });
    if (addon === 'broken') {
      const pkg = join(dir, 'node_modules/raw-socket');
      await mkdir(pkg);
      await copyFile(join(repo, 'node_modules/raw-socket/package.json'), join(pkg, 'package.json'));
      await copyFile(join(repo, 'node_modules/raw-socket/index.js'), join(pkg, 'index.js'));
    }
    if (addon === 'present') await symlink(join(repo, 'node_modules/raw-socket'), join(dir, 'node_modules/raw-socket'));
    return dir;
  }

  async function check(dir: string): Promise<Record<string, unknown>> {
    const { stdout } = await run(tsx, ['check.ts'], { cwd: dir, timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-loader-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const type of ['module', 'commonjs'] as const) {
    it(`${type}: without raw-socket the module still imports and throws ERR_RAW_UNAVAILABLE on use`, async () => {
      const result = await check(await makeProject(`${type}-missing`, type, 'missing'));
      expect(result).toMatchObject({ available: false, loaded: false, code: 'ERR_RAW_UNAVAILABLE', again: 'same' });
      const message = String(result.message);
      expect(message).toContain('native raw-socket addon could not be loaded');
      expect(message).toContain("Cannot find module 'raw-socket'");
      expect(message).toContain('npm install raw-socket');
      // Node's "Require stack" is not advice: the message is one paragraph.
      expect(message).not.toContain('Require stack');
      expect(message).not.toContain('\n');
    });

    it(`${type}: with a failed native build it names the error and says to rebuild`, async () => {
      const result = await check(await makeProject(`${type}-broken`, type, 'broken'));
      expect(result).toMatchObject({ available: false, loaded: false, code: 'ERR_RAW_UNAVAILABLE' });
      const message = String(result.message);
      expect(message).toContain('raw.node');
      expect(message).toContain('python3, make, g++');
      expect(message).toContain('npm rebuild raw-socket');
      expect(message).not.toContain('Require stack');
    });

    it(`${type}: with raw-socket installed next to it, it loads`, async () => {
      const result = await check(await makeProject(`${type}-present`, type, 'present'));
      expect(result).toEqual({ available: true, loaded: true, tcp: 6 });
    });
  }
});

/**
 * The published builds: tsup bundles the loader to an ES module and to
 * CommonJS (esbuild empties `import.meta` in CommonJS and replaces `require`
 * in ES modules); both must still find raw-socket next to them.
 */
describe('loadRawSocket in the tsup builds', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ps-loader-build-'));
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'loader-build', private: true, type: 'module' }));
    const { build } = await import('tsup');
    await build({
      config: false,
      entry: { loader: join(repo, 'src/transport/raw-socket-loader.ts') },
      outDir: join(root, 'dist'),
      format: ['esm', 'cjs'],
      target: 'node20',
      platform: 'node',
      external: ['raw-socket'],
      dts: false,
      silent: true,
    });
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const PROBE: Record<'esm' | 'cjs', (file: string) => string> = {
    esm: (file) => `import(${JSON.stringify(file)}).then((m) => { try { console.log(m.loadRawSocket().Protocol.TCP); } catch (e) { console.log(e.code, e.cause && e.cause.message.split('\\n')[0]); } });`,
    cjs: (file) => `const m = require(${JSON.stringify(file)}); try { console.log(m.loadRawSocket().Protocol.TCP); } catch (e) { console.log(e.code, e.cause && e.cause.message.split('\\n')[0]); }`,
  };

  it('both builds load the addon installed next to them, and report its absence', async () => {
    const files = { esm: join(root, 'dist/loader.js'), cjs: join(root, 'dist/loader.cjs') };
    const probe = async (format: 'esm' | 'cjs'): Promise<string> =>
      (await run(process.execPath, ['-e', PROBE[format](files[format])], { cwd: root, timeout: 30_000 })).stdout.trim();
    // No raw-socket reachable from the temporary directory yet.
    expect(await probe('esm')).toBe("ERR_RAW_UNAVAILABLE Cannot find module 'raw-socket'");
    expect(await probe('cjs')).toBe("ERR_RAW_UNAVAILABLE Cannot find module 'raw-socket'");
    await mkdir(join(root, 'node_modules'));
    await symlink(join(repo, 'node_modules/raw-socket'), join(root, 'node_modules/raw-socket'));
    expect(await probe('esm')).toBe('6');
    expect(await probe('cjs')).toBe('6');
  });
});

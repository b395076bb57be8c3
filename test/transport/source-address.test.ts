import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pickSourceAddress } from '../../src/transport/source-address.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(repo, 'node_modules/.bin/tsx');
const isRoot = process.getuid?.() === 0;

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
}

/** Closed handles leave the list a tick or two after close(); wait (bounded) for the count to drop. */
async function settledUdpHandles(target: number): Promise<number> {
  for (let i = 0; i < 100 && udpHandles() > target; i++) await new Promise((r) => setImmediate(r));
  return udpHandles();
}

describe('pickSourceAddress on loopback', () => {
  it('answers the kernel choice for 127.0.0.1 and ::1', async () => {
    expect(await pickSourceAddress('127.0.0.1', 4)).toBe('127.0.0.1');
    expect(await pickSourceAddress('::1', 6)).toBe('::1');
  });

  it('answers the loopback address for anywhere in 127.0.0.0/8, broadcast included', async () => {
    expect(await pickSourceAddress('127.3.2.1', 4)).toBe('127.0.0.1');
    // Without SO_BROADCAST the kernel would refuse this one with EACCES.
    expect(await pickSourceAddress('127.255.255.255', 4)).toBe('127.0.0.1');
  });

  it('closes its socket every time, also on failure', async () => {
    const before = await settledUdpHandles(0); // sockets of earlier tests may still be closing
    // The counter sees an open UDP socket.
    const probe = createSocket('udp4');
    expect(udpHandles()).toBe(before + 1);
    probe.close();
    expect(await settledUdpHandles(before)).toBe(before);

    await Promise.all(Array.from({ length: 50 }, () => pickSourceAddress('127.0.0.1', 4)));
    expect(await settledUdpHandles(before)).toBe(before);
    // Failures before the socket exists and after it was opened.
    await expect(pickSourceAddress('::1', 4)).rejects.toThrow();
    expect(await settledUdpHandles(before)).toBe(before);
  });

  it('rejects a destination that is not an address of the family', async () => {
    await expect(pickSourceAddress('::1', 4)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(pickSourceAddress('127.0.0.1', 6)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(pickSourceAddress('localhost', 4)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(pickSourceAddress('127.0.0.1', 5 as 4)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

/**
 * Inside a fresh network namespace: only lo, plus a veth pair carrying
 * 198.18.0.1/24 and fd00:5::1/64 (both ends inside the namespace), and no
 * default route. Connecting a UDP socket sends nothing; the child only asks
 * the kernel's routing table.
 */
describe.runIf(isRoot)('pickSourceAddress in a network namespace', () => {
  const ns = `ps-srcaddr-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let created = false;

  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-srcaddr-'));
    await chmod(dir, 0o755);
    await writeFile(
      join(dir, 'check.mts'),
      `
import { pickSourceAddress } from ${JSON.stringify(join(repo, 'src/transport/source-address.ts'))};
const cases: [string, 4 | 6][] = [['198.18.5.5', 4], ['fd00:99::5', 6], ['198.18.0.7', 4], ['198.18.0.255', 4], ['fd00:5::7', 6], ['127.0.0.1', 4]];
const out: Record<string, unknown> = {};
for (const [destination, family] of cases) {
  try {
    out[destination] = await pickSourceAddress(destination, family);
  } catch (e) {
    const err = e as { code?: string; message?: string; cause?: { code?: string } };
    out[destination] = { code: err.code, message: err.message, cause: err.cause?.code };
  }
}
console.log(JSON.stringify(out));
`,
    );
    await ip('netns', 'add', ns);
    created = true;
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'add', 'psv0', 'type', 'veth', 'peer', 'name', 'psv1');
    await ip('-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', 'psv0');
    await ip('-n', ns, '-6', 'addr', 'add', 'fd00:5::1/64', 'dev', 'psv0', 'nodad');
    await ip('-n', ns, 'link', 'set', 'psv1', 'up');
    await ip('-n', ns, 'link', 'set', 'psv0', 'up');
  });

  afterAll(async () => {
    if (created) await ip('netns', 'del', ns);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports ERR_NO_ROUTE without a route and the interface address with one', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', ns, tsx, join(dir, 'check.mts')], { cwd: repo, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(out['198.18.5.5']).toMatchObject({ code: 'ERR_NO_ROUTE', cause: 'ENETUNREACH' });
    expect(out['fd00:99::5']).toMatchObject({ code: 'ERR_NO_ROUTE', cause: 'ENETUNREACH' });
    const v4 = out['198.18.5.5'] as { message: string };
    expect(v4.message).toContain('No route from this host to 198.18.5.5');
    expect(v4.message).toContain('IPv4');
    expect((out['fd00:99::5'] as { message: string }).message).toContain('IPv6');
    expect(out['198.18.0.7']).toBe('198.18.0.1');
    expect(out['198.18.0.255']).toBe('198.18.0.1');
    expect(out['fd00:5::7']).toBe('fd00:5::1');
    expect(out['127.0.0.1']).toBe('127.0.0.1');
  });
});

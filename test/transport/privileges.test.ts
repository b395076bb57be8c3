import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkRawPermission, hasRawPermission } from '../../src/transport/privileges.js';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(repo, 'node_modules/.bin/tsx');
const isRoot = process.getuid?.() === 0;

interface CheckResult {
  uid: number;
  has4: boolean;
  has6: boolean;
  check4: 'ok' | { code: string; message: string };
  check6: 'ok' | { code: string; message: string };
}

describe.runIf(isRoot)('checkRawPermission as root', () => {
  it('passes for both families, repeatedly', () => {
    expect(() => checkRawPermission(4)).not.toThrow();
    expect(() => checkRawPermission(6)).not.toThrow();
    expect(() => checkRawPermission(4)).not.toThrow();
    expect(hasRawPermission(4)).toBe(true);
    expect(hasRawPermission(6)).toBe(true);
  });
});

describe('checkRawPermission', () => {
  it('rejects a family other than 4 or 6', () => {
    expect(() => checkRawPermission(5 as 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

/**
 * The refusal, for real: a child process runs the check with its privileges
 * dropped by setpriv(1) (util-linux).
 */
describe.runIf(isRoot)('checkRawPermission without CAP_NET_RAW (child processes via setpriv)', () => {
  let dir: string;
  const SCRIPT = `
import { checkRawPermission, hasRawPermission } from ${JSON.stringify(join(repo, 'src/transport/privileges.ts'))};
const out: Record<string, unknown> = { uid: process.getuid?.() };
for (const family of [4, 6] as const) {
  out['has' + family] = hasRawPermission(family);
  try {
    checkRawPermission(family);
    out['check' + family] = 'ok';
  } catch (e) {
    const err = e as { code?: string; message?: string };
    out['check' + family] = { code: err.code, message: err.message };
  }
}
console.log(JSON.stringify(out));
`;

  async function runAs(setprivArgs: string[]): Promise<CheckResult> {
    const { stdout } = await run('setpriv', [...setprivArgs, tsx, join(dir, 'check.ts')], {
      cwd: repo,
      timeout: 60_000,
      env: { ...process.env, HOME: tmpdir() },
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as CheckResult;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-priv-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'check.ts'), SCRIPT);
    await chmod(join(dir, 'check.ts'), 0o644);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an unprivileged user gets ERR_RAW_PERMISSION naming CAP_NET_RAW and the fixes', async () => {
    const result = await runAs(['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-net_raw']);
    expect(result.uid).toBe(65534);
    expect(result.has4).toBe(false);
    expect(result.has6).toBe(false);
    for (const check of [result.check4, result.check6]) {
      expect(check).not.toBe('ok');
      if (check === 'ok') continue;
      expect(check.code).toBe('ERR_RAW_PERMISSION');
      expect(check.message).toContain('CAP_NET_RAW');
      expect(check.message).toContain('setcap cap_net_raw+ep');
      expect(check.message).toContain("fallback: 'connect'");
    }
    expect(result.check4).toMatchObject({ message: expect.stringContaining('IPv4') });
    expect(result.check6).toMatchObject({ message: expect.stringContaining('IPv6') });
  });

  it('root without CAP_NET_RAW is refused too: the capability matters, not the uid', async () => {
    const result = await runAs(['--inh-caps=-net_raw', '--bounding-set=-net_raw']);
    expect(result.uid).toBe(0);
    expect(result.check4).toMatchObject({ code: 'ERR_RAW_PERMISSION' });
    expect(result.check6).toMatchObject({ code: 'ERR_RAW_PERMISSION' });
  });

  it('an unprivileged user holding CAP_NET_RAW passes (the fix the message gives)', async () => {
    const result = await runAs(['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw']);
    expect(result).toEqual({ uid: 65534, has4: true, has6: true, check4: 'ok', check6: 'ok' });
  });
});

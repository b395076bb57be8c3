/**
 * Every example script runs, as a user runs it (`npx tsx examples/<name>.ts`,
 * here `node --import tsx` in a child process), and its output and exit code
 * are checked. A script in examples/ with no case here must name the test
 * that runs it (ELSEWHERE), so a new example cannot go untested.
 *
 * The examples start their own servers and send traffic to 127.0.0.1 and ::1
 * only. Parts that need raw sockets are checked when this process has them;
 * as root, the scripts' unprivileged paths are run too, as the `nobody` user.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasRawPermission, type JsonLinesEvent } from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Examples whose run is checked in another test file (which must mention the script's path). */
const ELSEWHERE: Readonly<Record<string, string>> = { 'cli.ts': 'test/cli.test.ts' };

/** Examples checked here. */
const HERE = ['dissect-probes.ts', 'custom-scan.ts', 'ping-sweep-syn.ts', 'service-inventory.ts', 'summarize-json-lines.ts', 'demo.ts'];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function example(name: string, options: { args?: string[]; input?: string; asNobody?: boolean } = {}): Run {
  const run = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'examples', name), ...(options.args ?? [])], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    input: options.input ?? '',
    ...(options.asNobody ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } } : {}),
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function expectSuccess(run: Run, name: string): void {
  expect(run.status, `${name} exit code; stderr:\n${run.stderr}`).toBe(0);
}

const root = process.getuid?.() === 0;
const raw = hasRawPermission(4);
/** Whether the `nobody` user can read the repository (to run the unprivileged paths as root). */
const nobodyCanRead = ((): boolean => {
  if (!root) return false;
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(ROOT, 'examples', 'custom-scan.ts'))}); require('fs').accessSync(${JSON.stringify(TSX.replace('file://', ''))})`], {
    uid: 65534,
    gid: 65534,
  });
  return probe.status === 0;
})();

describe('the examples', () => {
  it('every script in examples/ is run here or by the test it names', () => {
    const scripts = readdirSync(join(ROOT, 'examples')).filter((name) => name.endsWith('.ts') && !name.startsWith('.'));
    const untested = scripts.filter((name) => !HERE.includes(name) && !(name in ELSEWHERE));
    expect(untested, 'add a case to test/examples.test.ts (or to ELSEWHERE with the test that runs it)').toEqual([]);
    for (const [name, test] of Object.entries(ELSEWHERE)) {
      if (!scripts.includes(name)) continue;
      accessSync(join(ROOT, test), constants.R_OK);
      expect(readFileSync(join(ROOT, test), 'utf8'), `${test} runs examples/${name}`).toContain(`examples/${name}`);
    }
    for (const name of HERE) expect(scripts, name).toContain(name);
    expect(scripts.length).toBeGreaterThanOrEqual(4);
  });

  it('dissect-probes.ts builds and dissects a TCP SYN and an ICMP echo request', () => {
    const run = example('dissect-probes.ts');
    expectSuccess(run, 'dissect-probes.ts');
    expect(run.stdout).toMatch(/TCP/);
    expect(run.stdout).toMatch(/ICMP/);
    expect(run.stdout).toMatch(/127\.0\.0\.1/);
  });

  it('custom-scan.ts scans, stops, resumes from its cursor, and reads every banner', () => {
    const run = example('custom-scan.ts');
    expectSuccess(run, 'custom-scan.ts');
    expect(run.stdout).toContain('Every port reported exactly once: yes');
    const rows = run.stdout.split('\n').filter((line) => /^\d+\/tcp/.test(line));
    expect(rows).toHaveLength(4);
    expect(rows.filter((row) => row.includes(' open ')).map((row) => row.replace(/^\S+\s+open\s+/, '')).sort()).toEqual(
      ['* OK [CAPABILITY IMAP4rev1] demo ready', '220 custom-scan.example ESMTP demo', 'SSH-2.0-demo_1.0 custom-scan example'].sort(),
    );
    expect(rows.filter((row) => /\sclosed\s*$/.test(row))).toHaveLength(1);
    expect(run.stdout).toMatch(/cursor: \{"v":1,/);
  });

  it(`ping-sweep-syn.ts sweeps loopback and ${raw ? 'SYN-scans the hosts up' : 'falls back to a connect scan without root'}`, () => {
    const run = example('ping-sweep-syn.ts');
    expectSuccess(run, 'ping-sweep-syn.ts');
    if (raw) {
      expect(run.stdout).toContain('1. Ping sweep of 127.0.0.1');
      expect(run.stdout).toMatch(/host 127\.0\.0\.1 is up \((echo-reply|reset|syn-ack), ttl \d+/);
      expect(run.stdout).toMatch(/2\. SYN scan of the [12] host\(s\) up/);
      expect(run.stdout).toMatch(/127\.0\.0\.1 \d+\/tcp open \(syn-ack; syn\)/);
      expect(run.stdout).toMatch(/127\.0\.0\.1 \d+\/tcp closed \(reset; syn\)/);
    } else {
      expectFallback(run);
    }
  });

  it.skipIf(!raw || !nobodyCanRead)('ping-sweep-syn.ts, run as nobody, says so and falls back to a connect scan', () => {
    const run = example('ping-sweep-syn.ts', { asNobody: true });
    expectSuccess(run, 'ping-sweep-syn.ts as nobody');
    expectFallback(run);
  });

  describe('service-inventory.ts and summarize-json-lines.ts', () => {
    let inventory: Run;
    beforeAll(() => {
      inventory = example('service-inventory.ts');
    }, 120_000);

    it('service-inventory.ts writes JSON Lines of service detection that follow the schema', () => {
      expectSuccess(inventory, 'service-inventory.ts');
      const schema = JSON.parse(readFileSync(join(ROOT, 'schema/portscout-events.schema.json'), 'utf8')) as object;
      const validate = new Ajv2020({ strict: true }).compile(schema);
      const lines = inventory.stdout.split('\n');
      expect(lines.pop()).toBe('');
      const events = lines.map((line) => JSON.parse(line) as JsonLinesEvent);
      for (const event of events) expect(validate(event) ? [] : validate.errors, JSON.stringify(event)).toEqual([]);
      expect(events[0]?.type).toBe('start');
      expect(events.at(-1)?.type).toBe('done');
      const services = events.filter((e): e is Extract<JsonLinesEvent, { type: 'service' }> => e.type === 'service');
      expect(services.map((s) => [s.name, s.product ?? '', s.version ?? '']).sort()).toEqual(
        [
          ['ftp', 'vsftpd', '3.0.5'],
          ['http', 'Node.js http server', ''], // the example's own node:http server
          ['smtp', 'Postfix smtpd', ''],
          ['tcpwrapped', '', ''],
        ].sort(),
      );
      expect(events.filter((e) => e.type === 'port' && e.state === 'closed')).toHaveLength(1);
      expect(inventory.stderr).toMatch(/\d+ JSON Lines written to stdout; services:/);
    });

    it('summarize-json-lines.ts reads them back into a table per host, and notices a stream cut short', () => {
      const run = example('summarize-json-lines.ts', { input: inventory.stdout });
      expectSuccess(run, 'summarize-json-lines.ts');
      expect(run.stdout).toMatch(/^127\.0\.0\.1$/m);
      expect(run.stdout).toMatch(/^\d+\/tcp\s+open\s+ftp\s+vsftpd 3\.0\.5$/m);
      expect(run.stdout).toMatch(/^\d+\/tcp\s+open\s+smtp\s+Postfix smtpd$/m);
      expect(run.stdout).toMatch(/^\d+\/tcp\s+closed$/m);
      expect(run.stdout).toContain('1 scan(s), 1 finished; 1 host(s).');
      const cut = inventory.stdout.slice(0, inventory.stdout.indexOf('"type":"done"') - 1);
      const short = example('summarize-json-lines.ts', { input: `${cut}{"type":"po` });
      expectSuccess(short, 'summarize-json-lines.ts on a cut stream');
      expect(short.stdout).toContain('1 scan(s), 0 finished: the input was cut short');
    });
  });

  it('demo.ts (npm start) scans its loopback demonstration target and prints nmap normal output', () => {
    const run = example('demo.ts');
    expectSuccess(run, 'demo.ts');
    expect(run.stdout).toMatch(/PORT\s+STATE\s+SERVICE/);
    expect(run.stdout).toMatch(/\d+\/tcp\s+open/);
  });
});

function expectFallback(run: Run): void {
  expect(run.stdout).toContain('Not root (no CAP_NET_RAW, or no raw-socket addon)');
  expect(run.stdout).toContain('warning FALLBACK_CONNECT');
  expect(run.stdout).toMatch(/host 127\.0\.0\.1 is up \((conn-refused|syn-ack), .*tcp-connect-ping\)/);
  expect(run.stdout).toMatch(/127\.0\.0\.1 \d+\/tcp open \(syn-ack; connect\)/);
  expect(run.stdout).toMatch(/127\.0\.0\.1 \d+\/tcp closed \(conn-refused; connect\)/);
}

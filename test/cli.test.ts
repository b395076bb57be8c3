/**
 * The `portscout` command (examples/cli.ts) end to end, as a child process:
 * usage errors and exit codes, a connect scan of loopback servers in every
 * output format, and Ctrl-C during a scan: complete outputs, a resume file,
 * and a resumed scan that finishes with no port lost or repeated; -O as
 * root. Loopback only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'examples/cli.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

function cli(args: string[], cwd: string, timeout = 60_000): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd, encoding: 'utf8', timeout });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs the command and sends it SIGINT after `afterMs`; its exit code and stderr. */
async function interrupted(args: string[], cwd: string, afterMs: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

/** The port events of a JSON Lines file, as "protocol/port state". */
function portLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; protocol?: string; port?: number; state?: string })
    .filter((event) => event.type === 'port')
    .map((event) => `${event.protocol}/${event.port} ${event.state}`);
}

describe('the portscout command', () => {
  const servers: Server[] = [];
  const open: number[] = [];
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portscout-cli-'));
    for (let i = 0; i < 3; i++) {
      const server = createServer((socket) => {
        socket.on('error', () => {});
        socket.end('220 hello\r\n');
      });
      servers.push(server);
      open.push(await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))));
    }
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it('exits 2 with a one-line reason that names the flag on a usage error', () => {
    const bogus = cli(['--bogus', '127.0.0.1'], dir);
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/--bogus/);
    const ports = cli(['-sT', '-Pn', '-p', '70000', '127.0.0.1'], dir);
    expect(ports.status).toBe(2);
    expect(ports.stderr).toMatch(/70000|port/i);
    const none = cli(['-sT', '-Pn'], dir);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/No targets/);
    const two = cli(['-sT', '-sU', '127.0.0.1'], dir);
    expect(two.status).toBe(2);
    expect(cli(['--top-ports', 'x', '127.0.0.1'], dir).stderr).toMatch(/--top-ports/);
    expect(cli(['--help'], dir)).toMatchObject({ status: 0 });
  }, 60_000);

  it('scans loopback servers and writes every format', () => {
    const ports = [...open, 1].join(',');
    const run = cli(['-sT', '-Pn', '-p', ports, '127.0.0.1', '-oA', join(dir, 'all'), '--reason'], dir);
    expect(run.status, run.stderr).toBe(0);
    const jsonl = portLines(join(dir, 'all.jsonl'));
    for (const port of open) expect(jsonl).toContain(`tcp/${port} open`);
    expect(jsonl).toContain('tcp/1 closed');
    const normal = readFileSync(join(dir, 'all.nmap'), 'utf8');
    for (const port of open) expect(normal).toMatch(new RegExp(`^${port}/tcp\\s+open`, 'm'));
    expect(readFileSync(join(dir, 'all.gnmap'), 'utf8')).toMatch(new RegExp(`${open[0]}/open/tcp`));
    const xml = readFileSync(join(dir, 'all.xml'), 'utf8');
    expect(xml).toMatch(/<nmaprun[^>]*scanner="portscout"/);
    if (hasXmllint) expect(spawnSync('xmllint', ['--noout', join(dir, 'all.xml')]).status).toBe(0);
    // Normal output on stdout when no output is named.
    const plain = cli(['-sT', '-Pn', '-p', String(open[0]), '127.0.0.1'], dir);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`${open[0]}/tcp\\s+open`));
  }, 60_000);

  it.skipIf(!existsSync('/usr/share/nmap/nmap-os-db') || process.getuid?.() !== 0)('-O (root) adds OS detection to every format; the database is the user\'s file', () => {
    const ports = [open[0], 1].join(',');
    const run = cli(['-O', '--osdb', '/usr/share/nmap/nmap-os-db', '-Pn', '-p', ports, '127.0.0.1', '-oA', join(dir, 'os')], dir);
    expect(run.status, run.stderr).toBe(0);
    const normal = readFileSync(join(dir, 'os.nmap'), 'utf8');
    expect(normal).toMatch(/Aggressive OS guesses: Linux|OS details: Linux/);
    expect(normal).toContain('OS detection performed.');
    const xml = readFileSync(join(dir, 'os.xml'), 'utf8');
    expect(xml).toMatch(/<os><portused state="open" proto="tcp" portid="\d+"\/>/);
    expect(xml).toMatch(/<osmatch name="Linux[^"]*" accuracy="\d+"/);
    const os = readFileSync(join(dir, 'os.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; hint?: { family: string } }).find((e) => e.type === 'os');
    expect(os?.hint?.family).toBe('Linux');
  }, 60_000);

  it('Ctrl-C writes complete outputs and a resume file; the resumed scan loses and repeats no port', async () => {
    const args = ['-sT', '-Pn', '-p', '1-65535', '--max-rate', '4000', '127.0.0.1', '-oJ', join(dir, 'first.jsonl'), '-oX', join(dir, 'first.xml')];
    const { code, stderr } = await interrupted(args, dir, 3000);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/--resume/);
    const resumeFile = join(dir, 'portscout.resume.json');
    expect(existsSync(resumeFile)).toBe(true);
    const first = portLines(join(dir, 'first.jsonl'));
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(65535);
    if (hasXmllint) expect(spawnSync('xmllint', ['--noout', join(dir, 'first.xml')]).status).toBe(0);

    const resumed = cli(['--resume', resumeFile, '-oJ', join(dir, 'second.jsonl')], dir, 120_000);
    expect(resumed.status, resumed.stderr).toBe(0);
    const second = portLines(join(dir, 'second.jsonl'));
    const all = [...first, ...second].map((line) => line.split(' ')[0] as string);
    expect(new Set(all).size).toBe(all.length); // nothing repeated
    expect(all.length).toBe(65535); // nothing lost
    for (const port of open) expect([...first, ...second]).toContain(`tcp/${port} open`);
  }, 180_000);

  it('with -sV, Ctrl-C still identifies the ports found, so the resumed scan leaves no open port without its service', async () => {
    // A silent service on a low port: found before the interruption, and its identification
    // (the NULL probe's 6 s wait and the probes after it) still runs when Ctrl-C comes.
    let low = 0;
    const quiet = createServer((socket) => socket.on('error', () => {}));
    for (let port = 1500; port < 2500 && low === 0; port++) {
      low = await new Promise<number>((resolve) => {
        quiet.once('error', () => resolve(0));
        quiet.listen(port, '127.0.0.1', () => resolve(port));
      });
    }
    expect(low).toBeGreaterThan(0);
    servers.push(quiet);
    const args = ['-sV', '-sT', '-Pn', '-p', '1-65535', '--max-rate', '4000', '127.0.0.1', '-oJ', join(dir, 'sv-first.jsonl')];
    const { code, stderr } = await interrupted(args, dir, 3000);
    expect(code, stderr).toBe(1);
    const resumed = cli(['--resume', join(dir, 'portscout.resume.json'), '-oJ', join(dir, 'sv-second.jsonl')], dir, 120_000);
    expect(resumed.status, resumed.stderr).toBe(0);
    const events = ['sv-first.jsonl', 'sv-second.jsonl'].flatMap((name) =>
      readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; port?: number; state?: string; name?: string }),
    );
    const ports = events.filter((e) => e.type === 'port').map((e) => e.port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.length).toBe(65535);
    const opened = events.filter((e) => e.type === 'port' && e.state === 'open').map((e) => e.port);
    const identified = new Set(events.filter((e) => e.type === 'service').map((e) => e.port));
    expect(opened.filter((port) => !identified.has(port))).toEqual([]);
    for (const port of [...open, low]) expect(opened).toContain(port);
    expect(events.find((e) => e.type === 'service' && e.port === low)).toBeDefined();
  }, 240_000);
});

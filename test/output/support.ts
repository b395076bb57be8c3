/**
 * Helpers of the output tests: recorded streams, a deterministic clock,
 * rendering to a string, and the outside readers (xmllint with nmap's DTD,
 * Python's xml.etree and python-libnmap).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DetectionEvent } from '../../src/index.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, 'fixtures');

/** nmap's DTD from Debian's nmap package: read at test time, never copied. */
export const NMAP_DTD = '/usr/share/nmap/nmap.dtd';

/** The events of a recorded `.jsonl` fixture. */
export function readFixture(name: string): DetectionEvent[] {
  return readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DetectionEvent);
}

/** The events as an async stream, optionally throwing `error` after the first `throwAfter` events. */
export async function* streamOf(events: readonly DetectionEvent[], opts: { throwAfter?: number; error?: unknown } = {}): AsyncGenerator<DetectionEvent> {
  let n = 0;
  for (const event of events) {
    if (opts.throwAfter !== undefined && n === opts.throwAfter) throw opts.error;
    n++;
    yield event;
  }
  if (opts.throwAfter !== undefined && n <= opts.throwAfter) throw opts.error;
}

/** A clock that starts at the stream's `startedAt` and moves 250 ms each time it is read. */
export function fakeClock(events: readonly DetectionEvent[]): () => number {
  const start = events.find((e) => e.type === 'start');
  let t = start?.type === 'start' ? start.startedAt : 1_796_000_000_000;
  return () => (t += 250);
}

/** Collects what a formatter writes, chunk by chunk. */
export function collector(): { sink: (chunk: string) => void; chunks: string[]; text(): string } {
  const chunks: string[] = [];
  return { sink: (chunk) => void chunks.push(chunk), chunks, text: () => chunks.join('') };
}

/** Whether a program is on PATH. */
export function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** Whether a tool the tests need is missing, and it must not be (under CI, `.ci/run` installs it). */
export function missing(what: string, present: boolean): boolean {
  if (present) return false;
  if (process.env.CI) throw new Error(`${what} is missing under CI (.ci/run installs it)`);
  console.log(`[output] SKIPPED ${what}: not installed`);
  return true;
}

/**
 * `xmllint --noout --dtdvalid nmap.dtd FILE`: its complaints, one per line,
 * without the final "does not validate" summary line.
 */
export function xmllintComplaints(file: string): { status: number | null; complaints: string[]; summary: string[] } {
  const run = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, file], { encoding: 'utf8' });
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  return { status: run.status, complaints: lines.filter((l) => !l.startsWith('Document ')), summary: lines.filter((l) => l.startsWith('Document ')) };
}

/** The one complaint xmllint may make about portscout's XML: the DTD allows only scanner="nmap". */
export const SCANNER_COMPLAINT = /^.+:\d+: element nmaprun: validity error : Value "portscout" for attribute scanner of nmaprun is not among the enumerated set$/;

/** Debian's python3 (python3-libnmap installs there), else whatever python3 is on PATH. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Whether python-libnmap imports. */
export function hasLibnmap(): boolean {
  return spawnSync(PYTHON, ['-c', 'import libnmap.parser'], { stdio: 'ignore' }).status === 0;
}

/** Runs test/output/fixtures/read_nmap_xml.py in `mode` on `file` and parses what it printed. */
export function readWithPython<T = unknown>(mode: 'etree' | 'libnmap' | 'ipv4-lookup', file: string): T {
  return JSON.parse(execFileSync(PYTHON, [join(FIXTURES, 'read_nmap_xml.py'), mode, file], { encoding: 'utf8' })) as T;
}

/**
 * Whether this machine can build the namespace lab, and the skip/fail policy of lab tests.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findExecutable } from './exec.js';

/**
 * Result of {@link labSupport}.
 *
 * @example
 * ```ts
 * const s: LabSupport = labSupport(); if (!s.ok) console.log(s.reason);
 * ```
 */
export type LabSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Programs the lab needs, by the name they are looked up under.
 *
 * @example
 * ```ts
 * const missing = LAB_PROGRAMS.filter((p) => findExecutable(p) === undefined);
 * ```
 */
export const LAB_PROGRAMS = ['ip', 'nmap', 'iptables', 'ip6tables', 'socat', 'nginx', 'sshd', 'ssh-keygen', 'dnsmasq', 'ss'] as const;

/**
 * One of {@link LAB_PROGRAMS}.
 *
 * @example
 * ```ts
 * const p: LabProgram = 'nmap';
 * ```
 */
export type LabProgram = (typeof LAB_PROGRAMS)[number];

let cached: LabSupport | undefined;

/**
 * Checks, once per process, that the lab can be built here: Linux, root, every
 * program of {@link LAB_PROGRAMS} installed, and `ip netns add`/`del` working
 * (tried with a throw-away `ps-<id>-probe` namespace).
 *
 * @example
 * ```ts
 * const support = labSupport();
 * if (!support.ok) console.log(`lab tests skipped: ${support.reason}`);
 * ```
 */
export function labSupport(): LabSupport {
  cached ??= probeSupport();
  return cached;
}

function probeSupport(): LabSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root (network namespaces and raw sockets need root)' };
  const missing = LAB_PROGRAMS.filter((p) => findExecutable(p) === undefined);
  if (missing.length > 0) return { ok: false, reason: `missing programs: ${missing.join(', ')} (apt-get install nmap iproute2 iptables socat nginx-light dnsmasq-base openssh-server)` };
  const ip = findExecutable('ip') ?? 'ip';
  const probe = `ps-${randomBytes(2).toString('hex')}-probe`;
  try {
    execFileSync(ip, ['netns', 'add', probe], { timeout: 5_000, stdio: 'pipe' });
  } catch (e) {
    return { ok: false, reason: `'ip netns add' does not work here: ${stderrOf(e)}` };
  }
  try {
    execFileSync(ip, ['netns', 'del', probe], { timeout: 5_000, stdio: 'pipe' });
  } catch (e) {
    return { ok: false, reason: `'ip netns del' does not work here: ${stderrOf(e)}` };
  }
  return { ok: true };
}

function stderrOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'stderr' in e) {
    const s = (e as { stderr: unknown }).stderr;
    if (s instanceof Buffer || typeof s === 'string') return s.toString().trim();
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Decides whether lab tests are skipped, and prints one clear line when they are.
 * Under CI (`process.env.CI` set) it never skips: the lab tests then run and fail
 * with the reason, because CI must run them.
 *
 * @example
 * ```ts
 * describe.skipIf(skipLab('tcp syn scanner lab'))('syn scanner in the lab', () => { ... });
 * ```
 */
export function skipLab(what: string): boolean {
  const support = labSupport();
  if (support.ok) return false;
  if (process.env.CI) {
    console.error(`[lab] ${what}: lab unavailable under CI, failing instead of skipping: ${support.reason}`);
    return false;
  }
  console.log(`[lab] SKIPPED ${what}: ${support.reason}`);
  return true;
}

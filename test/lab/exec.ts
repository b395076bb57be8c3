/**
 * Bounded process execution for the namespace lab.
 *
 * Every command the lab runs goes through {@link runBounded}: it always has a
 * timeout, kills the whole process group when the timeout fires, and caps the
 * output it keeps, so a hung `ip`, `iptables` or `nmap` can never hang a test run.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What a finished command produced.
 *
 * @example
 * ```ts
 * const { stdout, code }: ExecResult = await runBounded(['ip', 'netns', 'list']);
 * ```
 */
export interface ExecResult {
  /** Everything the command wrote to stdout (capped at {@link MAX_OUTPUT_BYTES}). */
  readonly stdout: string;
  /** Everything the command wrote to stderr (capped at {@link MAX_OUTPUT_BYTES}). */
  readonly stderr: string;
  /** Exit code; `null` when the process was killed by a signal (for example on timeout). */
  readonly code: number | null;
  /** The signal that ended the process, if any. */
  readonly signal: NodeJS.Signals | null;
  /** `true` when the command was killed because it ran longer than its timeout. */
  readonly timedOut: boolean;
}

/**
 * Options of {@link runBounded}.
 *
 * @example
 * ```ts
 * await runBounded(['nmap', '-V'], { timeoutMs: 5_000 } satisfies ExecOptions);
 * ```
 */
export interface ExecOptions {
  /** Kill the command (SIGKILL to its process group) after this many milliseconds. Default 30 000. */
  readonly timeoutMs?: number;
  /** Text written to the command's stdin, which is then closed. Default: stdin is empty. */
  readonly input?: string;
  /** Extra environment variables merged over `process.env`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. Default: the current one. */
  readonly cwd?: string;
}

/**
 * Output kept per stream; anything beyond is dropped (the command keeps running).
 *
 * @example
 * ```ts
 * if (r.stdout.length >= MAX_OUTPUT_BYTES) console.warn('output truncated');
 * ```
 */
export const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

/**
 * Default timeout of {@link runBounded}, in milliseconds.
 *
 * @example
 * ```ts
 * await runBounded(argv, { timeoutMs: 2 * DEFAULT_EXEC_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/**
 * Runs `argv` (no shell) with a hard timeout and returns its output and exit status.
 * Never rejects for a non-zero exit; rejects only when the program cannot be started.
 *
 * @example
 * ```ts
 * const r = await runBounded(['ip', 'netns', 'list'], { timeoutMs: 5_000 });
 * if (r.code !== 0) throw new Error(r.stderr);
 * ```
 */
export function runBounded(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runBounded: empty argv'));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group, so a timeout kills the command and everything it started.
      detached: true,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < MAX_OUTPUT_BYTES) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < MAX_OUTPUT_BYTES) err.push(chunk);
      errBytes += chunk.length;
    });
    child.stdin.on('error', () => {
      /* the command may exit without reading its stdin */
    });
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        timedOut,
      });
    });
  });
}

/**
 * Runs `argv` like {@link runBounded} and rejects unless it exits with code 0.
 * The error message names the command, its exit status and its stderr.
 *
 * @example
 * ```ts
 * await runChecked(['ip', 'netns', 'add', 'ps-a1b2-scan'], { timeoutMs: 5_000 });
 * ```
 */
export async function runChecked(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await runBounded(argv, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`command failed (${why}): ${argv.join(' ')}\n${r.stderr.trim()}`);
  }
  return r;
}

/**
 * Sends `signal` to the process group led by `pid` (falls back to the process alone).
 * Ignores processes that are already gone.
 *
 * @example
 * ```ts
 * killGroup(child.pid, 'SIGTERM');
 * ```
 */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Directories searched after `PATH` (root tools live in sbin, which some PATHs lack). */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Absolute path of an executable found on `PATH` or in the usual sbin/bin
 * directories, or `undefined` when it is not installed.
 *
 * @example
 * ```ts
 * const sshd = findExecutable('sshd'); // '/usr/sbin/sshd'
 * ```
 */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * argv that runs a TypeScript file with this Node and the `tsx` loader, for
 * {@link runBounded} or `lab.spawnInScanner` (run it with the repository as the
 * working directory, the default, so `tsx` resolves).
 *
 * @example
 * ```ts
 * const r = await lab.spawnInScanner(tsxArgv('test/lab/fixtures/print-interfaces.ts', ['--json']));
 * ```
 */
export function tsxArgv(script: string, args: readonly string[] = []): string[] {
  return [process.execPath, '--import', 'tsx', script, ...args];
}

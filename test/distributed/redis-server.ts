/**
 * A real redis-server (Debian's package, which .ci/run installs) for the
 * distributed tests: it listens on a Unix socket in a fresh temporary
 * directory only (`port 0`: no TCP at all), so it is reachable from the
 * root namespace and from the lab's namespaces alike and from no network.
 * Started inside a namespace with `netns`. Always stopped: `stop()`, and a
 * process exit handler for a crashed run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, runBounded } from '../lab/exec.js';

/** A running redis-server. */
export interface RedisServer {
  /** The Unix socket it listens on. */
  readonly socket: string;
  /** BullMQ connection options for it. */
  readonly connection: { readonly path: string };
  /** Its data directory (AOF files). */
  readonly dir: string;
  /** SIGKILLs it (no shutdown save) and starts it again on the same socket and data. */
  restart(downMs?: number): Promise<void>;
  /** Runs redis-cli against it. */
  cli(...args: string[]): Promise<string>;
  /** Stops it and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Whether redis-server and redis-cli are installed. */
export function redisAvailable(): boolean {
  return findExecutable('redis-server') !== undefined && findExecutable('redis-cli') !== undefined;
}

const live = new Set<ChildProcess>();
let exitHandler = false;

/**
 * Starts redis-server on a Unix socket, with AOF (`appendfsync always`)
 * when asked, inside network namespace `netns` when given.
 *
 * @example
 * ```ts
 * const redis = await startRedis({ aof: true });
 * try { ... redis.connection ... } finally { await redis.stop(); }
 * ```
 */
export async function startRedis(opts: { aof?: boolean; netns?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'portscout-redis-'));
  const socket = join(dir, 'redis.sock');
  const server = findExecutable('redis-server') ?? 'redis-server';
  const cliPath = findExecutable('redis-cli') ?? 'redis-cli';
  const args = [
    '--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', '',
    '--appendonly', opts.aof ? 'yes' : 'no', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
  ];
  if (!exitHandler) {
    exitHandler = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  let child: ChildProcess | undefined;
  const cli = async (...command: string[]): Promise<string> => (await runBounded([cliPath, '-s', socket, ...command], { timeoutMs: 5_000 })).stdout.trim();
  const launch = async (): Promise<void> => {
    const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, server, ...args] : [server, ...args];
    const started = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child = started;
    live.add(started);
    started.once('exit', () => live.delete(started));
    for (let i = 0; i < 100; i++) {
      if (started.exitCode !== null) throw new Error(`redis-server exited: ${errors}`);
      if (existsSync(socket) && (await cli('ping')) === 'PONG') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    started.kill('SIGKILL');
    throw new Error(`redis-server did not answer on ${socket} in 5 s: ${errors}`);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  };
  await launch();
  let stopped = false;
  return {
    socket,
    connection: { path: socket },
    dir,
    cli,
    async restart(downMs = 500) {
      await kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

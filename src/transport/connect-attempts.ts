/**
 * TCP connection attempts, on this thread or on worker threads.
 *
 * A TCP connect costs the calling thread the kernel's work for the whole
 * handshake (on a local link the answer is processed inside the connect
 * call), plus Node's socket and error objects. One thread tops out near
 * 12,000 attempts per second here; worker threads spread that over the cores.
 * Each worker runs attempts it is handed in batches and reports them in
 * batches; the caller keeps every decision (timeouts, retries, states).
 * Workers use only `node:net`: raw sockets stay on the main thread.
 *
 * @module
 */
import { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** How one connection attempt ended. */
export type ConnectAttempt =
  | { readonly kind: 'open'; readonly rttMs: number }
  | { readonly kind: 'error'; readonly code: string; readonly rttMs: number }
  | { readonly kind: 'timeout' };

/** Where one attempt goes. */
export interface ConnectAttemptTarget {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
}

/**
 * One connection attempt on this thread. `active` holds a cancel function per
 * attempt in flight, so a caller ends them all without an abort listener per socket.
 *
 * @example
 * ```ts
 * const active = new Set<() => void>();
 * const attempt = await connectAttempt({ family: 4, address: '127.0.0.1', port: 22 }, 1000, active);
 * ```
 */
export function connectAttempt(target: ConnectAttemptTarget, timeoutMs: number, active: Set<() => void>): Promise<ConnectAttempt> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const started = performance.now();
    const settle = (attempt: ConnectAttempt): void => {
      if (!active.delete(cancel)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(attempt);
    };
    const cancel = (): void => settle({ kind: 'timeout' });
    active.add(cancel);
    const timer = setTimeout(cancel, timeoutMs);
    socket.once('connect', () => settle({ kind: 'open', rttMs: performance.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', code: error.code ?? 'UNKNOWN', rttMs: performance.now() - started }));
    socket.connect({ host: target.address, port: target.port, family: target.family });
  });
}

// The worker's attempt is connectAttempt above, as plain CommonJS run with `eval`:
// the same text works from src/ (tests), dist/index.js and dist/index.cjs.
// Messages in: batches of [id, family, address, port, timeoutMs]. Out: batches of [id, kind, code, rttMs],
// kind 0 connected, 1 error (code), 2 timeout.
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { Socket } = require('node:net');
// Every refused connect builds an Error; this thread never shows their stacks.
Error.stackTraceLimit = 0;
let results = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const batch = results;
  results = [];
  parentPort.postMessage(batch);
};
const report = (row) => {
  results.push(row);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};
const attempt = (id, family, host, port, timeoutMs) => {
  const socket = new Socket();
  const started = performance.now();
  let settled = false;
  const settle = (kind, code) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    report([id, kind, code, performance.now() - started]);
  };
  const timer = setTimeout(() => settle(2, ''), timeoutMs);
  socket.once('connect', () => settle(0, ''));
  socket.once('error', (error) => settle(1, error.code || 'UNKNOWN'));
  socket.connect({ host, port, family });
};
parentPort.on('message', (batch) => {
  for (const [id, family, host, port, timeoutMs] of batch) attempt(id, family, host, port, timeoutMs);
});
`;

type Row = [id: number, kind: 0 | 1 | 2, code: string, rttMs: number];

/**
 * A pool of worker threads making connection attempts. {@link close} ends
 * every worker (and with them their sockets and timers) and settles the
 * attempts still out as timeouts.
 *
 * @example
 * ```ts
 * const pool = new ConnectWorkerPool(2, (error) => console.error(error));
 * try {
 *   const attempt = await pool.attempt({ family: 4, address: '127.0.0.1', port: 22 }, 1000);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class ConnectWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly outboxes: (readonly [number, 4 | 6, string, number, number])[][] = [];
  private readonly pending = new Map<number, (attempt: ConnectAttempt) => void>();
  private nextId = 0;
  private nextWorker = 0;
  private flushScheduled = false;
  private closed = false;

  /**
   * @param count worker threads to start (at least 1)
   * @param onError called once if a worker fails (the pool is closed then)
   */
  constructor(
    count: number,
    private readonly onError: (error: Error) => void,
  ) {
    try {
      for (let i = 0; i < Math.max(1, count); i++) {
        // No inherited execArgv: flags such as --input-type=module would make the CommonJS source fail.
        const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
        worker.on('message', (rows: Row[]) => this.settle(rows));
        worker.once('error', (error: Error) => this.fail(error));
        worker.once('exit', (code) => {
          if (!this.closed) this.fail(new Error(`a connect worker exited with code ${code}`));
        });
        this.workers.push(worker);
        this.outboxes.push([]);
      }
    } catch (error) {
      // Workers already started must not keep the process alive.
      this.closed = true;
      for (const worker of this.workers) void worker.terminate();
      throw error;
    }
  }

  /** Makes one connection attempt on a worker; resolves with how it ended. */
  attempt(target: ConnectAttemptTarget, timeoutMs: number): Promise<ConnectAttempt> {
    if (this.closed) return Promise.resolve({ kind: 'timeout' });
    const id = this.nextId++;
    const outbox = this.outboxes[this.nextWorker]!;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    outbox.push([id, target.family, target.address, target.port, Math.max(1, Math.round(timeoutMs))]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  /** Ends every worker; attempts still out settle as timeouts. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const resolve of this.pending.values()) resolve({ kind: 'timeout' });
    this.pending.clear();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    for (let i = 0; i < this.workers.length; i++) {
      const outbox = this.outboxes[i]!;
      if (outbox.length === 0) continue;
      this.workers[i]!.postMessage(outbox);
      this.outboxes[i] = [];
    }
  }

  private settle(rows: Row[]): void {
    for (const [id, kind, code, rttMs] of rows) {
      const resolve = this.pending.get(id);
      if (!resolve) continue;
      this.pending.delete(id);
      resolve(kind === 0 ? { kind: 'open', rttMs } : kind === 1 ? { kind: 'error', code, rttMs } : { kind: 'timeout' });
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    void this.close();
    this.onError(error);
  }
}

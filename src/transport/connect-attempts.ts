/**
 * TCP connection attempts, on this thread or on worker threads.
 *
 * A TCP connect costs the calling thread the kernel's work for the whole
 * handshake (on a local link the answer is processed inside the connect
 * call), plus Node's socket objects. In the lab one thread makes about
 * 18,000 refused attempts a second with net.Socket and 30,000 with Node's TCP
 * handle; worker threads spread that over the cores. Each worker runs
 * attempt series it is handed in batches (up to N connects to one address
 * and port, the last given its own wait: the caller decides them from its
 * retry policy and round-trip times) and reports how each
 * series ended, in batches; the caller keeps every other decision (states,
 * pacing, statistics). Workers use only Node's TCP sockets: raw sockets stay
 * on the main thread.
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

/** How a series of attempts on a worker ended: the last attempt's reading and how many were made. */
export type ConnectSeriesResult = ConnectAttempt & { readonly attempts: number };

/** The attempts of one pair on a worker: how many at most, and how long each waits. */
export interface ConnectSeries {
  readonly attempts: number;
  /** Wait of every attempt but the last, in milliseconds. */
  readonly timeoutMs: number;
  /** Wait of the last attempt. */
  readonly lastTimeoutMs: number;
}

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
    const started = performance.now();
    let socket: Socket;
    let selfConnects = 0;
    const settle = (attempt: ConnectAttempt): void => {
      if (!active.delete(cancel)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(attempt);
    };
    const cancel = (): void => settle({ kind: 'timeout' });
    active.add(cancel);
    // After the poll phase: a connection that completed during a stall is read before its timeout.
    const timer = setTimeout(() => setImmediate(cancel), timeoutMs);
    const connect = (): void => {
      socket = new Socket();
      socket.once('connect', () => {
        if (!isSelfConnect(socket)) return settle({ kind: 'open', rttMs: performance.now() - started });
        // The kernel chose the port we connect to as our own: a simultaneous open with ourselves, not a listener.
        socket.destroy();
        if (++selfConnects < MAX_SELF_CONNECTS) connect();
        else settle({ kind: 'error', code: SELF_CONNECT, rttMs: performance.now() - started });
      });
      socket.once('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', code: error.code ?? 'UNKNOWN', rttMs: performance.now() - started }));
      socket.connect({ host: target.address, port: target.port, family: target.family });
    };
    connect();
  });
}

/**
 * The code of a series whose every connection was a TCP self-connect: the
 * kernel gave the socket the very address and port it connects to, and the
 * simultaneous open with itself succeeded. Nothing listens there; it is not
 * an open port. An attempt that self-connects is made again at once (the
 * kernel then picks another local port), up to {@link MAX_SELF_CONNECTS} times.
 */
const SELF_CONNECT = 'ESELFCONNECT';

/** Self-connects in a row after which an attempt reports {@link SELF_CONNECT}. */
const MAX_SELF_CONNECTS = 4;

/** Whether a connected socket is connected to itself. */
function isSelfConnect(socket: Socket): boolean {
  return socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress;
}

// The worker runs as plain CommonJS with `eval`: the same text works from src/ (tests),
// dist/index.js and dist/index.cjs.
//
// Protocol, both ways in transferred Float64Arrays (no per-attempt objects to clone):
//   in:  { addresses: string[], rows } with rows of [id, addressIndex, port, family, timeoutMs, attempts, lastTimeoutMs]
//   out: { codes: string[], rows } with rows of [id, kind, codeIndex, rttMs, attempts],
//        kind 0 connected, 1 error (codes[codeIndex]), 2 timeout (of every attempt).
// A series makes attempts until one is answered (connected or an error) or all timed out.
//
// An attempt uses Node's TCP handle (process.binding('tcp_wrap'), what net.Socket
// itself wraps) when it is there: a refused connect then costs a handle and a
// callback instead of a Socket, its streams and an Error. process.binding is a
// documentation-only deprecation (DEP0111: a warning under --pending-deprecation
// only); where the binding is missing or refuses (another Node), attempts use
// net.Socket, and both read the same (a test checks it).
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Socket } = require('node:net');
const { getSystemErrorName } = require('node:util');
// Every refused net.Socket connect builds an Error; this thread never shows their stacks.
Error.stackTraceLimit = 0;
let tcp;
try {
  const binding = process.binding('tcp_wrap');
  if (typeof binding.TCP === 'function' && typeof binding.TCPConnectWrap === 'function' && binding.constants && binding.constants.SOCKET !== undefined) tcp = binding;
} catch {
  tcp = undefined;
}
if (workerData && workerData.netSockets) tcp = undefined;
let results = [];
let codes = [];
const codeIndex = new Map();
let scheduled = false;
const flush = () => {
  scheduled = false;
  const rows = Float64Array.from(results);
  parentPort.postMessage({ codes, rows }, [rows.buffer]);
  results = [];
  codes = [];
  codeIndex.clear();
};
const report = (id, kind, code, rttMs, attempts) => {
  let index = -1;
  if (kind === 1) {
    index = codeIndex.get(code);
    if (index === undefined) {
      index = codes.length;
      codes.push(code);
      codeIndex.set(code, index);
    }
  }
  results.push(id, kind, index, rttMs, attempts);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};
// How one attempt ends: the first of its answer and its timeout; close frees the socket.
const settleOnce = (timeoutMs, close, done) => {
  const started = performance.now();
  let settled = false;
  const timer = setTimeout(() => setImmediate(() => settle(2, '')), timeoutMs);
  const settle = (kind, code) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    close();
    done(kind, code, performance.now() - started);
  };
  return settle;
};
// A connection whose local address and port are its remote ones is a TCP self-connect
// (the kernel picked the port we connect to as our own): not a listener. The attempt is
// made again with a new socket, and after ${MAX_SELF_CONNECTS} in a row reported as ${SELF_CONNECT}.
const attemptWithHandle = (family, host, port, timeoutMs, done) => {
  let handle;
  let selfConnects = 0;
  const settle = settleOnce(timeoutMs, () => handle.close(), done);
  const connect = () => {
    handle = new tcp.TCP(tcp.constants.SOCKET);
    const request = new tcp.TCPConnectWrap();
    request.oncomplete = (status) => {
      if (status !== 0) return settle(1, getSystemErrorName(status));
      const local = {};
      const remote = {};
      handle.getsockname(local);
      handle.getpeername(remote);
      if (local.port !== remote.port || local.address !== remote.address) return settle(0, '');
      handle.close();
      if (++selfConnects < ${MAX_SELF_CONNECTS}) connect();
      else settle(1, '${SELF_CONNECT}');
    };
    const error = family === 6 ? handle.connect6(request, host, port) : handle.connect(request, host, port);
    if (error) settle(1, getSystemErrorName(error));
  };
  connect();
};
const attemptWithSocket = (family, host, port, timeoutMs, done) => {
  let socket;
  let selfConnects = 0;
  const settle = settleOnce(timeoutMs, () => socket.destroy(), done);
  const connect = () => {
    socket = new Socket();
    socket.once('connect', () => {
      if (socket.localPort !== socket.remotePort || socket.localAddress !== socket.remoteAddress) return settle(0, '');
      socket.destroy();
      if (++selfConnects < ${MAX_SELF_CONNECTS}) connect();
      else settle(1, '${SELF_CONNECT}');
    });
    socket.once('error', (error) => settle(1, error.code || 'UNKNOWN'));
    socket.connect({ host, port, family });
  };
  connect();
};
const attempt = tcp ? attemptWithHandle : attemptWithSocket;
const series = (id, family, host, port, timeoutMs, attempts, lastTimeoutMs) => {
  let made = 0;
  const next = () => {
    made++;
    attempt(family, host, port, made < attempts ? timeoutMs : lastTimeoutMs, (kind, code, rttMs) => {
      if (kind === 2 && made < attempts) next();
      else report(id, kind, code, rttMs, made);
    });
  };
  next();
};
parentPort.on('message', ({ addresses, rows }) => {
  for (let i = 0; i < rows.length; i += 7) series(rows[i], rows[i + 3], addresses[rows[i + 1]], rows[i + 2], rows[i + 4], rows[i + 5], rows[i + 6]);
});
`;

/** Attempts waiting to be posted to one worker. */
interface Outbox {
  /** Rows of [id, addressIndex, port, family, timeoutMs, attempts, lastTimeoutMs]. */
  rows: number[];
  addresses: string[];
  addressIndex: Map<string, number>;
}

function emptyOutbox(): Outbox {
  return { rows: [], addresses: [], addressIndex: new Map() };
}

const TIMED_OUT: ConnectSeriesResult = Object.freeze({ kind: 'timeout', attempts: 0 });

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
  private readonly outboxes: Outbox[] = [];
  private readonly pending = new Map<number, (result: ConnectSeriesResult) => void>();
  private nextId = 0;
  private nextWorker = 0;
  private flushScheduled = false;
  private closed = false;

  /**
   * @param count worker threads to start (at least 1)
   * @param onError called once if a worker fails (the pool is closed then)
   * @param options `netSockets`: attempt with net.Socket even where Node's TCP handle is there (tests of the fallback)
   */
  constructor(
    count: number,
    private readonly onError: (error: Error) => void,
    options: { readonly netSockets?: boolean } = {},
  ) {
    try {
      for (let i = 0; i < Math.max(1, count); i++) {
        // No inherited execArgv: flags such as --input-type=module would make the CommonJS source fail.
        const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { netSockets: options.netSockets === true } });
        worker.on('message', (message: { codes: string[]; rows: Float64Array }) => this.settle(message.codes, message.rows));
        worker.once('error', (error: Error) => this.fail(error));
        worker.once('exit', (code) => {
          if (!this.closed) this.fail(new Error(`a connect worker exited with code ${code}`));
        });
        this.workers.push(worker);
        this.outboxes.push(emptyOutbox());
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
    return new Promise((resolve) => this.submit(target, { timeoutMs, lastTimeoutMs: timeoutMs, attempts: 1 }, resolve));
  }

  /**
   * Makes up to `series.attempts` connection attempts on a worker until one
   * is answered, the last given `series.lastTimeoutMs` and the others
   * `series.timeoutMs`; calls `done` once with how the series ended (at once
   * with a timeout when the pool is closed).
   */
  submit(target: ConnectAttemptTarget, series: ConnectSeries, done: (result: ConnectSeriesResult) => void): void {
    if (this.closed) {
      done(TIMED_OUT);
      return;
    }
    const id = this.nextId++;
    const outbox = this.outboxes[this.nextWorker]!;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    let addressIndex = outbox.addressIndex.get(target.address);
    if (addressIndex === undefined) {
      addressIndex = outbox.addresses.length;
      outbox.addresses.push(target.address);
      outbox.addressIndex.set(target.address, addressIndex);
    }
    outbox.rows.push(
      id,
      addressIndex,
      target.port,
      target.family,
      Math.max(1, Math.round(series.timeoutMs)),
      Math.max(1, Math.floor(series.attempts)),
      Math.max(1, Math.round(series.lastTimeoutMs)),
    );
    this.pending.set(id, done);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Ends every worker; attempts still out settle as timeouts. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const done of pending) done(TIMED_OUT);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    for (let i = 0; i < this.workers.length; i++) {
      const outbox = this.outboxes[i]!;
      if (outbox.rows.length === 0) continue;
      const rows = Float64Array.from(outbox.rows);
      this.workers[i]!.postMessage({ addresses: outbox.addresses, rows }, [rows.buffer]);
      this.outboxes[i] = emptyOutbox();
    }
  }

  private settle(codes: readonly string[], rows: Float64Array): void {
    for (let i = 0; i < rows.length; i += 5) {
      const id = rows[i] as number;
      const done = this.pending.get(id);
      if (!done) continue;
      this.pending.delete(id);
      const kind = rows[i + 1];
      const rttMs = rows[i + 3] as number;
      const attempts = rows[i + 4] as number;
      done(
        kind === 0
          ? { kind: 'open', rttMs, attempts }
          : kind === 1
            ? { kind: 'error', code: codes[rows[i + 2] as number] ?? 'UNKNOWN', rttMs, attempts }
            : { kind: 'timeout', attempts },
      );
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    // The owner hears of the failure before the attempts still out settle as timeouts (so it can stop first).
    try {
      this.onError(error);
    } finally {
      void this.close();
    }
  }
}

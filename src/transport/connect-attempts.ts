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
import { connectWorkerSource, type ConnectWorkerData } from './connect-worker.js';
import { PortscoutError } from '../errors.js';

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


/** The worker program's text, built on the first pool's start. */
let workerSource: string | undefined;

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
        const workerData: ConnectWorkerData = { netSockets: options.netSockets === true, maxSelfConnects: MAX_SELF_CONNECTS, selfConnectCode: SELF_CONNECT };
        const worker = new Worker((workerSource ??= connectWorkerSource()), { eval: true, execArgv: [], workerData });
        worker.on('message', (message: { codes: string[]; rows: Float64Array }) => this.settle(message.codes, message.rows));
        worker.once('error', (error: Error) => this.fail(new PortscoutError('ERR_CONNECT_WORKER', `A connect worker thread failed: ${error.message}`, { cause: error })));
        worker.once('exit', (code) => {
          if (!this.closed) this.fail(new PortscoutError('ERR_CONNECT_WORKER', `A connect worker thread exited with code ${code} while the scan ran.`));
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

  /**
   * Whether the workers keep the process alive (they do from the start). A
   * scan waiting for its consumer with no attempt out lets go of them.
   */
  hold(held: boolean): void {
    if (this.closed) return;
    for (const worker of this.workers) {
      if (held) worker.ref();
      else worker.unref();
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

/**
 * The program of a connect worker thread ({@link ConnectWorkerPool}): it makes
 * the attempt series it is handed and reports how each ended, in batches.
 *
 * The program is one self-contained function, {@link connectWorkerMain}, that
 * tsc checks like any other code. It reaches nothing outside itself but its
 * one argument: the pool starts each worker with the function's own source
 * text (`eval`), so the same program runs from src/ (tests), dist/index.js
 * and dist/index.cjs, with no worker file to find next to the bundle.
 *
 * Protocol, both ways in transferred Float64Arrays (no per-attempt objects to clone):
 * - in: `{ addresses: string[], rows }` with rows of
 *   [id, addressIndex, port, family, timeoutMs, attempts, lastTimeoutMs];
 * - out: `{ codes: string[], rows }` with rows of [id, kind, codeIndex, rttMs, attempts],
 *   kind 0 connected, 1 error (`codes[codeIndex]`), 2 timeout (of every attempt).
 *
 * A series makes attempts until one is answered (connected or an error) or all timed out.
 *
 * An attempt uses Node's TCP handle (`process.binding('tcp_wrap')`, what
 * net.Socket itself wraps) when it is there: a refused connect then costs a
 * handle and a callback instead of a Socket, its streams and an Error.
 * `process.binding` is a documentation-only deprecation (DEP0111: a warning
 * under --pending-deprecation only); where the binding is missing or refuses
 * (another Node), attempts use net.Socket, and both read the same (a test
 * checks it).
 *
 * @module
 */
import type { Socket as NetSocket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';

/** A result row's kind: how an attempt series ended (0 connected, 1 error, 2 timeout of every attempt). */
export type SeriesKind = 0 | 1 | 2;

/** What the pool hands each worker in `workerData`. */
export interface ConnectWorkerData {
  /** Attempt with net.Socket even where Node's TCP handle is there (tests of the fallback). */
  readonly netSockets: boolean;
  /** Self-connects in a row after which an attempt is reported as an error. */
  readonly maxSelfConnects: number;
  /** The code of that error. */
  readonly selfConnectCode: string;
}

/** The worker's view of Node's TCP binding (the handle net.Socket wraps). */
interface TcpBinding {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => { oncomplete?: (status: number) => void };
  readonly constants: { readonly SOCKET: number };
}

interface TcpHandle {
  connect(request: object, host: string, port: number): number;
  connect6(request: object, host: string, port: number): number;
  getsockname(out: { address?: string; port?: number }): number;
  getpeername(out: { address?: string; port?: number }): number;
  close(): void;
}

/** Everything the program uses, passed in: it runs where it can import nothing of ours. */
export interface ConnectWorkerEnvironment {
  readonly parentPort: Pick<MessagePort, 'on' | 'postMessage'>;
  readonly workerData: ConnectWorkerData;
  readonly Socket: new () => NetSocket;
  readonly getSystemErrorName: (errno: number) => string;
  /** `process.binding('tcp_wrap')`, or undefined where it is missing. */
  readonly tcpBinding: () => unknown;
}

type Done = (kind: SeriesKind, code: string, rttMs: number) => void;
type Attempt = (family: number, host: string, port: number, timeoutMs: number, done: Done) => void;

/**
 * The worker program. Self-contained: it must not refer to anything outside
 * its body but `env` and global built-ins (its text is run on its own).
 *
 * @param env the worker's Node modules and data
 */
export function connectWorkerMain(env: ConnectWorkerEnvironment): void {
  const { parentPort, workerData, Socket, getSystemErrorName } = env;
  // Every refused net.Socket connect builds an Error; this thread never shows their stacks.
  Error.stackTraceLimit = 0;
  let tcp: TcpBinding | undefined;
  try {
    const binding = env.tcpBinding() as Partial<TcpBinding> | undefined;
    if (binding && typeof binding.TCP === 'function' && typeof binding.TCPConnectWrap === 'function' && binding.constants?.SOCKET !== undefined) tcp = binding as TcpBinding;
  } catch {
    tcp = undefined;
  }
  if (workerData.netSockets) tcp = undefined;
  const { maxSelfConnects, selfConnectCode } = workerData;
  // Constants live inside: the program runs from its own text.
  const CONNECTED = 0;
  const ERROR = 1;
  const TIMEOUT = 2;
  const REQUEST_ROW = 7;

  let results: number[] = [];
  let codes: string[] = [];
  const codeIndex = new Map<string, number>();
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const rows = Float64Array.from(results);
    parentPort.postMessage({ codes, rows }, [rows.buffer]);
    results = [];
    codes = [];
    codeIndex.clear();
  };
  const report = (id: number, kind: SeriesKind, code: string, rttMs: number, attempts: number): void => {
    let index = -1;
    if (kind === ERROR) {
      index = codeIndex.get(code) ?? -1;
      if (index < 0) {
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
  // The timeout runs after the event loop's poll phase, so a connection that completed
  // during a stall is read before it.
  const settleOnce = (timeoutMs: number, close: () => void, done: Done): ((kind: SeriesKind, code: string) => void) => {
    const started = performance.now();
    let settled = false;
    const settle = (kind: SeriesKind, code: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      done(kind, code, performance.now() - started);
    };
    const timer = setTimeout(() => setImmediate(() => settle(TIMEOUT, '')), timeoutMs);
    return settle;
  };

  // A connection whose local address and port are its remote ones is a TCP self-connect
  // (the kernel picked the port we connect to as our own): not a listener. The attempt is
  // made again with a new socket, and after maxSelfConnects in a row reported as an error.
  const attemptWithHandle = (binding: TcpBinding): Attempt => (family, host, port, timeoutMs, done) => {
    let handle: TcpHandle | undefined;
    let selfConnects = 0;
    const settle = settleOnce(timeoutMs, () => handle?.close(), done);
    const connect = (): void => {
      const current = new binding.TCP(binding.constants.SOCKET);
      handle = current;
      const request = new binding.TCPConnectWrap();
      request.oncomplete = (status) => {
        if (status !== 0) return settle(ERROR, getSystemErrorName(status));
        const local: { address?: string; port?: number } = {};
        const remote: { address?: string; port?: number } = {};
        current.getsockname(local);
        current.getpeername(remote);
        if (local.port !== remote.port || local.address !== remote.address) return settle(CONNECTED, '');
        current.close();
        if (++selfConnects < maxSelfConnects) connect();
        else settle(ERROR, selfConnectCode);
      };
      const error = family === 6 ? current.connect6(request, host, port) : current.connect(request, host, port);
      if (error) settle(ERROR, getSystemErrorName(error));
    };
    connect();
  };

  const attemptWithSocket: Attempt = (family, host, port, timeoutMs, done) => {
    let socket: NetSocket | undefined;
    let selfConnects = 0;
    const settle = settleOnce(timeoutMs, () => socket?.destroy(), done);
    const connect = (): void => {
      const current = new Socket();
      socket = current;
      current.once('connect', () => {
        if (current.localPort !== current.remotePort || current.localAddress !== current.remoteAddress) return settle(CONNECTED, '');
        current.destroy();
        if (++selfConnects < maxSelfConnects) connect();
        else settle(ERROR, selfConnectCode);
      });
      current.once('error', (error: NodeJS.ErrnoException) => settle(ERROR, error.code ?? 'UNKNOWN'));
      current.connect({ host, port, family });
    };
    connect();
  };

  const attempt = tcp ? attemptWithHandle(tcp) : attemptWithSocket;
  const series = (id: number, family: number, host: string, port: number, timeoutMs: number, attempts: number, lastTimeoutMs: number): void => {
    let made = 0;
    const next = (): void => {
      made++;
      attempt(family, host, port, made < attempts ? timeoutMs : lastTimeoutMs, (kind, code, rttMs) => {
        if (kind === TIMEOUT && made < attempts) next();
        else report(id, kind, code, rttMs, made);
      });
    };
    next();
  };

  parentPort.on('message', ({ addresses, rows }: { addresses: string[]; rows: Float64Array }) => {
    for (let i = 0; i < rows.length; i += REQUEST_ROW) {
      series(rows[i] as number, rows[i + 3] as number, addresses[rows[i + 1] as number] as string, rows[i + 2] as number, rows[i + 4] as number, rows[i + 5] as number, rows[i + 6] as number);
    }
  });
}

/**
 * The text a worker runs (`new Worker(text, { eval: true })`): CommonJS that
 * gathers the program's environment and calls {@link connectWorkerMain}.
 * `__name` is defined for transpilers that keep function names with it.
 */
export function connectWorkerSource(): string {
  return [
    "'use strict';",
    'var __name = (target) => target;',
    "const { parentPort, workerData } = require('node:worker_threads');",
    `(${connectWorkerMain.toString()})({`,
    '  parentPort, workerData,',
    "  Socket: require('node:net').Socket,",
    "  getSystemErrorName: require('node:util').getSystemErrorName,",
    "  tcpBinding: () => process.binding('tcp_wrap'),",
    '});',
  ].join('\n');
}

/**
 * One probe's exchange with a service: connect (TCP, optionally through
 * TLS) or bind (UDP), send the probe's bytes, and collect the answer until
 * the probe's wait ends, the service closes, the answer is complete (the
 * caller says so), or it reaches {@link MAX_MATCHED_BYTES}. Every socket and
 * timer is released when it settles, and on abort.
 *
 * @module
 */
import { createSocket } from 'node:dgram';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { MAX_MATCHED_BYTES } from './match-response.js';

/** Where an exchange goes. */
export interface ExchangeTarget {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/** How an exchange ended. */
export interface ExchangeResult {
  /** What the service sent (at most {@link MAX_MATCHED_BYTES}). */
  readonly bytes: Uint8Array;
  /** `wait`: the probe's wait ran out; `closed`: the service closed (or reset) the connection; `complete`: the caller's test said the answer was enough; `aborted`. */
  readonly end: 'wait' | 'closed' | 'complete' | 'aborted' | 'failed';
  /** Milliseconds from the probe's send to the end (or to the close, for `closed`). */
  readonly elapsedMs: number;
  /** The errno of a connection that could not be made, or of the TLS handshake. */
  readonly error?: string;
}

/** Options of one exchange. */
export interface ExchangeOptions {
  readonly protocol: 'tcp' | 'udp';
  readonly payload: Uint8Array;
  /** How long to wait for the answer after sending (nmap's totalwaitms). */
  readonly waitMs: number;
  /** Through TLS (TCP only): the probe is sent once the handshake is done. */
  readonly tls?: boolean;
  /**
   * Called with everything received so far; true (or a promise of true)
   * ends the exchange (the answer matched). One check runs at a time: bytes
   * that arrive during a check are checked, all together, after it.
   */
  readonly complete?: (bytes: Uint8Array) => boolean | Promise<boolean>;
  readonly signal?: AbortSignal;
}

/**
 * Runs one exchange.
 *
 * @example
 * ```ts
 * const { bytes } = await exchange({ address: '127.0.0.1', family: 4, port: 22 }, { protocol: 'tcp', payload: new Uint8Array(), waitMs: 2000 });
 * ```
 */
export function exchange(target: ExchangeTarget, options: ExchangeOptions): Promise<ExchangeResult> {
  return options.protocol === 'udp' ? exchangeUdp(target, options) : exchangeTcp(target, options);
}

/**
 * The one way an exchange ends: once, releasing its timer, abort listener
 * and socket, with what was collected.
 */
function settler(
  options: ExchangeOptions,
  resolve: (result: ExchangeResult) => void,
  release: () => void,
): { finish: (end: ExchangeResult['end'], error?: string) => void; data: ReturnType<typeof collector>; setTimer: (timer: NodeJS.Timeout) => void; markSent: () => void } {
  let settled = false;
  let sentAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => finish('aborted');
  const finish = (end: ExchangeResult['end'], error?: string): void => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    release();
    const result: { -readonly [K in keyof ExchangeResult]: ExchangeResult[K] } = { bytes: end === 'complete' ? data.completeBytes() : data.bytes(), end, elapsedMs: performance.now() - sentAt };
    if (error !== undefined) result.error = error;
    resolve(result);
  };
  const data = collector(options, finish);
  if (options.signal?.aborted) finish('aborted');
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    finish,
    data,
    setTimer: (next) => {
      if (timer) clearTimeout(timer);
      timer = next;
      if (settled) clearTimeout(next);
    },
    markSent: () => {
      sentAt = performance.now();
    },
  };
}

/** Collects chunks up to the cap, asks `complete` about them (one check at a time); calls `finish` once. */
function collector(
  options: ExchangeOptions,
  finish: (end: ExchangeResult['end'], error?: string) => void,
): { add(chunk: Uint8Array): void; bytes(): Uint8Array; completeBytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  let length = 0;
  let joined: Uint8Array | undefined;
  let checking = false;
  let checkedLength = 0;
  /** The bytes the caller's test said were complete (bytes that came during the test are not part of that answer). */
  let completeLength: number | undefined;
  let ended = false;
  const bytes = (): Uint8Array => (joined ??= Buffer.concat(chunks, length));
  const check = (): void => {
    const complete = options.complete;
    if (!complete || checking || ended || checkedLength === length) return;
    checking = true;
    checkedLength = length;
    const tested = length;
    const settle = (done: boolean): void => {
      checking = false;
      if (ended) return;
      if (done) {
        completeLength = tested;
        ended = true;
        finish('complete');
      } else check();
    };
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = complete(bytes());
    } catch {
      verdict = false;
    }
    if (typeof verdict === 'boolean') settle(verdict);
    else verdict.then(settle, () => settle(false));
  };
  return {
    add(chunk) {
      if (length >= MAX_MATCHED_BYTES) return;
      const part = chunk.subarray(0, MAX_MATCHED_BYTES - length);
      chunks.push(part);
      length += part.length;
      joined = undefined;
      if (length >= MAX_MATCHED_BYTES) {
        ended = true;
        finish('complete');
      } else check();
    },
    bytes,
    completeBytes: () => (completeLength === undefined ? bytes() : bytes().subarray(0, completeLength)),
  };
}

function exchangeTcp(target: ExchangeTarget, options: ExchangeOptions): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let socket: Socket | TLSSocket | undefined;
    const { finish, data, setTimer, markSent } = settler(options, resolve, () => socket?.destroy());
    if (options.signal?.aborted) return;
    // Connecting counts against the wait too, so a port that stops answering cannot hold the probe.
    setTimer(setTimeout(() => finish('failed', 'ETIMEDOUT'), options.waitMs));
    const onConnected = (): void => {
      markSent();
      if (options.payload.length > 0) socket!.write(options.payload);
      setTimer(setTimeout(() => finish('wait'), options.waitMs));
    };
    if (options.tls) {
      socket = connectTls({ host: target.address, port: target.port, rejectUnauthorized: false }, onConnected);
    } else {
      socket = connectTcp({ host: target.address, port: target.port, family: target.family }, onConnected);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => data.add(chunk));
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after data is the service closing; before the connection it is a failure.
      if (data.bytes().length > 0 || error.code === 'ECONNRESET' || error.code === 'EPIPE') finish('closed', error.code);
      else finish('failed', error.code ?? error.message);
    });
  });
}

function exchangeUdp(target: ExchangeTarget, options: ExchangeOptions): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const socket = createSocket(target.family === 4 ? 'udp4' : 'udp6');
    const { finish, data, setTimer } = settler(options, resolve, () => {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    });
    if (options.signal?.aborted) return;
    socket.on('message', (message, from) => {
      if (from.address === target.address && from.port === target.port) data.add(message);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(data.bytes().length > 0 ? 'closed' : 'failed', error.code ?? error.message));
    setTimer(setTimeout(() => finish('wait'), options.waitMs));
    socket.send(options.payload, target.port, target.address, (error) => {
      if (error) finish('failed', (error as NodeJS.ErrnoException).code ?? error.message);
    });
  });
}

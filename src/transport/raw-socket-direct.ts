/**
 * Direct use of raw-socket's native handle, for speed.
 *
 * raw-socket's public API sends one queued packet, and reads one datagram,
 * per readiness event of the event loop. The native handle it wraps
 * (`socket.wrap`, raw-socket 1.x) sends and receives synchronously on a
 * non-blocking descriptor, so a scan can send a batch of probes in one go and
 * read every waiting reply per event. Both functions fall back to the public
 * API when the handle is not there (another raw-socket version).
 *
 * @module
 */
import type { RawSocket } from './raw-socket-loader.js';
import { PortscoutError } from '../errors.js';

interface NativeHandle {
  send(buffer: Uint8Array, offset: number, length: number, address: string, callback: (bytes: number) => void): unknown;
  recv(buffer: Uint8Array, callback: (buffer: Buffer, bytes: number, source: string) => void): unknown;
  on(event: string, listener: () => void): unknown;
  removeAllListeners(event: string): unknown;
}

const handles = new WeakMap<RawSocket, NativeHandle | null>();

function nativeHandleOf(socket: RawSocket): NativeHandle | undefined {
  let handle = handles.get(socket);
  if (handle === undefined) {
    const wrap = (socket as unknown as { wrap?: Partial<NativeHandle> }).wrap;
    handle =
      wrap && typeof wrap.send === 'function' && typeof wrap.recv === 'function' && typeof wrap.on === 'function' && typeof wrap.removeAllListeners === 'function'
        ? (wrap as NativeHandle)
        : null;
    handles.set(socket, handle);
  }
  return handle ?? undefined;
}

function wouldBlock(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /temporarily unavailable|would block|no buffer space/i.test(message);
}

const ignoreBytes = (): void => {};

/**
 * Sends one packet now if the kernel takes it; otherwise queues a copy on
 * raw-socket's public send queue (which waits until the socket is writable),
 * so the caller may reuse `packet` as soon as this returns.
 * `done` is called once, with the error if the send failed.
 */
export function sendNowOrQueue(socket: RawSocket, packet: Uint8Array, address: string, done: (error: Error | null) => void): void {
  const handle = nativeHandleOf(socket);
  if (handle) {
    try {
      handle.send(packet, 0, packet.length, address, ignoreBytes);
      done(null);
      return;
    } catch (error) {
      if (!wouldBlock(error)) {
        done(new PortscoutError('ERR_SEND_FAILED', `The kernel refused to send a probe to ${address}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        return;
      }
    }
  }
  // It waits in raw-socket's queue: keep a copy, the caller may reuse its buffer.
  queueCopy(socket, packet.slice(), address, done);
}

/**
 * Queues a packet on raw-socket's send queue. raw-socket waits there until
 * the socket is writable, but a send the kernel then refuses for want of
 * buffer space (ENOBUFS: a full neighbour table, which writability does not
 * signal) comes back as an error: the packet goes again on the next turn of
 * the event loop, as the native channel does, instead of failing.
 */
function queueCopy(socket: RawSocket, copy: Uint8Array, address: string, done: (error: Error | null) => void): void {
  socket.send(copy, 0, copy.length, address, (error: Error | null) => {
    if (error && wouldBlock(error)) setImmediate(() => queueCopy(socket, copy, address, done));
    else done(error ?? null);
  });
}

/**
 * Most datagrams read per readiness event, so one busy socket cannot starve
 * the event loop. It is well above what the process sends per turn (the
 * listener's send budget), so the kernel's queue drains every turn.
 */
const MAX_READS_PER_EVENT = 2048;

/**
 * Makes the socket read every waiting datagram (up to a bound) per readiness
 * event instead of one, handing each to `onDatagram` as the first `length`
 * bytes of `buffer` (which is reused: copy what you keep). A read error other
 * than "would block" goes to `onError`. Returns the function that closes the socket (stopping the reads
 * first: the native handle would reopen a closed socket on the next read), or
 * undefined when the native handle is not there; the caller then listens to
 * the public 'message' event and closes the socket itself.
 */
export function readAllOnReadable(
  socket: RawSocket,
  buffer: Buffer,
  onDatagram: (buffer: Buffer, length: number, source: string) => void,
  onError: (error: unknown) => void,
): (() => void) | undefined {
  const handle = nativeHandleOf(socket);
  if (!handle) return undefined;
  let open = true;
  // The would-block exception that ends every event is made without a stack
  // trace; the limit is restored while a datagram is handed on.
  let stackTraceLimit = Error.stackTraceLimit;
  const deliver = (data: Buffer, length: number, source: string): void => {
    Error.stackTraceLimit = stackTraceLimit;
    try {
      onDatagram(data, length, source);
    } finally {
      Error.stackTraceLimit = 0;
    }
  };
  handle.removeAllListeners('recvReady');
  handle.on('recvReady', () => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let i = 0; i < MAX_READS_PER_EVENT && open; i++) {
        try {
          handle.recv(buffer, deliver);
        } catch (error) {
          if (!wouldBlock(error)) onError(error);
          return;
        }
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  });
  return () => {
    if (!open) return;
    open = false;
    socket.close();
  };
}

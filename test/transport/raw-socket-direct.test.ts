/** The direct send path on raw-socket's native handle, with a stand-in socket (no root). */
import { describe, expect, it } from 'vitest';
import { sendErrorCode } from '../../src/transport/send-error.js';
import { sendNowOrQueue } from '../../src/transport/raw-socket-direct.js';
import type { RawSocket } from '../../src/transport/raw-socket-loader.js';

/** A socket whose native handle answers each send with `nativeError` (or takes it), and whose queue keeps what it is given. */
function standIn(nativeError: Error | undefined): { socket: RawSocket; native: number[][]; queued: Uint8Array[] } {
  const native: number[][] = [];
  const queued: Uint8Array[] = [];
  const socket = {
    wrap: {
      send(buffer: Uint8Array, offset: number, length: number, _address: string, callback: (bytes: number) => void): void {
        if (nativeError) throw nativeError;
        native.push([...buffer.subarray(offset, offset + length)]);
        callback(length);
      },
      recv(): void {},
      on(): void {},
      removeAllListeners(): void {},
    },
    send(buffer: Uint8Array, _offset: number, _length: number, _address: string, callback: (error: Error | null) => void): void {
      queued.push(buffer);
      setImmediate(() => callback(null));
    },
  } as unknown as RawSocket;
  return { socket, native, queued };
}

describe('sendNowOrQueue', () => {
  it('sends at once on the native handle; the caller may reuse its buffer right away', () => {
    const { socket, native } = standIn(undefined);
    const packet = new Uint8Array([1, 2, 3]);
    const done: (Error | null)[] = [];
    sendNowOrQueue(socket, packet, '198.18.0.2', (error) => done.push(error));
    packet.fill(0);
    expect(native).toEqual([[1, 2, 3]]);
    expect(done).toEqual([null]);
  });

  it('queues a copy when the kernel would block, so reusing the buffer cannot change what leaves', async () => {
    const { socket, queued } = standIn(new Error('Resource temporarily unavailable'));
    const packet = new Uint8Array([1, 2, 3]);
    const done = new Promise<Error | null>((resolve) => sendNowOrQueue(socket, packet, '198.18.0.2', resolve));
    packet.fill(0xa5);
    expect(await done).toBeNull();
    expect(queued.map((b) => [...b])).toEqual([[1, 2, 3]]);
  });

  it('reports any other native error to the callback', () => {
    const { socket, queued } = standIn(new Error('Operation not permitted'));
    const done: (Error | null)[] = [];
    sendNowOrQueue(socket, new Uint8Array([1]), '198.18.0.2', (error) => done.push(error));
    expect(done).toEqual([expect.objectContaining({ code: 'ERR_SEND_FAILED', message: expect.stringContaining('198.18.0.2: Operation not permitted') })]);
    // The errno name is read back from the C library's text.
    expect(sendErrorCode(done[0])).toBe('EPERM');
    expect(queued).toEqual([]);
  });
});

/**
 * Loading of portscout's own native raw I/O addon (`src/transport/native/raw-io.c`).
 *
 * The addon sends batches of raw packets with one `sendmmsg` call and reads
 * batches of replies with one `recvmmsg`, with the IPv6 hop limit. It is
 * built by node-gyp when the package installs (Linux only); where it did not
 * build, raw scans run on the `raw-socket` package instead, with the same
 * results and fewer packets per second.
 *
 * The environment variable `PORTSCOUT_RAW_IO` chooses: `native` (the addon,
 * or an `ERR_RAW_UNAVAILABLE` error saying why it cannot load), `raw-socket`
 * (never the addon), or `auto` / unset (the addon when it loads). It is read
 * once, at the first raw scan.
 *
 * @module
 */
import { nodeRequire } from './raw-socket-loader.js';
import { PortscoutError } from '../errors.js';

/** A socket of the addon; opaque to JavaScript. */
export interface NativeRawHandle {
  readonly __nativeRawHandle?: never;
}

/** The addon's functions (see raw-io.c for the exact contract of each). */
export interface NativeRawIo {
  /** Opens a non-blocking raw socket (a buffer size of 0: the kernel's); throws an Error whose `code` is the errno name (`EPERM`, ...). */
  open(family: 4 | 6, protocol: number, receiveBufferBytes: number, headerIncluded: boolean, sendBufferBytes?: number): NativeRawHandle;
  /** Calls `onReadable(status)` whenever the socket is readable (a function), or stops (null). */
  watch(handle: NativeRawHandle, onReadable: ((status: number) => void) | null): void;
  /** Sends `count` packets laid out as (offset, length) pairs; returns how many left, or -errno for the first. */
  sendBatch(handle: NativeRawHandle, packets: Uint8Array, layout: Int32Array, addresses: Uint8Array, families: Uint8Array, count: number): number;
  /** The same on a thread of libuv's pool; `done(result)` runs on the main thread. The buffers must stay unchanged until then. */
  sendBatchAsync(
    handle: NativeRawHandle,
    packets: Uint8Array,
    layout: Int32Array,
    addresses: Uint8Array,
    families: Uint8Array,
    count: number,
    done: (result: number) => void,
  ): void;
  /** Reads up to `maxCount` datagrams into `slotBytes`-sized slots; returns how many, 0 when none waits, or -errno. */
  recvBatch(handle: NativeRawHandle, slab: Uint8Array, slotBytes: number, maxCount: number, meta: Int32Array, sources: Uint8Array): number;
  /** Closes the socket (twice is allowed). */
  close(handle: NativeRawHandle): void;
  /** The socket's file descriptor. */
  fd(handle: NativeRawHandle): number;
  /** Most packets per batch. */
  readonly MAX_BATCH: number;
}

/** Where the built addon lies, relative to this module in the sources and in dist/. */
const CANDIDATES = ['./native/build/Release/portscout_raw_io.node', '../src/transport/native/build/Release/portscout_raw_io.node'];

/** Which raw I/O the process uses: the addon, or the raw-socket package. */
export type RawIoChoice = 'native' | 'raw-socket';

let loaded: NativeRawIo | undefined;
let failure: Error | undefined;

function load(): NativeRawIo | Error {
  if (loaded) return loaded;
  if (failure) return failure;
  if (process.platform !== 'linux') return (failure = new Error(`the native raw I/O addon is built on Linux only (this is ${process.platform})`));
  const require = nodeRequire();
  const errors: string[] = [];
  for (const candidate of CANDIDATES) {
    try {
      const module = require(candidate) as Partial<NativeRawIo>;
      if (typeof module.open === 'function' && typeof module.sendBatch === 'function' && typeof module.sendBatchAsync === 'function' && typeof module.recvBatch === 'function') {
        loaded = module as NativeRawIo;
        return loaded;
      }
      errors.push(`${candidate}: not portscout's raw I/O addon`);
    } catch (error) {
      errors.push(`${candidate}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
    }
  }
  failure = new Error(`the native raw I/O addon is not built (${errors.join('; ')})`);
  return failure;
}

let forced: RawIoChoice | 'auto' | undefined;

function setting(): RawIoChoice | 'auto' {
  if (forced) return forced;
  const value = (process.env.PORTSCOUT_RAW_IO ?? 'auto').trim().toLowerCase();
  if (value === '' || value === 'auto') return 'auto';
  if (value === 'native' || value === 'raw-socket') return value;
  throw new PortscoutError('ERR_INVALID_OPTION', `PORTSCOUT_RAW_IO is ${JSON.stringify(process.env.PORTSCOUT_RAW_IO)}: expected native, raw-socket or auto.`);
}

/**
 * The addon, when it is to be used: undefined when `PORTSCOUT_RAW_IO` is
 * `raw-socket` or (with `auto`) when it does not load.
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE` when `PORTSCOUT_RAW_IO=native` and the addon does not load.
 */
export function nativeRawIo(): NativeRawIo | undefined {
  const choice = setting();
  if (choice === 'raw-socket') return undefined;
  const result = load();
  if (!(result instanceof Error)) return result;
  if (choice === 'native') {
    throw new PortscoutError(
      'ERR_RAW_UNAVAILABLE',
      `PORTSCOUT_RAW_IO=native, but ${result.message}. Rebuild it with \`npm rebuild portscout\` (it needs python3, make and g++), or unset PORTSCOUT_RAW_IO to use raw-socket.`,
      { cause: result },
    );
  }
  return undefined;
}

/**
 * Overrides `PORTSCOUT_RAW_IO` for this process (tests of both paths);
 * undefined goes back to the variable. Takes effect for sockets opened later.
 * @internal
 */
export function forceRawIo(choice: RawIoChoice | 'auto' | undefined): void {
  forced = choice;
}

/**
 * Lazy loading of the optional native `raw-socket` addon.
 *
 * `raw-socket` is an optional dependency: when its native build failed, the
 * library still loads and every pure part (packet builders, target planning,
 * connect scans) works; only raw scans fail, with a {@link PortscoutError}
 * `ERR_RAW_UNAVAILABLE` that says how to fix it.
 *
 * The addon is loaded with `createRequire(import.meta.url)` in the ES module
 * build and `createRequire(__filename)` in the CommonJS build (where esbuild
 * leaves `import.meta` empty unless tsup's `shims: true` fills in the URL;
 * both work).
 *
 * The types below describe the parts of raw-socket 1.8 portscout uses, read
 * from its `index.js` and README.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { PortscoutError } from '../errors.js';

/**
 * Options of `raw.createSocket()`.
 *
 * @example
 * ```ts
 * const options: RawSocketOptions = { protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 };
 * ```
 */
export interface RawSocketOptions {
  /** IP protocol number the socket is opened for (`raw.Protocol.TCP`, ...). Default 0 (`None`). */
  readonly protocol?: number;
  /** `raw.AddressFamily.IPv4` (default) or `raw.AddressFamily.IPv6`. */
  readonly addressFamily?: number;
  /** Size of the receive buffer, i.e. the largest packet received in one piece. Default 4096. */
  readonly bufferSize?: number;
}

/** Called by `send` once the packet was handed to the kernel, or failed. */
export type RawSendCallback = (error: Error | null, bytes: number) => void;

/**
 * A raw socket of the addon (an EventEmitter).
 *
 * @example
 * ```ts
 * const socket = raw.createSocket({ protocol: raw.Protocol.ICMP });
 * socket.on('message', (buffer, source) => console.log(source, buffer.length));
 * socket.send(packet, 0, packet.length, '127.0.0.1', (error, bytes) => socket.close());
 * ```
 */
export interface RawSocket {
  /**
   * Queues a packet for `address` (an IP address, no host name). With IPv4 and
   * `IP_HDRINCL` the buffer starts with the IP header; otherwise the kernel
   * adds it. Errors are reported to the callback, not thrown.
   */
  send(buffer: Uint8Array, offset: number, length: number, address: string, afterCallback: RawSendCallback): RawSocket;
  /** Same, with `beforeCallback` run just before the packet is handed to the kernel (e.g. to set a socket option). */
  send(
    buffer: Uint8Array,
    offset: number,
    length: number,
    address: string,
    beforeCallback: (() => void) | null,
    afterCallback: RawSendCallback,
  ): RawSocket;
  /** `setsockopt` with an integer value; throws an Error with the system message on failure. */
  setOption(level: number, option: number, value: number): void;
  /** `setsockopt` with a buffer value of `length` bytes. */
  setOption(level: number, option: number, value: Buffer, length: number): void;
  /** `getsockopt` into `value`; returns the bytes written. */
  getOption(level: number, option: number, value: Buffer, length: number): number;
  /** Closes the socket; emits `close`. */
  close(): RawSocket;
  /** Stops reading packets (they queue in the kernel until its buffer is full). */
  pauseRecv(): RawSocket;
  /** Resumes reading packets. */
  resumeRecv(): RawSocket;
  /** Stops sending queued packets. */
  pauseSend(): RawSocket;
  /** Resumes sending queued packets. */
  resumeSend(): RawSocket;
  /** A packet arrived from `source` (with IPv4 raw sockets the buffer starts with the IP header, with IPv6 it does not). */
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): RawSocket;
  /** A receive error; the addon closes the socket after emitting it. */
  on(event: 'error', listener: (error: Error) => void): RawSocket;
  /** The socket was closed. */
  on(event: 'close', listener: () => void): RawSocket;
  once(event: 'message', listener: (buffer: Buffer, source: string) => void): RawSocket;
  once(event: 'error', listener: (error: Error) => void): RawSocket;
  once(event: 'close', listener: () => void): RawSocket;
  removeListener(event: 'message' | 'error' | 'close', listener: (...args: never[]) => void): RawSocket;
  removeAllListeners(event?: 'message' | 'error' | 'close'): RawSocket;
}

/**
 * The `raw-socket` module, as far as portscout uses it.
 *
 * @example
 * ```ts
 * const raw: RawSocketModule = loadRawSocket();
 * raw.Protocol.TCP; // 6
 * ```
 */
export interface RawSocketModule {
  /** Opens a raw socket; throws an Error with the system message (e.g. "Operation not permitted"). */
  createSocket(options?: RawSocketOptions): RawSocket;
  /** Address families (the addon also maps the numbers back to the names). */
  readonly AddressFamily: { readonly IPv4: number; readonly IPv6: number };
  /** IP protocol numbers (the addon also maps the numbers back to the names). */
  readonly Protocol: { readonly None: number; readonly ICMP: number; readonly TCP: number; readonly UDP: number; readonly ICMPv6: number };
  /** Option levels for `setOption`. */
  readonly SocketLevel: { readonly SOL_SOCKET: number; readonly IPPROTO_IP: number; readonly IPPROTO_IPV6: number };
  /** Option names for `setOption` (the platform's values). */
  readonly SocketOption: {
    readonly SO_BROADCAST: number;
    readonly SO_RCVBUF: number;
    readonly SO_RCVTIMEO: number;
    readonly SO_SNDBUF: number;
    readonly SO_SNDTIMEO: number;
    readonly IP_HDRINCL: number;
    readonly IP_OPTIONS: number;
    readonly IP_TOS: number;
    readonly IP_TTL: number;
    readonly IPV6_TTL: number;
    readonly IPV6_UNICAST_HOPS: number;
    readonly IPV6_V6ONLY: number;
    /** Linux only. */
    readonly SO_BINDTODEVICE?: number;
  };
  /** Internet checksum over buffers (or `{ buffer, offset, length }` slices). */
  createChecksum(...parts: (Buffer | { buffer: Buffer; offset: number; length: number })[]): number;
  /** Writes a checksum big-endian at `offset`; returns the buffer. */
  writeChecksum(buffer: Buffer, offset: number, checksum: number): Buffer;
  htonl(n: number): number;
  htons(n: number): number;
  ntohl(n: number): number;
  ntohs(n: number): number;
}

/** What `createRequire` returns, as far as portscout uses it. @internal */
export type RequireFunction = (id: string) => unknown;

let loaded: RawSocketModule | undefined;
let failure: PortscoutError | undefined;

/** A `require` for this package's files, in both the ES module and the CommonJS build. @internal */
export function nodeRequire(): RequireFunction {
  // ES module build: a require made from this file's URL. CommonJS build: esbuild turns
  // `import.meta` into `{}` (unless tsup's `shims` fill in the URL), so fall back to this
  // file's name. Not `typeof require`: esbuild's ES module output defines a `__require`
  // stand-in for it that throws "Dynamic require is not supported".
  const url: string | undefined = import.meta.url;
  return createRequire(url ?? __filename);
}

/** The error's first line: Node appends its "Require stack" to module errors, which is no advice. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).trim();
}

function unavailable(error: unknown): PortscoutError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = describe(error);
  const notInstalled = code === 'MODULE_NOT_FOUND' && /['"]raw-socket['"]/.test(message);
  const fix = notInstalled
    ? 'Install it next to portscout (`npm install raw-socket`; it is an optional dependency and needs python3, make and g++ to build).'
    : 'Its native build probably failed: install the build tools (python3, make, g++; on Debian/Ubuntu `apt-get install python3 make g++`) and run `npm rebuild raw-socket`.';
  return new PortscoutError(
    'ERR_RAW_UNAVAILABLE',
    `The native raw-socket addon could not be loaded, so raw (SYN, UDP, ICMP) scans are unavailable: ${message}. ${fix} ` +
      "TCP scans can use `fallback: 'connect'` instead.",
    { cause: error },
  );
}

/**
 * Loads the optional `raw-socket` addon on first use and returns it (cached,
 * as is a failure).
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE` when the addon is missing or its
 *   native build failed; the message gives the underlying error and the fix.
 *
 * @example
 * ```ts
 * const raw = loadRawSocket();
 * const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 });
 * socket.close();
 * ```
 */
export function loadRawSocket(): RawSocketModule {
  if (loaded) return loaded;
  if (failure) throw failure;
  let module: unknown;
  try {
    module = nodeRequire()('raw-socket');
  } catch (error) {
    failure = unavailable(error);
    throw failure;
  }
  const candidate = module as Partial<RawSocketModule> | null;
  if (!candidate || typeof candidate.createSocket !== 'function' || !candidate.Protocol || !candidate.SocketOption) {
    failure = unavailable(new Error('the installed raw-socket package does not export createSocket, Protocol and SocketOption'));
    throw failure;
  }
  loaded = candidate as RawSocketModule;
  return loaded;
}

/**
 * Whether the `raw-socket` addon can be loaded (loads it if not yet done).
 *
 * @example
 * ```ts
 * if (!isRawSocketAvailable()) console.warn('raw scans unavailable; using connect scans');
 * ```
 */
export function isRawSocketAvailable(): boolean {
  try {
    loadRawSocket();
    return true;
  } catch (error) {
    if (error instanceof PortscoutError && error.code === 'ERR_RAW_UNAVAILABLE') return false;
    throw error;
  }
}

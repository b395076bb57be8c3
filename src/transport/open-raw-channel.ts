/**
 * The choice of raw channel: portscout's native addon when it is there and
 * allowed (native-raw-io.ts), else the raw-socket package.
 *
 * @module
 */
import { nativeRawIo } from './native-raw-io.js';
import { openNativeChannel } from './native-channel.js';
import { openRawSocketChannel } from './raw-socket-channel.js';
import { isRawSocketAvailable } from './raw-socket-loader.js';
import type { RawChannel, RawChannelHandlers, RawChannelProtocol } from './raw-channel.js';
import { PortscoutError } from '../errors.js';

/**
 * Opens a raw channel for (family, protocol): the native one when the addon
 * is there, else raw-socket's. IPv4 channels send with `IP_HDRINCL`.
 * `sendBufferBytes` (0: the kernel's default) sizes the socket's send buffer,
 * with CAP_NET_ADMIN beyond `net.core.wmem_max`.
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE`, `ERR_RAW_PERMISSION` or `ERR_RAW_OPEN_FAILED`;
 *   `ERR_INTERNAL` for an `'ip'` channel of IPv6 (there is none).
 */
export function openRawChannel(family: 4 | 6, protocol: RawChannelProtocol, receiveBufferBytes: number, handlers: RawChannelHandlers, sendBufferBytes = 0): RawChannel {
  if (protocol === 'ip' && family !== 4) throw new PortscoutError('ERR_INTERNAL', 'There is no send-only raw IPv6 channel: IPv6 packets are sent without their header, on the socket of their protocol.');
  const native = nativeRawIo();
  if (native) return openNativeChannel(native, family, protocol, receiveBufferBytes, handlers, sendBufferBytes);
  return openRawSocketChannel(family, protocol, receiveBufferBytes, handlers, sendBufferBytes);
}


/**
 * Which raw I/O this process's raw scans use: `'native'` (portscout's own
 * addon: batched `sendmmsg`/`recvmmsg`, IPv6 hop limits), `'raw-socket'` (the
 * fallback package), or undefined when neither loads (raw scans then throw
 * `ERR_RAW_UNAVAILABLE`). `PORTSCOUT_RAW_IO=raw-socket` turns the addon off.
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE` when `PORTSCOUT_RAW_IO=native` and the addon does not load;
 *   `ERR_INVALID_OPTION` for a value of `PORTSCOUT_RAW_IO` it does not know.
 *
 * @example
 * ```ts
 * import { rawIoInUse } from 'portscout';
 * console.log(rawIoInUse() ?? 'connect scans only');
 * ```
 */
export function rawIoInUse(): 'native' | 'raw-socket' | undefined {
  if (nativeRawIo()) return 'native';
  return isRawSocketAvailable() ? 'raw-socket' : undefined;
}

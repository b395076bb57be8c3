/**
 * The choice of raw channel: portscout's native addon when it is there and
 * allowed (native-raw-io.ts), else the raw-socket package.
 *
 * @module
 */
import { nativeRawIo } from './native-raw-io.js';
import { openNativeChannel } from './native-channel.js';
import { openRawSocketChannel } from './raw-socket-channel.js';
import type { RawChannel, RawChannelHandlers, RawChannelProtocol } from './raw-channel.js';

/**
 * Opens a raw channel for (family, protocol): the native one when the addon
 * is there, else raw-socket's. IPv4 channels send with `IP_HDRINCL`.
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE`, `ERR_RAW_PERMISSION` or `ERR_RAW_OPEN_FAILED`.
 */
export function openRawChannel(family: 4 | 6, protocol: RawChannelProtocol, receiveBufferBytes: number, handlers: RawChannelHandlers): RawChannel {
  const native = nativeRawIo();
  if (native) return openNativeChannel(native, family, protocol, receiveBufferBytes, handlers);
  return openRawSocketChannel(family, protocol, receiveBufferBytes, handlers);
}


/**
 * The raw-socket channel: a raw channel on the `raw-socket` package, the
 * fallback where portscout's own addon did not build. One `sendto` per packet
 * and one `recvfrom` per datagram (through the package's native handle
 * directly, raw-socket-direct.ts); no IPv6 hop limit.
 *
 * @module
 */
import { loadRawSocket, type RawSocketModule } from './raw-socket-loader.js';
import { readAllOnReadable, sendNowOrQueue } from './raw-socket-direct.js';
import { MAX_RAW_PACKET, channelClosed, checkChannelAddress, packetTooLarge, type RawChannel, type RawChannelHandlers, type RawChannelProtocol } from './raw-channel.js';
import { rawOpenError } from './privileges.js';

const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const IPPROTO_RAW = 255;
/** Linux's IP_RECVERR (raw-socket's table lacks it). */
const IP_RECVERR = 11;
/** raw-socket's receive buffer: the largest datagram it reads whole. */
const RECEIVE_BYTES = 65_536;

function protocolNumber(raw: RawSocketModule, family: 4 | 6, protocol: RawChannelProtocol): number {
  if (protocol === 'tcp') return raw.Protocol.TCP;
  if (protocol === 'udp') return raw.Protocol.UDP;
  if (protocol === 'ip') return IPPROTO_RAW;
  return family === 4 ? raw.Protocol.ICMP : raw.Protocol.ICMPv6;
}

/**
 * Opens a raw-socket channel. @internal (use openRawChannel)
 *
 * @throws PortscoutError `ERR_RAW_UNAVAILABLE`, `ERR_RAW_PERMISSION` or `ERR_RAW_OPEN_FAILED`.
 */
export function openRawSocketChannel(family: 4 | 6, protocol: RawChannelProtocol, receiveBufferBytes: number, handlers: RawChannelHandlers, sendBufferBytes = 0): RawChannel {
  const raw = loadRawSocket();
  let socket;
  try {
    socket = raw.createSocket({
      protocol: protocolNumber(raw, family, protocol),
      addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
      bufferSize: RECEIVE_BYTES,
    });
  } catch (error) {
    throw rawOpenError(family, error);
  }
  if (family === 4) socket.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
  // The send-only socket: without IP_RECVERR the kernel turns ENOBUFS (the neighbour table full) into success and drops the packet.
  if (protocol === 'ip') {
    try {
      socket.setOption(raw.SocketLevel.IPPROTO_IP, IP_RECVERR, 1);
    } catch (error) {
      socket.close();
      throw rawOpenError(family, error);
    }
  }
  if (receiveBufferBytes > 0) {
    try {
      socket.setOption(SOL_SOCKET, SO_RCVBUFFORCE, receiveBufferBytes);
    } catch {
      // Without CAP_NET_ADMIN the default receive buffer stays; replies may be dropped at high rates.
    }
  }
  if (sendBufferBytes > 0) {
    try {
      socket.setOption(SOL_SOCKET, SO_SNDBUFFORCE, sendBufferBytes);
    } catch {
      // Without CAP_NET_ADMIN: as much as net.core.wmem_max allows.
      try {
        socket.setOption(SOL_SOCKET, raw.SocketOption.SO_SNDBUF, sendBufferBytes);
      } catch {
        // The kernel's default stays.
      }
    }
  }
  let open = true;
  const onDatagram = (buffer: Uint8Array, length: number, source: string): void => handlers.onDatagram(buffer, 0, length, source, undefined);
  const fail = (error: unknown): void => {
    if (!open) return;
    open = false;
    handlers.onError(error);
  };
  // raw-socket closes the socket itself after a receive error.
  socket.on('error', fail);
  let close: () => void = () => socket.close();
  const closeDirect = readAllOnReadable(socket, Buffer.alloc(RECEIVE_BYTES), onDatagram, (error) => {
    close();
    fail(error);
  });
  if (closeDirect) close = closeDirect;
  else socket.on('message', (buffer: Buffer, source: string) => onDatagram(buffer, buffer.length, source));
  socket.pauseRecv();
  let reading = false;
  let lastAddress = '';
  return {
    kind: 'raw-socket',
    send(packet, address, done) {
      if (!open) throw channelClosed(family, protocol);
      if (packet.length > MAX_RAW_PACKET) throw packetTooLarge(packet.length);
      if (address !== lastAddress) checkChannelAddress(family, protocol, address);
      lastAddress = address;
      sendNowOrQueue(socket, packet, address, done);
    },
    setReading(wanted) {
      if (!open || wanted === reading) return;
      reading = wanted;
      if (wanted) socket.resumeRecv();
      else socket.pauseRecv();
    },
    close() {
      if (!open) return;
      open = false;
      close();
    },
  };
}

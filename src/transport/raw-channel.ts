/**
 * A raw channel: one raw socket for one (address family, protocol), the way
 * the packet listener sends probes and reads replies on it, whichever
 * implementation carries the packets:
 *
 * - the native channel (native-channel.ts): portscout's own addon, batched
 *   `sendmmsg` and `recvmmsg`, the IPv6 hop limit;
 * - the raw-socket channel (raw-socket-channel.ts): the `raw-socket` package,
 *   one system call per packet; the fallback where the addon did not build.
 *
 * `openRawChannel` (open-raw-channel.ts) picks one (see native-raw-io.ts for the choice).
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { ipAddressFamily } from '../wire/index.js';

/**
 * Protocols a raw channel carries. `'ip'` is IPv4's send-only socket
 * (`IPPROTO_RAW`): it sends packets of any protocol, whole with their IP
 * header, and never receives (the packet listener's sweep socket).
 */
export type RawChannelProtocol = 'tcp' | 'udp' | 'icmp' | 'ip';

/** What a channel calls with what it reads. */
export interface RawChannelHandlers {
  /**
   * One received datagram: `length` bytes of `buffer` from `offset` (memory
   * the channel reuses: copy what you keep). `source` is the sender's text;
   * `hopLimit` the IPv6 hop limit where the channel can read it.
   */
  onDatagram(buffer: Uint8Array, offset: number, length: number, source: string, hopLimit: number | undefined): void;
  /** A datagram larger than the channel reads in one piece was cut short and dropped. */
  onTruncated(): void;
  /** A receive error; the channel has closed. */
  onError(error: unknown): void;
}

/** One raw socket, as the packet listener uses it. */
export interface RawChannel {
  /** Which implementation carries the packets. */
  readonly kind: 'native' | 'raw-socket';
  /**
   * Sends one packet to `address` (IPv4 packets start with their IP header).
   * The caller may reuse `packet` when this returns. `done` is called once:
   * with null when the kernel took the packet, or with the error (a
   * `PortscoutError` whose cause carries the errno) when it never left.
   *
   * @throws PortscoutError `ERR_RAW_SOCKET_CLOSED` after {@link close};
   *   `ERR_PACKET_TOO_LARGE` for more than 65,535 bytes; `ERR_FAMILY_MISMATCH`
   *   for an address of the other family.
   */
  send(packet: Uint8Array, address: string, done: (error: Error | null) => void): void;
  /** Starts or stops reading (a channel that does not read does not keep the process alive). */
  setReading(reading: boolean): void;
  /** Closes the socket; packets still waiting to leave fail with `ERR_RAW_SOCKET_CLOSED`. */
  close(): void;
}

/** Largest IP packet a channel sends. */
export const MAX_RAW_PACKET = 65_535;

/** The coded error for a packet too large to send. @internal */
export function packetTooLarge(length: number): PortscoutError {
  return new PortscoutError('ERR_PACKET_TOO_LARGE', `A raw packet of ${length} bytes cannot be sent: an IP packet holds at most ${MAX_RAW_PACKET} bytes.`);
}

/** The coded error for a send on a closed channel. @internal */
export function channelClosed(family: 4 | 6, protocol: RawChannelProtocol): PortscoutError {
  return new PortscoutError('ERR_RAW_SOCKET_CLOSED', `The raw ${protocol} socket for IPv${family} is closed.`);
}

/**
 * Checks that `address` is an IP address of the channel's family.
 * @throws PortscoutError `ERR_INVALID_TARGET` (not an address) or `ERR_FAMILY_MISMATCH`.
 * @internal
 */
export function checkChannelAddress(family: 4 | 6, protocol: RawChannelProtocol, address: string): void {
  const addressFamily = ipAddressFamily(address);
  if (addressFamily === family) return;
  if (addressFamily === 0) throw new PortscoutError('ERR_INVALID_TARGET', `"${address}" is not an IP address; a raw packet goes to an address.`);
  throw new PortscoutError('ERR_FAMILY_MISMATCH', `An IPv${addressFamily} address (${address}) cannot be sent to on the raw IPv${family} ${protocol} socket.`);
}

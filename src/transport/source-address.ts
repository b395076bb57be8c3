/**
 * The local address the kernel would use to reach a destination.
 *
 * Raw probes carry their source address (it enters the TCP and UDP checksums),
 * so the scanner asks the kernel's routing table which local address it would
 * pick: a UDP socket is connected to the destination and its local address is
 * read. Connecting a UDP socket only chooses a route; no packet is sent.
 * Broadcast destinations (the `.255` of a /24) are allowed, so they get an
 * answer like any other address.
 *
 * @module
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { PortscoutError } from '../errors.js';

/** Any port will do: connecting a UDP socket sends nothing. 9 is "discard". */
const ANY_PORT = 9;

/** Errors of connect(2) on a UDP socket that mean "no usable route". */
const NO_ROUTE_CODES: ReadonlySet<string> = new Set([
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EINVAL',
  'EADDRNOTAVAIL',
  'EAFNOSUPPORT',
  'ENETDOWN',
  'EHOSTDOWN',
]);

function noRoute(destination: string, family: 4 | 6, error: NodeJS.ErrnoException): PortscoutError {
  const code = error.code ?? 'error';
  return new PortscoutError(
    'ERR_NO_ROUTE',
    `No route from this host to ${destination} (IPv${family}, ${code}): the kernel has no usable route or source address for it. ` +
      `Check that an interface with an IPv${family} address is up and that a route (or default route) covers ${destination} ` +
      `(\`ip -${family} route get ${destination}\`).`,
    { cause: error },
  );
}

/**
 * The kernel's choice of local address for packets to `destination`.
 *
 * @param destination an IPv4 or IPv6 address (no host name) of the given family
 * @throws PortscoutError `ERR_NO_ROUTE` when there is no route to it (ENETUNREACH,
 *   EHOSTUNREACH, EINVAL, ...), `ERR_INVALID_OPTION` when it is not an address of that family.
 *
 * @example
 * ```ts
 * await pickSourceAddress('127.0.0.1', 4); // '127.0.0.1'
 * await pickSourceAddress('::1', 6);       // '::1'
 * ```
 */
export function pickSourceAddress(destination: string, family: 4 | 6): Promise<string> {
  if (family !== 4 && family !== 6) {
    return Promise.reject(new PortscoutError('ERR_INVALID_OPTION', `Invalid address family ${String(family)}: expected 4 or 6.`));
  }
  if (isIP(destination) !== family) {
    return Promise.reject(
      new PortscoutError('ERR_INVALID_OPTION', `Invalid destination ${JSON.stringify(destination)}: expected an IPv${family} address.`),
    );
  }
  return new Promise<string>((resolve, reject) => {
    let socket: Socket;
    let settled = false;
    const finish = (error: Error | null, address?: string): void => {
      if (settled) return;
      settled = true;
      try {
        socket.close();
      } catch {
        // Already closed.
      }
      if (error) {
        const errno = error as NodeJS.ErrnoException;
        reject(errno.code !== undefined && NO_ROUTE_CODES.has(errno.code) ? noRoute(destination, family, errno) : error);
      } else {
        resolve(address as string);
      }
    };
    try {
      socket = createSocket(family === 4 ? 'udp4' : 'udp6');
    } catch (error) {
      reject(error);
      return;
    }
    socket.on('error', (error) => finish(error));
    // Bind first so broadcast can be allowed: without SO_BROADCAST the kernel refuses to
    // connect to a broadcast address (EACCES), e.g. the .255 of a scanned /24.
    socket.bind(0, () => {
      if (settled) return;
      try {
        if (family === 4) socket.setBroadcast(true);
        socket.connect(ANY_PORT, destination, (error?: Error) => {
          if (error) {
            finish(error);
            return;
          }
          try {
            finish(null, socket.address().address);
          } catch (addressError) {
            finish(addressError as Error);
          }
        });
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}

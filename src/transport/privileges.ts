/**
 * Whether this process may open raw sockets (Linux: capability CAP_NET_RAW).
 *
 * The check is real: it opens a raw ICMP (IPv4) or ICMPv6 (IPv6) socket and
 * closes it at once. Nothing is sent. A success is cached per family; a
 * failure is not, so a later call sees a change of privileges.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { loadRawSocket } from './raw-socket-loader.js';
import { nativeRawIo } from './native-raw-io.js';

const permitted = new Set<4 | 6>();

/** The addon throws Errors whose message is strerror(errno); Node-style errors carry a code. */
function isPermissionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EPERM' || code === 'EACCES') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /operation not permitted|permission denied/i.test(message);
}

function permissionError(family: 4 | 6, error: unknown): PortscoutError {
  const reason = error instanceof Error ? error.message : String(error);
  return new PortscoutError(
    'ERR_RAW_PERMISSION',
    `Opening a raw IPv${family} socket was refused (${reason}): raw sockets need the CAP_NET_RAW capability. ` +
      'Run as root, or give node the capability: `sudo setcap cap_net_raw+ep $(readlink -f $(which node))`, ' +
      "or, for TCP scans, use `fallback: 'connect'` (a connect scan needs no privileges).",
    { cause: error },
  );
}

/**
 * The coded error for a raw socket the kernel would not open:
 * `ERR_RAW_PERMISSION` without CAP_NET_RAW, else `ERR_RAW_OPEN_FAILED`.
 * @internal
 */
export function rawOpenError(family: 4 | 6, error: unknown): PortscoutError {
  if (isPermissionError(error)) return permissionError(family, error);
  return new PortscoutError(
    'ERR_RAW_OPEN_FAILED',
    `Could not open a raw IPv${family} socket: ${error instanceof Error ? error.message : String(error)}.` +
      (family === 6 ? ' Is IPv6 enabled in this kernel?' : ''),
    { cause: error },
  );
}

function checkFamily(family: number): asserts family is 4 | 6 {
  if (family !== 4 && family !== 6) {
    throw new PortscoutError('ERR_INVALID_OPTION', `Invalid address family ${String(family)}: expected 4 or 6.`);
  }
}

/**
 * Throws unless this process may open raw sockets of the family.
 *
 * @throws PortscoutError `ERR_RAW_PERMISSION` (missing CAP_NET_RAW; the message
 *   says how to fix it), `ERR_RAW_UNAVAILABLE` (the addon could not be loaded),
 *   `ERR_RAW_OPEN_FAILED` (another failure, e.g. IPv6 disabled in the kernel).
 *
 * @example
 * ```ts
 * try {
 *   checkRawPermission(4);
 * } catch (err) {
 *   if (err instanceof PortscoutError && err.code === 'ERR_RAW_PERMISSION') console.error(err.message);
 * }
 * ```
 */
export function checkRawPermission(family: 4 | 6): void {
  checkFamily(family);
  if (permitted.has(family)) return;
  const native = nativeRawIo();
  const raw = native ? undefined : loadRawSocket();
  try {
    if (native) {
      native.close(native.open(family, family === 4 ? 1 : 58, 0, false));
    } else if (raw) {
      const socket = raw.createSocket({
        protocol: family === 4 ? raw.Protocol.ICMP : raw.Protocol.ICMPv6,
        addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
      });
      socket.close();
    }
  } catch (error) {
    throw rawOpenError(family, error);
  }
  permitted.add(family);
}

/**
 * Whether this process may open raw sockets of the family (false also when
 * the addon is unavailable).
 *
 * @example
 * ```ts
 * const useRaw = hasRawPermission(4);
 * ```
 */
export function hasRawPermission(family: 4 | 6): boolean {
  try {
    checkRawPermission(family);
    return true;
  } catch (error) {
    if (
      error instanceof PortscoutError &&
      (error.code === 'ERR_RAW_PERMISSION' || error.code === 'ERR_RAW_UNAVAILABLE' || error.code === 'ERR_RAW_OPEN_FAILED')
    ) {
      return false;
    }
    throw error;
  }
}

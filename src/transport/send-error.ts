/**
 * The errno name of a failed send. raw-socket reports a failed `sendto` as
 * an Error whose message is the C library's text for the errno ("Operation
 * not permitted"), with no code; this reads the name back from Node's table
 * of system errors.
 *
 * @module
 */
import { getSystemErrorMap } from 'node:util';

let byMessage: Map<string, string> | undefined;

function messageTable(): Map<string, string> {
  if (!byMessage) {
    byMessage = new Map();
    for (const [name, description] of getSystemErrorMap().values()) byMessage.set(description.toLowerCase(), name);
  }
  return byMessage;
}

/**
 * The errno name (`EPERM`, `ENOBUFS`, `ENETUNREACH`, ...) of a send error, or
 * of its cause; `'UNKNOWN'` when none can be read.
 *
 * @example
 * ```ts
 * sendErrorCode(new Error('Operation not permitted')); // 'EPERM'
 * ```
 */
export function sendErrorCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    const name = messageTable().get(e.message.toLowerCase());
    if (name) return name;
  }
  return 'UNKNOWN';
}

/**
 * Refusals that sending again cannot change: `EACCES` is the kernel refusing
 * a packet to a broadcast address (a subnet's last address, on a socket
 * without `SO_BROADCAST`; or a security module's denial). A probe refused so
 * is reported at once as a send error instead of being sent again after
 * pauses (a transient refusal, such as a firewall rule or `ENOBUFS`, is).
 *
 * @example
 * ```ts
 * isPermanentRefusal('EACCES'); // true: a /24's .255 with raw sockets
 * isPermanentRefusal('EPERM'); // false: an OUTPUT rule may go away
 * ```
 */
export function isPermanentRefusal(code: string): boolean {
  return code === 'EACCES';
}

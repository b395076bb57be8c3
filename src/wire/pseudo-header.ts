/**
 * The addresses a TCP, UDP or ICMPv6 checksum covers through the IP
 * pseudo-header.
 *
 * @module
 */
import { addressBytes } from './ip-address.js';
import { WireError } from './wire-error.js';

/**
 * Source and destination of the enclosing IP packet, as text or bytes. The
 * family (IPv4 or IPv6 pseudo-header) follows from the addresses.
 *
 * @example
 * ```ts
 * const pseudo: PseudoHeaderAddresses = { source: '127.0.0.1', destination: '127.0.0.1' };
 * ```
 */
export interface PseudoHeaderAddresses {
  readonly source: string | Uint8Array;
  readonly destination: string | Uint8Array;
}

/**
 * Resolves pseudo-header addresses to bytes of one family. Throws `WireError`
 * (`ERR_WIRE_ADDRESS_FAMILY`) when the two addresses differ in family, or
 * when `family` is given and they are not of it.
 *
 * @example
 * ```ts
 * pseudoHeaderBytes({ source: '::1', destination: '::1' }, 'TCP'); // { source: 16 bytes, destination: 16 bytes }
 * ```
 */
export function pseudoHeaderBytes(
  pseudo: PseudoHeaderAddresses,
  what: string,
  family?: 4 | 6,
): { readonly source: Uint8Array; readonly destination: Uint8Array } {
  const source = addressBytes(pseudo.source, family, `${what} pseudo-header source address`);
  const destination = addressBytes(pseudo.destination, family ?? (source.length === 4 ? 4 : 6), `${what} pseudo-header destination address`);
  if (source.length !== destination.length) {
    throw new WireError('ERR_WIRE_ADDRESS_FAMILY', `${what} pseudo-header addresses must be of the same family`);
  }
  return { source, destination };
}

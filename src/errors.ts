/**
 * Errors shared by every layer of portscout.
 *
 * Every error portscout throws on purpose is a {@link PortscoutError} with a
 * stable `code` that callers can branch on; the message is for people and may
 * change between versions, the code will not.
 *
 * @module
 */

/**
 * Every code a {@link PortscoutError} can carry, with what it means and what
 * to do. Codes are stable across versions; messages are for people and name
 * the exact input or condition.
 *
 * @example
 * ```ts
 * console.log(ERROR_CODES.ERR_INVALID_PORTS);
 * ```
 */
export const ERROR_CODES = {
  ERR_INVALID_OPTION: 'An option has the wrong type or value, or options that exclude each other were combined. The message names the option and what it accepts.',
  ERR_INVALID_TARGET: 'A target (address, range, CIDR block or host name) could not be read. The message quotes it and shows the forms accepted.',
  ERR_INVALID_PORTS: 'A port specification could not be read, or names a port outside 0-65535. The message quotes the part at fault.',
  ERR_INVALID_SERVICES: 'A services table (nmap-services format) could not be read. The message names the line.',
  ERR_INVALID_CURSOR: "A resume cursor is malformed, or belongs to another scan (its plan fingerprint differs). Resume with the cursor of the same scan's events.",
  ERR_INVALID_EVENT: 'A value given as an event is not an object with a string type, or a JSON Lines line is not one JSON document of a known event type. The message names the line or the value.',
  ERR_OUTPUT_CLOSED: 'An output stream was ended or destroyed while events were still being written to it. The lines or records written before are complete; give the formatter a stream that stays open until it resolves.',
  ERR_SCAN_SPACE_TOO_LARGE: 'The scan has more (host, port) pairs than a plan can number (2^53). Split the targets, or scan by shards.',
  ERR_TOO_MANY_SCANS: 'Every block of source ports is taken by raw scans running in this process. Wait for one to end.',
  ERR_RAW_UNAVAILABLE: 'The native raw-socket addon is not installed or did not load. Install it (npm install raw-socket; it builds with node-gyp) or use a connect scan.',
  ERR_RAW_PERMISSION: 'Raw sockets need CAP_NET_RAW. Run as root, or grant the capability to node (setcap cap_net_raw+ep), or use a connect scan.',
  ERR_RAW_OPEN_FAILED: 'The kernel refused to open a raw socket for a reason other than permission. The message gives its error.',
  ERR_SEND_FAILED: 'The kernel refused to send a probe (a firewall rule, a link gone down, no buffer space left). The message gives its error.',
  ERR_RAW_SOCKET_CLOSED: 'A raw socket was closed, or closed after a receive error while the scan ran; the scan ends rather than report silence as filtered.',
  ERR_SEND_QUEUE_FULL: "A raw socket's send queue (portscout's native addon) is full because the kernel has taken no packets for a while; the probe was not sent and decides nothing. Lower the rate.",
  ERR_PACKET_TOO_LARGE: 'A raw packet is larger than an IP packet can be (65,535 bytes); it was not sent.',
  ERR_FAMILY_MISMATCH: 'A packet for an address of one family (IPv4 or IPv6) was given to a raw socket of the other; send IPv4 packets on IPv4 sockets and IPv6 packets on IPv6 sockets.',
  ERR_NO_ROUTE: 'The routing table has no route to a target. Scans report this as a NO_ROUTE warning and skip the address.',
  ERR_LISTENER_RELEASED: 'A scan that has ended tried to send. This is a bug in a custom probe module or in portscout.',
  ERR_CONNECT_WORKER: 'A connect worker thread failed or exited while the scan ran. The cause holds its error.',
  ERR_INTERNAL: "An internal invariant failed. This is a bug in portscout: please report it with the scan's options.",
  ERR_REDIS_UNREACHABLE: 'A distributed scan (portscout/distributed) could not reach Redis within its connection timeout. The message names the address and the last connection error; check that Redis runs there and accepts connections, then call again.',
  ERR_SCAN_NOT_FOUND: 'No distributed scan with this id is recorded in Redis (a mistyped id, another key prefix or Redis database, or a Redis that lost its data). Use the id enqueueScan returned, with the same connection.',
  ERR_SHARD_FAILED: 'A shard of a distributed scan failed after every attempt BullMQ allowed it, so the scan is incomplete. The events recorded so far were delivered; the message gives the shard and its last error. resumeScan re-queues the unfinished shards from their saved cursors.',
  ERR_WIRE_FIELD_RANGE: "A packet builder was given a field value outside the field's range. The message names the field and its range.",
  ERR_WIRE_ADDRESS_FAMILY: 'A packet builder was given an address of the wrong family (IPv6 for an IPv4 packet, or the reverse).',
  ERR_WIRE_ADDRESS_SYNTAX: 'A packet builder was given address text it cannot read.',
  ERR_WIRE_BUFFER_TOO_SMALL: 'A packet builder was given an output buffer smaller than the packet.',
} as const;

/**
 * The stable codes of {@link PortscoutError}: the keys of {@link ERROR_CODES}.
 *
 * @example
 * ```ts
 * const retryable: PortscoutErrorCode[] = ['ERR_TOO_MANY_SCANS'];
 * ```
 */
export type PortscoutErrorCode = keyof typeof ERROR_CODES;

/** The process-wide brand of portscout's errors (one symbol for every copy of the library). */
const PORTSCOUT_ERROR: unique symbol = Symbol.for('portscout.error') as never;

/**
 * Base class of every error portscout throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   parsePortSpec('1-70000');
 * } catch (err) {
 *   if (err instanceof PortscoutError && err.code === 'ERR_INVALID_PORTS') console.error(err.message);
 * }
 * ```
 */
export class PortscoutError extends Error {
  /** Stable machine-readable code, e.g. `ERR_INVALID_TARGET`: see {@link ERROR_CODES}. */
  readonly code: PortscoutErrorCode;

  constructor(code: PortscoutErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `instanceof` by brand, as undici's errors do: the ESM and CJS builds, and
   * each entry point of them, bundle their own copy of this class, and an
   * error from one must still be an instance of every other's. A subclass
   * (such as `WireError`) matches branded errors of its own name, in any copy.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[PORTSCOUT_ERROR] !== true) return false;
    return this === PortscoutError || (value as Error).name === this.name;
  }

  /** The brand {@link PortscoutError}'s `instanceof` reads. */
  get [PORTSCOUT_ERROR](): true {
    return true;
  }
}

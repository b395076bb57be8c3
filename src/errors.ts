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
  /** Stable machine-readable code, e.g. `ERR_INVALID_TARGET`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

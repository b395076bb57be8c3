/**
 * Errors shared by every layer of portscout.
 *
 * Every error portscout throws on purpose is a {@link PortscoutError} with a
 * stable `code` that callers can branch on; the message is for people and may
 * change between versions, the code will not.
 *
 * @module
 */

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
  /** Stable machine-readable code, e.g. `ERR_INVALID_TARGET`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
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

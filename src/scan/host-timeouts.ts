/**
 * nmap's `--host-timeout`: give up on a host once this long has passed since
 * its first probe. Shared by the raw engine and the connect scan.
 *
 * @module
 */

/**
 * Tracks when each host's time started and which hosts ran out of it.
 * Without a limit (undefined or 0) it keeps nothing and never expires.
 *
 * @example
 * ```ts
 * const timeouts = new HostTimeouts(60_000, (address, limit) => warn(address, limit));
 * if (timeouts.isOver(target.address, performance.now())) return; // skip the host
 * ```
 */
export class HostTimeouts {
  private readonly started = new Map<string, number>();
  private readonly expired = new Set<string>();

  /** @param onExpire called once per host whose time runs out */
  constructor(
    private readonly limitMs: number | undefined,
    private readonly onExpire: (address: string, limitMs: number) => void,
  ) {}

  /** Whether the host's time is up; the first call for a host starts its time. */
  isOver(address: string, now: number): boolean {
    const limit = this.limitMs;
    if (limit === undefined || limit <= 0) return false;
    if (this.expired.has(address)) return true;
    const started = this.started.get(address);
    if (started === undefined) {
      this.started.set(address, now);
      return false;
    }
    if (now - started <= limit) return false;
    this.expired.add(address);
    this.started.delete(address);
    this.onExpire(address, limit);
    return true;
  }
}

/** The warning a scan gives for a host whose time ran out. */
export function hostTimeoutWarning(address: string, limitMs: number): { type: 'warning'; code: 'HOST_TIMEOUT'; message: string; target: string } {
  return { type: 'warning', code: 'HOST_TIMEOUT', message: `Skipping ${address}: host timeout of ${limitMs} ms reached.`, target: address };
}

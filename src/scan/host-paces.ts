/**
 * Per-host send pacing, shared by the scans of the process that adapt to
 * rate limits.
 *
 * A host that rate-limits its answers (Linux sends about one ICMP error per
 * second after a burst) has one budget for every prober that asks it. Two
 * UDP scans of one host that paced themselves apart would each read the
 * answers the other used up as their own rate limit, and slow down twice
 * (one run: 31 s and 73 s where one scan alone took 34 s and the host's
 * budget allows both in about 60 s). Sharing the pace makes them take turns
 * at the speed the host allows.
 *
 * @module
 */

/** How fast probes may go to one host. */
export interface HostPace {
  /** Milliseconds between probes to the host. */
  delayMs: number;
  /** When the next probe may go (performance.now() time). */
  nextSendAt: number;
  /** When the host last answered a retransmitted probe. */
  lastLateAnswerAt: number | undefined;
  /** First tries answered since the delay last changed. */
  firstTryAnswers: number;
}

/**
 * Paces by host address, held by the scans that use them.
 *
 * @example
 * ```ts
 * const pace = SHARED_HOST_PACES.acquire('198.18.0.2', 0);
 * // ... every scan of 198.18.0.2 that adapts to rate limits sees the same pace
 * SHARED_HOST_PACES.release('198.18.0.2');
 * ```
 */
export class SharedHostPaces {
  private readonly paces = new Map<string, { pace: HostPace; users: number }>();

  /** The host's pace, created with `delayMs` if no scan holds it; at least `delayMs` apart. */
  acquire(address: string, delayMs: number): HostPace {
    const held = this.paces.get(address);
    if (held) {
      held.users++;
      if (held.pace.delayMs < delayMs) held.pace.delayMs = delayMs;
      return held.pace;
    }
    const pace: HostPace = { delayMs, nextSendAt: 0, lastLateAnswerAt: undefined, firstTryAnswers: 0 };
    this.paces.set(address, { pace, users: 1 });
    return pace;
  }

  /** One scan is done with the host's pace; the last one forgets it. */
  release(address: string): void {
    const held = this.paces.get(address);
    if (!held) return;
    held.users--;
    if (held.users <= 0) this.paces.delete(address);
  }

  /** Hosts with a pace held now. */
  get size(): number {
    return this.paces.size;
  }
}

/** The process's shared paces. */
export const SHARED_HOST_PACES = new SharedHostPaces();

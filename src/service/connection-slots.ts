/**
 * The connections one host gets at once during service detection, handed
 * out by plan position: the first probe of every port before the second
 * probe of any, and so on. A port whose early probes wait (a silent NULL
 * probe holds its connection for 6 s) then never holds back the first
 * probes of the host's other ports, as a first-come queue would. Each port
 * also has a limit of its own, so that one service never gets all of a
 * host's connections.
 *
 * @module
 */

interface Waiting {
  readonly priority: number;
  /** The inner slots the task also needs (a port's), when it was queued through them. */
  readonly inner: ConnectionSlots | undefined;
  readonly start: () => void;
}

/**
 * A limit on concurrent tasks, with the lowest priority number served first
 * (first come first served among equals), optionally inside a wider limit
 * (a port's connections within its host's): a task then runs once both
 * have room, and waits in the wider limit's one queue, so a task of a low
 * number never waits behind a port's later tasks.
 *
 * @example
 * ```ts
 * const slots = new ConnectionSlots(8);
 * const answer = await slots.run(0, () => exchange(target, options)); // a port's first probe
 * ```
 */
export class ConnectionSlots {
  private active = 0;
  private queued = 0;
  /** Sorted by priority, stable (the outermost slots' queue holds every task waiting inside them too). */
  private readonly waiting: Waiting[] = [];

  /**
   * @param limit - tasks running at once (at least 1)
   * @param parent - a wider limit these slots lie within (a port's within its host's): a task needs room in both
   * @example
   * ```ts
   * const host = new ConnectionSlots(16);
   * const port = new ConnectionSlots(8, host); // at most 8 for this port, 16 for all the host's ports
   * ```
   */
  constructor(
    readonly limit: number,
    readonly parent?: ConnectionSlots,
  ) {}

  /** Tasks waiting for a slot (here, or in the wider limit for one here). */
  get pending(): number {
    return this.queued;
  }

  /** Tasks running. */
  get running(): number {
    return this.active;
  }

  /**
   * Runs `task` once a slot is free (here and in the wider limit) and no
   * task of a lower priority number that could run waits.
   *
   * A task still waiting when `signal` aborts leaves the queue at once, and
   * the promise rejects with the signal's reason.
   *
   * @param priority - the task's plan position (0 first)
   * @param task - starts the work; its promise settling frees the slot
   * @param signal - gives up the wait
   * @example
   * ```ts
   * await slots.run(position, () => exchange(target, options), signal);
   * ```
   */
  run<T>(priority: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.parent) return this.parent.enqueue(priority, this, task, signal);
    return this.enqueue(priority, undefined, task, signal);
  }

  private enqueue<T>(priority: number, inner: ConnectionSlots | undefined, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const counted = (delta: number): void => {
        this.queued += delta;
        if (inner) inner.queued += delta;
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        counted(-1);
        reject(signal?.reason);
      };
      const start = (): void => {
        signal?.removeEventListener('abort', onAbort);
        counted(-1);
        this.active++;
        if (inner) inner.active++;
        let result: Promise<T>;
        try {
          result = task();
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(resolve, reject).finally(() => {
          this.active--;
          if (inner) inner.active--;
          this.next();
        });
      };
      const entry: Waiting = { priority, inner, start };
      signal?.addEventListener('abort', onAbort, { once: true });
      let at = this.waiting.length;
      while (at > 0 && (this.waiting[at - 1] as Waiting).priority > priority) at--;
      this.waiting.splice(at, 0, entry);
      counted(1);
      this.next();
    });
  }

  /** Starts waiting tasks in order while there is room; one whose inner slots are full lets the next go. */
  private next(): void {
    for (let i = 0; i < this.waiting.length && this.active < this.limit; ) {
      const entry = this.waiting[i] as Waiting;
      if (entry.inner && entry.inner.active >= entry.inner.limit) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      entry.start();
    }
  }
}

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
  readonly start: () => void;
}

/**
 * A limit on concurrent tasks, with the lowest priority number served first
 * (first come first served among equals), optionally inside a wider limit
 * (a port's connections within its host's).
 *
 * @example
 * ```ts
 * const slots = new ConnectionSlots(8);
 * const answer = await slots.run(0, () => exchange(target, options)); // a port's first probe
 * ```
 */
export class ConnectionSlots {
  private active = 0;
  /** Sorted by priority, stable. */
  private readonly waiting: Waiting[] = [];

  /**
   * @param limit - tasks running at once (at least 1)
   * @param parent - slots a task also needs once it has one of these (a port's within its host's): it waits for both
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

  /** Tasks waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Tasks holding a slot here (with a parent, some of them may still wait for one of its slots). */
  get running(): number {
    return this.active;
  }

  /**
   * Runs `task` once a slot is free and no task of a lower priority number waits.
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
    const parent = this.parent;
    // A slot here first, then the parent's: the order is the same for every task, so none waits on another in a cycle.
    if (parent) return this.runHere(priority, () => parent.run(priority, task, signal), signal);
    return this.runHere(priority, task, signal);
  }

  private runHere<T>(priority: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(signal?.reason);
      };
      const start = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        let result: Promise<T>;
        try {
          result = task();
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(resolve, reject).finally(() => {
          this.active--;
          this.next();
        });
      };
      const entry: Waiting = { priority, start };
      signal?.addEventListener('abort', onAbort, { once: true });
      let at = this.waiting.length;
      while (at > 0 && (this.waiting[at - 1] as Waiting).priority > priority) at--;
      this.waiting.splice(at, 0, entry);
      this.next();
    });
  }

  private next(): void {
    while (this.active < this.limit && this.waiting.length > 0) (this.waiting.shift() as Waiting).start();
  }
}

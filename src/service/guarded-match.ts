/**
 * Running regular expressions with a time budget per pattern. JavaScript
 * regexes have no step limit, so a hostile subject can make a pattern
 * backtrack for minutes; nmap stops such a pattern at PCRE's match limit and
 * counts it as "no match". {@link GuardedMatcher} gives the same answer: the
 * patterns run in a worker thread, which writes the pattern it is trying into
 * a `SharedArrayBuffer`; when one pattern runs past its budget the main thread
 * terminates the worker, counts that pattern as no match, starts a new worker
 * and resumes with the next pattern.
 *
 * The worker is built from a string of plain CommonJS (`eval: true`), so no
 * separate file has to ship next to a bundle. It is unref'd while no request
 * is pending: an idle matcher never keeps the process alive.
 *
 * Use it for the patterns {@link patternRisk} calls `'risky'`; safe patterns
 * are cheaper to run inline.
 *
 * @module
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** An idle matcher's worker ends after this many milliseconds (the next request starts a new one). */
export const GUARDED_IDLE_MS = 10_000;

/** The match of one pattern: like a `RegExpExecArray`, as a plain array (`undefined` for groups that did not participate). */
export type GuardedResult = (string | undefined)[] | null;

/** Options of {@link GuardedMatcher.match}. */
export interface GuardedMatchOptions {
  /** The most time one pattern may run (ms); past it the pattern counts as no match. */
  readonly budgetMs: number;
  /**
   * Stop at the first pattern that matches (the results then end with it).
   * With {@link GuardedMatchOptions.soft}, only a match of a pattern not
   * marked soft stops.
   */
  readonly firstOnly?: boolean;
  /**
   * With `firstOnly`: which of the asked patterns (by position in `indices`)
   * are softmatches. A soft pattern's match does not stop the run, and once
   * one soft pattern matched, the later soft ones are skipped (nmap keeps
   * the first softmatch and looks on for a hard match).
   */
  readonly soft?: readonly boolean[];
  /**
   * Pattern indices (as in `indices`) to count as no match without running
   * them: those known to run out of budget on this subject already.
   */
  readonly skip?: readonly number[];
  /** Also report the time each pattern took (ms), in {@link GuardedMatchOutcome.timesMs}. */
  readonly measure?: boolean;
  /** Requests with a lower number are served first (default 0; first come among equals). */
  readonly priority?: number;
  /**
   * Gives the request up: queued, it leaves the queue; running, its worker
   * is terminated (the next request starts a new one). The promise rejects
   * with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

/** What {@link GuardedMatcher.match} resolves with. */
export interface GuardedMatchOutcome {
  /** For each index asked, in order (up to the first match when `firstOnly`): the match, or null (no match, over budget, or an invalid source). */
  readonly results: GuardedResult[];
  /** The indices (pattern indices, as passed) that ran out of budget. */
  readonly overBudget: number[];
  /** With `measure`: the milliseconds each result took (the budget, or a little more, for those over budget). */
  readonly timesMs?: number[];
}

/* The worker. progress (Int32Array on a SharedArrayBuffer):
 *   [0] seq: incremented before each pattern is started
 *   [1] pos: the position (in the request's index list) being run (stored before seq is incremented)
 *   [2] done: the seq of the last pattern finished
 *   [3] tid: the worker's thread id (Linux), for the watchdog's reading of its CPU time
 * Messages (on the port it is given): { hit: [pos, match, ms] } for each match
 * (and each timing with measure), { end: id } when the request is done. */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const progress = new Int32Array(workerData.progress);
// Below the main thread's priority (Linux: a thread's nice value is set through its id), so that
// patterns running to their budget never take the CPU from the event loop that drives the scan.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) {
    Atomics.store(progress, 3, tid);
    require('node:os').setPriority(tid, 10);
  }
} catch {}
const port = workerData.port;
const sources = JSON.parse(workerData.sources);
const compiled = new Map();
function regexOf(index) {
  let r = compiled.get(index);
  if (r === undefined) {
    const source = sources[index];
    try { r = source === undefined ? null : new RegExp(source); } catch { r = null; }
    compiled.set(index, r);
  }
  return r;
}
// Compile every pattern ahead of use, a slice at a time (requests are served between slices).
let warmed = 0;
function warm() {
  const end = Math.min(sources.length, warmed + 256);
  for (; warmed < end; warmed++) {
    const regex = regexOf(warmed);
    if (regex) { regex.lastIndex = 0; regex.exec(''); }
  }
  if (warmed < sources.length) setImmediate(warm);
  else warming = false;
}
let warming = workerData.warm;
if (warming) setImmediate(warm);
port.on('message', (req) => {
  if (req.add !== undefined) {
    // Sources appended (a database still loading): compile them ahead of use too.
    for (const source of req.add) sources.push(source);
    if (workerData.warm && !warming) { warming = true; setImmediate(warm); }
    return;
  }
  const { id, subject, indices, from, firstOnly, measure, soft } = req;
  const skip = new Set(req.skip);
  let softFound = req.softFound;
  for (let pos = from; pos < indices.length; pos++) {
    const isSoft = soft !== undefined && soft[pos] === true;
    if ((isSoft && softFound) || skip.has(indices[pos])) continue;
    Atomics.store(progress, 1, pos);
    const seq = Atomics.add(progress, 0, 1) + 1;
    const regex = regexOf(indices[pos]);
    const t0 = measure ? performance.now() : 0;
    let m = null;
    if (regex) { regex.lastIndex = 0; m = regex.exec(subject); }
    const ms = measure ? performance.now() - t0 : 0;
    if (m || measure) port.postMessage({ id, hit: [pos, m ? Array.from(m) : null, ms] });
    Atomics.store(progress, 2, seq);
    if (m && isSoft) softFound = true;
    else if (m && firstOnly) break;
  }
  port.postMessage({ id, end: true });
});
parentPort.postMessage('ready');
`;

/** Source lists as JSON, computed once per list and length (the matchers of one pool share it). */
const sourceTexts = new WeakMap<readonly string[], { readonly length: number; readonly text: string }>();

/** The list as JSON (a list that grew is written anew). */
function sourcesText(sources: readonly string[]): string {
  let cached = sourceTexts.get(sources);
  if (cached === undefined || cached.length !== sources.length) {
    cached = { length: sources.length, text: JSON.stringify(sources) };
    sourceTexts.set(sources, cached);
  }
  return cached.text;
}

/**
 * Wall time a pattern may run, as a multiple of its budget, before it is
 * stopped even if it has not used its budget of CPU time: the budget is CPU
 * time where the worker's thread can be measured (Linux), so that a pattern
 * that waits for the CPU on a busy machine is not counted as over budget,
 * and this bounds how long such a wait can hold a request.
 */
export const GUARDED_WALL_FACTOR = 10;

/**
 * A thread's CPU time in ms, read from `/proc/self/task/<tid>/schedstat`
 * (nanoseconds) or, without it, `stat` (utime + stime, 10 ms ticks), through
 * a file kept open: one read costs a few microseconds.
 */
class ThreadCpuClock {
  private fd: number | undefined;
  private kind: 'schedstat' | 'stat' = 'schedstat';
  private readonly buffer = Buffer.alloc(512);

  constructor(tid: number) {
    for (const kind of ['schedstat', 'stat'] as const) {
      try {
        this.fd = openSync(`/proc/self/task/${tid}/${kind}`, 'r');
        this.kind = kind;
        return;
      } catch {
        // not there (not Linux, or no schedstat): try the next
      }
    }
  }

  /** The thread's CPU time (ms), or undefined when it cannot be read. */
  read(): number | undefined {
    if (this.fd === undefined) return undefined;
    try {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      const text = this.buffer.toString('latin1', 0, n);
      let ms: number;
      if (this.kind === 'schedstat') ms = Number(text.slice(0, text.indexOf(' '))) / 1e6;
      else {
        // the fields after the command's ")": utime and stime are fields 14 and 15 of stat
        const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
        ms = (Number(fields[11]) + Number(fields[12])) * 10;
      }
      return Number.isFinite(ms) ? ms : undefined;
    } catch {
      this.close();
      return undefined;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    this.fd = undefined;
  }
}

interface Pending {
  readonly id: number;
  readonly subject: string;
  readonly indices: readonly number[];
  readonly options: GuardedMatchOptions;
  readonly results: GuardedResult[];
  readonly times: number[];
  readonly overBudget: number[];
  /** The first position not yet run (after a restart). */
  from: number;
  /** The position of the first match (firstOnly), or -1. */
  stop: number;
  /** Whether a soft pattern matched already (the later soft ones are skipped). */
  softFound: boolean;
  resolve(outcome: GuardedMatchOutcome): void;
  reject(error: unknown): void;
  /** Removes the abort listener. */
  release(): void;
}

interface Running {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly progress: Int32Array;
  /** The worker thread's CPU clock, once its thread id is known (undefined: not yet; null: none). */
  clock: ThreadCpuClock | null | undefined;
  /** How many of the sources the worker has. */
  known: number;
}

type WorkerMessage = { id: number; hit?: [number, GuardedResult, number]; end?: boolean };

/**
 * Runs regex sources against subjects in a worker thread, with a time
 * budget per pattern. Requests are served one after the other.
 *
 * The budget is the CPU time of the worker's thread where it can be read
 * (Linux's `/proc`), with a wall-time backstop of `GUARDED_WALL_FACTOR` (10)
 * times the budget; elsewhere it is wall time.
 *
 * @example
 * ```ts
 * const matcher = new GuardedMatcher(['^(a+)+$', '^a+']);
 * const { results, overBudget } = await matcher.match('a'.repeat(30) + 'b', [0, 1], { budgetMs: 50 });
 * // results: [null, ['aaaa…a', …]], overBudget: [0]
 * await matcher.close();
 * ```
 */
export class GuardedMatcher {
  /**
   * The sources. A new worker (after one was stopped at the budget) gets them
   * as one JSON text, one string to copy, not thousands, so starting it
   * costs the main thread little; sources appended later are posted to it.
   */
  private readonly sources: readonly string[];
  private readonly warm: boolean;
  private running: Running | undefined;
  private current: Pending | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Watchdog state: the last seq seen, when it was first seen, and the worker's CPU time then. */
  private seenSeq = -1;
  private seenAt = 0;
  private seenCpu: number | undefined;
  /** The worker's seq when the current request was posted: no pattern of it started while seq is still this. */
  private sentSeq = 0;
  /** While a stuck worker is being terminated: it, and the position counted as over budget (its later hits are dropped). */
  private stuck: { readonly running: Running; readonly pos: number } | undefined;

  /**
   * @param sources - JavaScript regex sources (no flags); pattern `i` is `sources[i]`.
   * @param options - `warm`: a new worker compiles every pattern ahead of use, a slice at a time between requests
   * @example
   * ```ts
   * const matcher = new GuardedMatcher(rules.map((rule) => rule.compiled.source), { warm: true });
   * ```
   */
  constructor(sources: readonly string[], options: { readonly warm?: boolean } = {}) {
    this.warm = options.warm === true;
    this.sources = sources;
  }

  /**
   * Says that sources were appended to the constructor's list: the running
   * worker gets them now (a request for them posts them anyway).
   *
   * @example
   * ```ts
   * sources.push('^SSH-');
   * matcher.grow();
   * ```
   */
  grow(): void {
    if (this.running) this.sendSources(this.running);
  }

  /** Posts the sources the worker does not have yet (before any request that may use them). */
  private sendSources(running: Running): void {
    if (running.known >= this.sources.length) return;
    running.port.postMessage({ add: this.sources.slice(running.known) });
    running.known = this.sources.length;
  }

  /**
   * Runs the patterns `indices` (in order) against `subject`. A pattern
   * running past `budgetMs` counts as no match and is listed in `overBudget`;
   * matching continues with the next one.
   *
   * @param subject - the text (for a response, its bytes as latin1)
   * @param indices - indices into the constructor's `sources`
   * @param options - the budget per pattern, `firstOnly`, `measure`, `signal`
   * @example
   * ```ts
   * const out = await matcher.match(text, [3, 7, 9], { budgetMs: 100, firstOnly: true });
   * const hit = out.results.findIndex((r) => r !== null); // position in [3, 7, 9], or -1
   * ```
   */
  match(subject: string, indices: readonly number[], options: GuardedMatchOptions): Promise<GuardedMatchOutcome> {
    if (this.closed) return Promise.reject(new Error('GuardedMatcher is closed'));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<GuardedMatchOutcome>((resolve, reject) => {
      const priority = options.priority ?? 0;
      let at = this.queue.length;
      while (at > 0 && ((this.queue[at - 1] as Pending).options.priority ?? 0) > priority) at--;
      const onAbort = (): void => this.cancel(pending, signal?.reason);
      const pending: Pending = {
        id: this.nextId++,
        subject,
        indices: [...indices],
        options,
        results: [],
        times: [],
        overBudget: [],
        from: 0,
        stop: -1,
        softFound: false,
        resolve,
        reject,
        release: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.splice(at, 0, pending);
      this.pump();
    });
  }

  /**
   * Terminates the worker (pending requests are rejected). The matcher cannot be used afterwards.
   *
   * @example
   * ```ts
   * await matcher.close();
   * ```
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    clearTimeout(this.idleTimer);
    const error = new Error('GuardedMatcher closed');
    for (const p of this.queue.splice(0)) {
      p.release();
      p.reject(error);
    }
    if (this.current) {
      this.current.release();
      this.current.reject(error);
      this.current = undefined;
    }
    const running = this.running;
    this.running = undefined;
    if (running) {
      this.dispose(running);
      await running.worker.terminate();
    }
  }

  /** A request given up (its signal): out of the queue, or, running, its worker terminated. */
  private cancel(p: Pending, reason: unknown): void {
    const at = this.queue.indexOf(p);
    if (at >= 0) {
      this.queue.splice(at, 1);
      p.reject(reason);
      return;
    }
    if (this.current !== p) return;
    this.stopTimer();
    this.current = undefined;
    const running = this.running;
    this.running = undefined;
    if (running) {
      this.dispose(running);
      void running.worker.terminate().catch(() => undefined);
    }
    p.reject(reason);
    this.pump();
  }

  /** Starts the next request if none is running. */
  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) {
      this.idle();
      return;
    }
    this.current = next;
    for (let pos = 0; pos < next.indices.length; pos++) next.results.push(null);
    for (let pos = 0; pos < next.indices.length; pos++) next.times.push(0);
    this.send(next);
  }

  private spawn(): Running {
    const progress = new Int32Array(new SharedArrayBuffer(16));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // not the parent's flags: --input-type=module (or a loader) would make the CommonJS source fail
      execArgv: [],
      workerData: { progress: progress.buffer, port: port2, sources: sourcesText(this.sources), warm: this.warm },
      transferList: [port2],
    });
    const running: Running = { worker, port: port1, progress, clock: undefined, known: this.sources.length };
    port1.on('message', (message: WorkerMessage) => this.onMessage(running, message));
    worker.on('error', (error) => this.onWorkerGone(running, error));
    worker.on('exit', () => this.onWorkerGone(running, new Error('the matcher worker exited')));
    return running;
  }

  /** Closes a worker's port and CPU clock (the worker itself is terminated by the caller). */
  private dispose(running: Running): void {
    running.port.close();
    running.clock?.close();
    running.clock = null;
  }

  /**
   * Starts the worker now (it warms up if asked to), so the first request does not wait for it.
   *
   * @example
   * ```ts
   * matcher.start();
   * ```
   */
  start(): void {
    if (this.closed || this.running) return;
    this.running = this.spawn();
    this.idle();
  }

  /**
   * Requests queued or running: a pool gives new work to the matcher with the least.
   *
   * @example
   * ```ts
   * const least = matchers.reduce((a, b) => (b.load < a.load ? b : a));
   * ```
   */
  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Sends the current request (from its `from` position) to the worker, starting one if needed. */
  private send(p: Pending): void {
    clearTimeout(this.idleTimer);
    if (!this.running) this.running = this.spawn();
    const running = this.running;
    running.worker.ref();
    running.port.ref();
    if (p.from >= p.indices.length) {
      this.finish(p);
      return;
    }
    this.sendSources(running);
    this.seenSeq = Atomics.load(running.progress, 0);
    this.sentSeq = this.seenSeq;
    this.seenAt = performance.now();
    this.seenCpu = undefined;
    running.port.postMessage({
      id: p.id,
      subject: p.subject,
      indices: p.indices,
      from: p.from,
      firstOnly: p.options.firstOnly === true,
      measure: p.options.measure === true,
      soft: p.options.soft,
      skip: p.options.skip,
      softFound: p.softFound,
    });
    this.startTimer(p);
  }

  private onMessage(running: Running, message: WorkerMessage): void {
    const p = this.current;
    if (!p || message.id !== p.id) return;
    if (running !== this.running) {
      // A worker being terminated for a pattern past its budget: its hits before that pattern are
      // good results of the request; the pattern itself and what came after it are not.
      const stuck = this.stuck;
      if (stuck?.running === running && message.hit && message.hit[0] < stuck.pos) this.record(p, message.hit);
      return;
    }
    if (message.hit) this.record(p, message.hit);
    if (message.end) this.finish(p);
  }

  private record(p: Pending, [pos, result, ms]: [number, GuardedResult, number]): void {
    p.results[pos] = result;
    p.times[pos] = ms;
    if (!result) return;
    if (p.options.soft?.[pos] === true) p.softFound = true;
    else if (p.options.firstOnly && p.stop < 0) p.stop = pos;
  }

  private finish(p: Pending): void {
    if (this.current !== p) return;
    this.stopTimer();
    this.current = undefined;
    p.release();
    const end = p.stop >= 0 ? p.stop + 1 : p.indices.length;
    const outcome: { -readonly [K in keyof GuardedMatchOutcome]: GuardedMatchOutcome[K] } = { results: p.results.slice(0, end), overBudget: p.overBudget };
    if (p.options.measure) outcome.timesMs = p.times.slice(0, end);
    p.resolve(outcome);
    this.pump();
  }

  /** No request pending: the worker must not keep the process alive, and it ends after {@link GUARDED_IDLE_MS}. */
  private idle(): void {
    const running = this.running;
    if (!running) return;
    running.worker.unref();
    running.port.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.running !== running || this.current) return;
      this.running = undefined;
      this.dispose(running);
      void running.worker.terminate().catch(() => undefined);
    }, GUARDED_IDLE_MS);
    this.idleTimer.unref();
  }

  private startTimer(p: Pending): void {
    this.stopTimer();
    const tick = Math.max(1, Math.min(25, p.options.budgetMs / 5));
    this.timer = setInterval(() => this.watch(p), tick);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The worker's CPU time (ms), or undefined where it cannot be read. */
  private cpuOf(running: Running): number | undefined {
    if (running.clock === undefined) {
      const tid = Atomics.load(running.progress, 3);
      if (tid <= 0) return undefined; // not known yet
      running.clock = new ThreadCpuClock(tid);
    }
    return running.clock?.read();
  }

  /** The watchdog: has the pattern being tried run past the budget? */
  private watch(p: Pending): void {
    const running = this.running;
    if (!running || this.current !== p || this.stuck) return;
    const progress = running.progress;
    const seq = Atomics.load(progress, 0);
    const now = performance.now();
    if (seq !== this.seenSeq) {
      this.seenSeq = seq;
      this.seenAt = now;
      this.seenCpu = this.cpuOf(running);
      return;
    }
    if (Atomics.load(progress, 2) === seq) return; // between patterns (or done, the end message is on its way)
    if (seq === this.sentSeq) return; // no pattern of this request started yet
    const budget = p.options.budgetMs;
    const wall = now - this.seenAt;
    if (wall < budget) return;
    if (wall < budget * GUARDED_WALL_FACTOR && this.seenCpu !== undefined) {
      const cpu = this.cpuOf(running);
      if (cpu !== undefined && cpu - this.seenCpu < budget) return; // waiting for the CPU, not past its budget
    }
    // The position of pattern `seq`: pos is stored before seq is incremented, and the next pattern's
    // only after `done` reaches seq, so a pos read while seq and done are unchanged is that pattern's.
    const pos = Atomics.load(progress, 1);
    if (Atomics.load(progress, 0) !== seq || Atomics.load(progress, 2) === seq) return;
    void this.restart(p, running, pos, wall);
  }

  /**
   * Terminates a worker stuck on the pattern at `pos` (the one the watchdog
   * saw past its budget), records what it found before it, counts that
   * pattern as no match, and resumes with a new worker after it.
   */
  private async restart(p: Pending, running: Running, pos: number, elapsed: number): Promise<void> {
    this.stuck = { running, pos };
    this.stopTimer();
    this.running = undefined;
    try {
      await running.worker.terminate();
    } catch {
      // already gone
    }
    // Everything the worker posted before it was stopped is in our port.
    for (let m = receiveMessageOnPort(running.port); m; m = receiveMessageOnPort(running.port)) {
      const message = m.message as WorkerMessage;
      if (message.id === p.id && message.hit && message.hit[0] < pos) this.record(p, message.hit);
    }
    this.dispose(running);
    this.stuck = undefined;
    if (this.closed || this.current !== p) return;
    p.overBudget.push(p.indices[pos] as number);
    p.times[pos] = elapsed;
    if (p.stop >= 0) {
      this.finish(p);
      return;
    }
    p.from = pos + 1;
    this.send(p);
  }

  /** The worker died on its own (not terminated by us): resume with a new one. */
  private onWorkerGone(running: Running, error: Error): void {
    if (running !== this.running) return;
    this.running = undefined;
    const p = this.current;
    if (!p || this.closed) {
      this.dispose(running);
      return;
    }
    // Count the pattern it was on as failed and go on; give up if it died before starting any
    // pattern of this request (its position would be the previous request's).
    const pos = Atomics.load(running.progress, 1);
    if (Atomics.load(running.progress, 0) === this.sentSeq) {
      this.dispose(running);
      this.stopTimer();
      this.current = undefined;
      p.release();
      p.reject(error);
      this.pump();
      return;
    }
    for (let m = receiveMessageOnPort(running.port); m; m = receiveMessageOnPort(running.port)) {
      const message = m.message as WorkerMessage;
      if (message.id === p.id && message.hit) this.record(p, message.hit);
    }
    this.dispose(running);
    p.from = Math.max(p.from, pos + 1);
    this.send(p);
  }
}

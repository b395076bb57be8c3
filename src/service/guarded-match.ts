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
 *   [1] pos: the position (in the request's index list) being run
 *   [2] done: the seq of the last pattern finished
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
  if (tid > 0) require('node:os').setPriority(tid, 10);
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
}
if (workerData.warm) setImmediate(warm);
port.on('message', (req) => {
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

/** Source lists as JSON, computed once per list (the matchers of one pool share it). */
const sourceTexts = new WeakMap<readonly string[], string>();

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
  reject(error: Error): void;
}

interface Running {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly progress: Int32Array;
}

/**
 * Runs regex sources against subjects in a worker thread, with a time
 * budget per pattern. Requests are served one after the other.
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
   * The sources as one JSON text: a new worker (after one was stopped at the
   * budget) gets one string to copy, not thousands, so starting it costs the
   * main thread little.
   */
  private readonly sources: string;
  private readonly warm: boolean;
  private running: Running | undefined;
  private current: Pending | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Watchdog state: the last seq seen and when it was first seen. */
  private seenSeq = -1;
  /** The worker's seq when the current request was posted: no pattern of it started while seq is still this. */
  private sentSeq = 0;
  private seenAt = 0;
  private restarting = false;

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
    let text = sourceTexts.get(sources);
    if (text === undefined) {
      text = JSON.stringify(sources);
      sourceTexts.set(sources, text);
    }
    this.sources = text;
  }

  /**
   * Runs the patterns `indices` (in order) against `subject`. A pattern
   * running past `budgetMs` counts as no match and is listed in `overBudget`;
   * matching continues with the next one.
   *
   * @param subject - the text (for a response, its bytes as latin1)
   * @param indices - indices into the constructor's `sources`
   * @param options - the budget per pattern, `firstOnly`, `measure`
   * @example
   * ```ts
   * const out = await matcher.match(text, [3, 7, 9], { budgetMs: 100, firstOnly: true });
   * const hit = out.results.findIndex((r) => r !== null); // position in [3, 7, 9], or -1
   * ```
   */
  match(subject: string, indices: readonly number[], options: GuardedMatchOptions): Promise<GuardedMatchOutcome> {
    if (this.closed) return Promise.reject(new Error('GuardedMatcher is closed'));
    return new Promise<GuardedMatchOutcome>((resolve, reject) => {
      const priority = options.priority ?? 0;
      let at = this.queue.length;
      while (at > 0 && ((this.queue[at - 1] as Pending).options.priority ?? 0) > priority) at--;
      this.queue.splice(at, 0, {
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
      });
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
    for (const p of this.queue.splice(0)) p.reject(error);
    if (this.current) {
      this.current.reject(error);
      this.current = undefined;
    }
    const running = this.running;
    this.running = undefined;
    if (running) {
      running.port.close();
      await running.worker.terminate();
    }
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
      workerData: { progress: progress.buffer, port: port2, sources: this.sources, warm: this.warm },
      transferList: [port2],
    });
    const running: Running = { worker, port: port1, progress };
    port1.on('message', (message: { id: number; hit?: [number, GuardedResult, number]; end?: boolean }) => this.onMessage(running, message));
    worker.on('error', (error) => this.onWorkerGone(running, error));
    worker.on('exit', () => this.onWorkerGone(running, new Error('the matcher worker exited')));
    return running;
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
    this.seenSeq = Atomics.load(running.progress, 0);
    this.sentSeq = this.seenSeq;
    this.seenAt = performance.now();
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

  private onMessage(running: Running, message: { id: number; hit?: [number, GuardedResult, number]; end?: boolean }): void {
    const p = this.current;
    // Hits of a worker being terminated are still good results of the request.
    if (!p || message.id !== p.id) return;
    if (message.hit) this.record(p, message.hit);
    if (message.end && (running === this.running || this.restarting)) this.finish(p);
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
      running.port.close();
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

  /** The watchdog: has the pattern being tried run past the budget? */
  private watch(p: Pending): void {
    const running = this.running;
    if (!running || this.current !== p || this.restarting) return;
    const seq = Atomics.load(running.progress, 0);
    const now = performance.now();
    if (seq !== this.seenSeq) {
      this.seenSeq = seq;
      this.seenAt = now;
      return;
    }
    if (Atomics.load(running.progress, 2) === seq) return; // between patterns (or done, the end message is on its way)
    if (seq === 0 || now - this.seenAt < p.options.budgetMs) return;
    void this.restart(p, running, now - this.seenAt);
  }

  /** Terminates a worker stuck on a pattern, records what it found, and resumes with a new one. */
  private async restart(p: Pending, running: Running, elapsed: number): Promise<void> {
    this.restarting = true;
    this.stopTimer();
    this.running = undefined;
    try {
      await running.worker.terminate();
    } catch {
      // already gone
    }
    // Everything the worker posted before it was stopped is in our port.
    for (let m = receiveMessageOnPort(running.port); m; m = receiveMessageOnPort(running.port)) {
      const message = m.message as { id: number; hit?: [number, GuardedResult, number] };
      if (message.id === p.id && message.hit) this.record(p, message.hit);
    }
    running.port.close();
    this.restarting = false;
    if (this.closed || this.current !== p) return;
    const pos = Atomics.load(running.progress, 1);
    const finished = Atomics.load(running.progress, 2) === Atomics.load(running.progress, 0);
    if (!finished) {
      p.overBudget.push(p.indices[pos] as number);
      p.times[pos] = elapsed;
    }
    if (p.stop >= 0) {
      this.finish(p);
      return;
    }
    p.from = pos + 1;
    this.send(p);
  }

  /** The worker died on its own (not terminated by us): resume with a new one. */
  private onWorkerGone(running: Running, error: Error): void {
    if (running !== this.running || this.restarting) return;
    this.running = undefined;
    const p = this.current;
    if (!p || this.closed) {
      running.port.close();
      return;
    }
    // Count the pattern it was on as failed and go on; give up if it died before starting any
    // pattern of this request (its position would be the previous request's).
    const pos = Atomics.load(running.progress, 1);
    if (Atomics.load(running.progress, 0) === this.sentSeq) {
      running.port.close();
      this.stopTimer();
      this.current = undefined;
      p.reject(error);
      this.pump();
      return;
    }
    for (let m = receiveMessageOnPort(running.port); m; m = receiveMessageOnPort(running.port)) {
      const message = m.message as { id: number; hit?: [number, GuardedResult, number] };
      if (message.id === p.id && message.hit) this.record(p, message.hit);
    }
    running.port.close();
    p.from = Math.max(p.from, pos + 1);
    this.send(p);
  }
}

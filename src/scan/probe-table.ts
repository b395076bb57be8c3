/**
 * The engine's per-probe state: the probes in flight and those whose
 * retransmission waits, kept in typed arrays indexed by slot.
 *
 * Why not a `Map` of entry objects: a probe lives a round trip, so a scan
 * inserts and deletes a `Map` entry per probe, and V8 rehashes a churned
 * `Map` into a new table every few hundred operations, the old table
 * pointing at the new one. Once any table is promoted to the old generation
 * (a scavenge during a pause), every later table and every entry object it
 * held are kept alive by that chain through each scavenge and promoted in
 * turn, until a full collection: a full-port scan of one host grew its heap
 * by tens of megabytes of dead entries that way. Here a probe costs no
 * object but its target; slots are reused, the key index is an open-addressed
 * table of slot numbers, and the send order is a ring of slot numbers.
 *
 * @module
 */
import type { ProbeKey, ProbeTarget } from './probe-module.js';

/** A slot not in use. */
const FREE = 0;
/** A probe whose attempt is out, waiting for an answer or its deadline. */
export const IN_FLIGHT = 1;
/** A probe whose attempt timed out; its retransmission waits to be sent (a late answer still counts). */
export const AWAITING_RETRY = 2;

/** Whether an attempt's packets have left (the kernel took or refused them all). */
export const Departure = {
  /** Left, or not tracked (probers that do not report departures). */
  LEFT: 0,
  /** Still waiting in the raw channel or the kernel's send queue. */
  LEAVING: 1,
  /** Still waiting when its time was up: its clock starts again when it leaves. */
  LEAVING_LATE: 2,
} as const;

const INITIAL_SLOTS = 64;

/** A 32-bit hash of a probe key (a number below 2^53, or IPv6 text). */
function hashKey(key: ProbeKey): number {
  if (typeof key === 'number') {
    const low = key >>> 0;
    const high = Math.floor(key / 4294967296) >>> 0;
    let h = Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return Math.imul(h, 0x27d4eb2d) ^ (h >>> 13);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 16);
}

/**
 * Probes by key, each with its target, attempt number, send time and
 * deadline, and the in-flight ones in the order their attempts left.
 *
 * @example
 * ```ts
 * const table = new ProbeTable();
 * const slot = table.add(keyOf(target), target);
 * table.sendOut(slot, 1, now, now + timeout);
 * table.find(keyOf(target)) === slot; // true
 * table.release(slot);
 * ```
 */
export class ProbeTable {
  private capacity = INITIAL_SLOTS;
  private targets: (ProbeTarget | undefined)[] = new Array<ProbeTarget | undefined>(INITIAL_SLOTS).fill(undefined);
  private keys: ProbeKey[] = new Array<ProbeKey>(INITIAL_SLOTS).fill(0);
  private states = new Uint8Array(INITIAL_SLOTS);
  private attemptsOf = new Int32Array(INITIAL_SLOTS);
  private sentAtOf = new Float64Array(INITIAL_SLOTS);
  private departureOf = new Uint8Array(INITIAL_SLOTS);
  private deadlineOf = new Float64Array(INITIAL_SLOTS);
  /** The number of each slot's last send: ring entries of earlier sends are stale. */
  private sendNumberOf = new Float64Array(INITIAL_SLOTS);
  private freeSlots = new Int32Array(INITIAL_SLOTS);
  private freeCount = 0;
  private used = 0;
  /** Open addressing, linear probing: slot + 1, or 0 for an empty bucket. */
  private buckets = new Int32Array(INITIAL_SLOTS * 2);
  private mask = INITIAL_SLOTS * 2 - 1;
  /** The in-flight sends in send order: slot and send number, from `head` to `tail` (modulo the ring's size). */
  private ringSlots = new Int32Array(INITIAL_SLOTS);
  private ringSends = new Float64Array(INITIAL_SLOTS);
  private head = 0;
  private length = 0;
  private sends = 0;
  /** How many times the table was cleared (a sweep stops when its visit clears it). */
  private clears = 0;
  /** Probes in flight. */
  inFlight = 0;
  /** Probes whose retransmission waits. */
  awaiting = 0;

  /** The slot of the probe with `key`, or -1. */
  find(key: ProbeKey): number {
    const mask = this.mask;
    const buckets = this.buckets;
    for (let i = hashKey(key) & mask; ; i = (i + 1) & mask) {
      const entry = buckets[i] as number;
      if (entry === 0) return -1;
      if (this.keys[entry - 1] === key) return entry - 1;
    }
  }

  /** A new slot for `key` (not in the table), in no state yet: {@link sendOut} or {@link release} it. */
  add(key: ProbeKey, target: ProbeTarget): number {
    if (this.freeCount === 0 && this.used === this.capacity) this.grow();
    const slot = this.freeCount > 0 ? (this.freeSlots[--this.freeCount] as number) : this.used++;
    this.targets[slot] = target;
    this.keys[slot] = key;
    this.states[slot] = FREE;
    this.insertBucket(slot);
    return slot;
  }

  /** The state of a slot (`IN_FLIGHT`, `AWAITING_RETRY`, or 0 for neither). */
  state(slot: number): number {
    return this.states[slot] as number;
  }

  target(slot: number): ProbeTarget {
    return this.targets[slot] as ProbeTarget;
  }

  attempts(slot: number): number {
    return this.attemptsOf[slot] as number;
  }

  sentAt(slot: number): number {
    return this.sentAtOf[slot] as number;
  }

  deadline(slot: number): number {
    return this.deadlineOf[slot] as number;
  }

  /** Whether the slot's attempt has left (a {@link Departure} value). */
  departure(slot: number): number {
    return this.departureOf[slot] as number;
  }

  /** Records whether the slot's attempt has left ({@link sendOut} sets {@link Departure.LEFT}). */
  setDeparture(slot: number, departure: number): void {
    this.departureOf[slot] = departure;
  }

  /** Moves an in-flight probe's deadline, keeping its place in the send order (a {@link sweep} visit may). */
  postpone(slot: number, deadline: number): void {
    this.deadlineOf[slot] = deadline;
  }

  /** Marks an attempt out: in flight, last in the send order. */
  sendOut(slot: number, attempts: number, sentAt: number, deadline: number): void {
    this.setState(slot, IN_FLIGHT);
    this.attemptsOf[slot] = attempts;
    this.sentAtOf[slot] = sentAt;
    this.deadlineOf[slot] = deadline;
    this.departureOf[slot] = Departure.LEFT;
    const send = ++this.sends;
    this.sendNumberOf[slot] = send;
    if (this.length === this.ringSlots.length) this.growRing();
    const at = (this.head + this.length) & (this.ringSlots.length - 1);
    this.ringSlots[at] = slot;
    this.ringSends[at] = send;
    this.length++;
  }

  /** Marks an in-flight probe as waiting for its retransmission. */
  awaitRetry(slot: number): void {
    this.setState(slot, AWAITING_RETRY);
  }

  /** Forgets a probe. */
  release(slot: number): void {
    this.setState(slot, FREE);
    this.removeBucket(slot);
    this.targets[slot] = undefined;
    this.freeSlots[this.freeCount++] = slot;
  }

  /**
   * The in-flight slot whose attempt left first, or -1; stale ring entries
   * before it are dropped.
   */
  first(): number {
    while (this.length > 0) {
      const slot = this.ringSlots[this.head] as number;
      if (this.live(slot, this.ringSends[this.head] as number)) return slot;
      this.shift();
    }
    return -1;
  }

  /** Drops the ring's first entry (after {@link first} returned its slot). */
  shift(): void {
    this.head = (this.head + 1) & (this.ringSlots.length - 1);
    this.length--;
  }

  /**
   * Calls `visit` with every in-flight slot in send order, and keeps in the
   * order those still in flight with the same send afterwards. `visit` may
   * release a slot, mark it awaiting a retry, {@link postpone} it or clear
   * the table (the walk then ends), but must not send anything out.
   */
  sweep(visit: (slot: number) => void): void {
    const size = this.ringSlots.length;
    const count = this.length;
    const start = this.head;
    const clears = this.clears;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const at = (start + i) & (size - 1);
      const slot = this.ringSlots[at] as number;
      const send = this.ringSends[at] as number;
      if (!this.live(slot, send)) continue;
      visit(slot);
      if (this.clears !== clears) return;
      if (!this.live(slot, send)) continue;
      const to = (start + kept) & (size - 1);
      this.ringSlots[to] = slot;
      this.ringSends[to] = send;
      kept++;
    }
    this.length = kept;
  }

  /** Forgets everything. */
  clear(): void {
    this.targets.fill(undefined);
    this.states.fill(FREE);
    this.buckets.fill(0);
    this.freeCount = 0;
    this.used = 0;
    this.head = 0;
    this.length = 0;
    this.inFlight = 0;
    this.awaiting = 0;
    this.clears++;
  }

  private live(slot: number, send: number): boolean {
    return this.states[slot] === IN_FLIGHT && this.sendNumberOf[slot] === send;
  }

  private setState(slot: number, state: number): void {
    const before = this.states[slot];
    if (before === IN_FLIGHT) this.inFlight--;
    else if (before === AWAITING_RETRY) this.awaiting--;
    if (state === IN_FLIGHT) this.inFlight++;
    else if (state === AWAITING_RETRY) this.awaiting++;
    this.states[slot] = state;
  }

  private insertBucket(slot: number): void {
    const mask = this.mask;
    let i = hashKey(this.keys[slot] as ProbeKey) & mask;
    while (this.buckets[i] !== 0) i = (i + 1) & mask;
    this.buckets[i] = slot + 1;
  }

  /** Removes a slot's bucket, shifting later entries of its run back (no tombstones). */
  private removeBucket(slot: number): void {
    const mask = this.mask;
    const buckets = this.buckets;
    let i = hashKey(this.keys[slot] as ProbeKey) & mask;
    while (buckets[i] !== slot + 1) {
      if (buckets[i] === 0) return;
      i = (i + 1) & mask;
    }
    let hole = i;
    for (let j = (hole + 1) & mask; buckets[j] !== 0; j = (j + 1) & mask) {
      const entry = buckets[j] as number;
      const home = hashKey(this.keys[entry - 1] as ProbeKey) & mask;
      // The entry may fill the hole if its home is not cyclically within (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        buckets[hole] = entry;
        hole = j;
      }
    }
    buckets[hole] = 0;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const widen = <T extends Uint8Array | Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.states = widen(this.states, (n) => new Uint8Array(n));
    this.attemptsOf = widen(this.attemptsOf, (n) => new Int32Array(n));
    this.sentAtOf = widen(this.sentAtOf, (n) => new Float64Array(n));
    this.departureOf = widen(this.departureOf, (n) => new Uint8Array(n));
    this.deadlineOf = widen(this.deadlineOf, (n) => new Float64Array(n));
    this.sendNumberOf = widen(this.sendNumberOf, (n) => new Float64Array(n));
    this.freeSlots = widen(this.freeSlots, (n) => new Int32Array(n));
    for (let i = this.capacity; i < capacity; i++) {
      this.targets.push(undefined);
      this.keys.push(0);
    }
    this.capacity = capacity;
    this.buckets = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
    for (let slot = 0; slot < this.used; slot++) if (this.targets[slot] !== undefined) this.insertBucket(slot);
  }

  private growRing(): void {
    const size = this.ringSlots.length;
    // Stale entries first: the ring grows only when live sends fill half of it.
    let kept = 0;
    const slots = new Int32Array(size * 2);
    const sends = new Float64Array(size * 2);
    for (let i = 0; i < this.length; i++) {
      const at = (this.head + i) & (size - 1);
      const slot = this.ringSlots[at] as number;
      const send = this.ringSends[at] as number;
      if (!this.live(slot, send)) continue;
      slots[kept] = slot;
      sends[kept] = send;
      kept++;
    }
    this.head = 0;
    this.length = kept;
    if (kept * 2 <= size) {
      this.ringSlots.set(slots.subarray(0, size));
      this.ringSends.set(sends.subarray(0, size));
      return;
    }
    this.ringSlots = slots;
    this.ringSends = sends;
  }
}

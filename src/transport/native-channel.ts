/**
 * The native raw channel: portscout's addon (native-raw-io.ts) with packets
 * batched both ways.
 *
 * Sending: each packet is copied into the batch being filled (one buffer,
 * with each packet's offset, length and destination address beside it). A
 * batch leaves in one `sendmmsg` call on a thread of libuv's pool when it is
 * full, or, when no batch of the socket is out, in a microtask after the code
 * that queued the packets has run (a scan's turn of sends), or when the batch
 * out comes back: the kernel's pace sets the batch size. At most
 * {@link BATCHES_IN_FLIGHT} batches per socket are out at a time; a backlog
 * behind them (scans side by side) leaves at once on the main thread, so no
 * probe waits in the channel long enough to time out before it leaves (six
 * SYN scans side by side retransmitted ~2,900 probes each without this, 1 with it). On the pool thread the kernel's work for the batch (on a
 * veth link it includes the receiving stack's) runs beside JavaScript instead
 * of in turn with it. When the kernel has no room (`EAGAIN`, `ENOBUFS`) the
 * rest of a batch goes again on the next turn of the event loop; at most
 * {@link MAX_QUEUED_BYTES} wait per socket, past which a send fails with
 * `ERR_SEND_QUEUE_FULL` (the probe never left, so it decides nothing).
 *
 * Receiving: when the socket is readable, `recvmmsg` reads up to
 * {@link RECEIVE_BATCH} datagrams at a time into fixed slots, with each one's
 * sender and, for IPv6, its hop limit; up to {@link MAX_READS_PER_EVENT} per
 * readiness event, so one busy socket cannot starve the event loop.
 *
 * @module
 */
import type { NativeRawHandle, NativeRawIo } from './native-raw-io.js';
import { MAX_RAW_PACKET, channelClosed, checkChannelAddress, packetTooLarge, type RawChannel, type RawChannelHandlers, type RawChannelProtocol } from './raw-channel.js';
import { rawOpenError } from './privileges.js';
import { PortscoutError } from '../errors.js';
import { formatIpv4Address, formatIpv6Address, parseIpv4Address, parseIpv6Address } from '../wire/index.js';

/** Packets per `sendmmsg` call. */
export const SEND_BATCH = 64;
/**
 * Batches of one socket being sent on the thread pool at a time. Measured on
 * the lab's full-port SYN scan (2 cores, medians of 5): 2 batches of 64 on the
 * pool 0.69 s, the same batches sent on the main thread 0.85 s, 1 batch on the
 * pool 0.87-0.91 s; 3 or 4 batches, or batches of 32 or 128, no better than 2 of 64.
 */
export const BATCHES_IN_FLIGHT = 2;
/** Datagrams per `recvmmsg` call. */
export const RECEIVE_BATCH = 64;
/** Most datagrams read per readiness event (as the raw-socket channel). */
export const MAX_READS_PER_EVENT = 2048;
/** Bytes of one batch's packet buffer: room for the largest IP packet. */
const BATCH_BYTES = 65_536;
/** Most bytes waiting to leave on one socket (then `ERR_SEND_QUEUE_FULL`). */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Spare batches kept for reuse per socket. */
const SPARE_BATCHES = 4;
/** Bytes per source address slot. */
const ADDRESS_BYTES = 16;
/** Receive slot sizes: TCP segments and ICMP messages that answer probes are small; UDP replies may be whole datagrams. */
const SLOT_BYTES: Record<RawChannelProtocol, number> = { tcp: 4096, icmp: 4096, udp: 65_536, ip: 64 };
/** IP protocol numbers of the channels (ICMP's depends on the family). */
const PROTOCOL_NUMBERS: Partial<Record<RawChannelProtocol, number>> = { tcp: 6, udp: 17, ip: 255 };
const UDP_RECEIVE_BATCH = 8;

const EAGAIN = 11;
const ENOBUFS = 105;
const ECANCELED = 125;

/** The errno name of a negative errno result (`-1` -> `EPERM`). */
function errnoName(negative: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 13: 'EACCES', 22: 'EINVAL', 90: 'EMSGSIZE', 101: 'ENETUNREACH', 113: 'EHOSTUNREACH', 100: 'ENETDOWN', 112: 'EHOSTDOWN', 99: 'EADDRNOTAVAIL', 9: 'EBADF' };
  return names[-negative] ?? `errno ${-negative}`;
}

function sendFailed(address: string, negative: number): PortscoutError {
  const code = errnoName(negative);
  const cause = Object.assign(new Error(`sendmmsg: ${code}`), { code, errno: negative });
  return new PortscoutError('ERR_SEND_FAILED', `The kernel refused to send a probe to ${address}: ${code}.`, { cause });
}

/**
 * Opens a native channel. @internal (use openRawChannel)
 *
 * @throws PortscoutError `ERR_RAW_PERMISSION` or `ERR_RAW_OPEN_FAILED`.
 */
export function openNativeChannel(
  io: NativeRawIo,
  family: 4 | 6,
  protocol: RawChannelProtocol,
  receiveBufferBytes: number,
  handlers: RawChannelHandlers,
  sendBufferBytes = 0,
): RawChannel {
  const protocolNumber = PROTOCOL_NUMBERS[protocol] ?? (family === 4 ? 1 : 58);
  let handle: NativeRawHandle;
  try {
    handle = io.open(family, protocolNumber, receiveBufferBytes, family === 4, sendBufferBytes);
  } catch (error) {
    throw rawOpenError(family, error);
  }
  return new NativeChannel(io, handle, family, protocol, handlers);
}

/** Packets sent in one `sendmmsg`: the bytes, and each packet's place, destination and callback. */
class SendBatch {
  readonly packets = new Uint8Array(BATCH_BYTES);
  readonly layout = new Int32Array(2 * SEND_BATCH);
  readonly addresses = new Uint8Array(ADDRESS_BYTES * SEND_BATCH);
  readonly families = new Uint8Array(SEND_BATCH);
  readonly dones: (((error: Error | null) => void) | undefined)[] = [];
  readonly targets: string[] = [];
  count = 0;
  bytes = 0;
  /** Packets before this one have left (or failed). */
  start = 0;
  /** Whether a `sendmmsg` of this batch is on the thread pool. */
  out = false;

  fits(length: number): boolean {
    return this.count < SEND_BATCH && this.bytes + length <= BATCH_BYTES;
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    this.start = 0;
    this.out = false;
    this.dones.length = 0;
    this.targets.length = 0;
  }
}

class NativeChannel implements RawChannel {
  readonly kind = 'native' as const;
  private open = true;
  private reading = false;

  /** The batch being filled, then the full ones waiting, in order. */
  private filling: SendBatch | undefined;
  private readonly waiting: SendBatch[] = [];
  private readonly spare: SendBatch[] = [];
  private inFlight = 0;
  /** Bytes queued and not yet left. */
  private queuedBytes = 0;
  private flushQueued = false;
  private retry: NodeJS.Immediate | undefined;
  private lastAddress = '';
  private readonly lastAddressBytes = new Uint8Array(ADDRESS_BYTES);

  // Receiving.
  private readonly slotBytes: number;
  private readonly batch: number;
  private readonly slab: Uint8Array;
  private readonly meta: Int32Array;
  private readonly sources: Uint8Array;
  private readonly lastSource = new Uint8Array(ADDRESS_BYTES);
  private lastSourceText = '';

  constructor(
    private readonly io: NativeRawIo,
    private readonly handle: NativeRawHandle,
    private readonly family: 4 | 6,
    private readonly protocol: RawChannelProtocol,
    private readonly handlers: RawChannelHandlers,
  ) {
    this.slotBytes = SLOT_BYTES[protocol];
    this.batch = protocol === 'udp' || protocol === 'ip' ? UDP_RECEIVE_BATCH : RECEIVE_BATCH;
    this.slab = new Uint8Array(this.slotBytes * this.batch);
    this.meta = new Int32Array(3 * this.batch);
    this.sources = new Uint8Array(ADDRESS_BYTES * this.batch);
  }

  send(packet: Uint8Array, address: string, done: (error: Error | null) => void): void {
    if (!this.open) throw channelClosed(this.family, this.protocol);
    const length = packet.length;
    if (length > MAX_RAW_PACKET) throw packetTooLarge(length);
    if (length === 0) throw new PortscoutError('ERR_INVALID_OPTION', 'An empty raw packet cannot be sent.');
    if (address !== this.lastAddress) this.rememberAddress(address);
    if (this.queuedBytes + length > MAX_QUEUED_BYTES) {
      done(new PortscoutError('ERR_SEND_QUEUE_FULL', `The raw ${this.protocol} socket's send queue is full (${this.queuedBytes} bytes wait for the kernel); the probe to ${address} was not sent.`));
      return;
    }
    let batch = this.filling;
    if (batch && !batch.fits(length)) {
      this.waiting.push(batch);
      batch = undefined;
    }
    if (!batch) batch = this.filling = this.spare.pop() ?? new SendBatch();
    const index = batch.count++;
    batch.packets.set(packet, batch.bytes);
    batch.layout[2 * index] = batch.bytes;
    batch.layout[2 * index + 1] = length;
    batch.addresses.set(this.lastAddressBytes, ADDRESS_BYTES * index);
    batch.families[index] = this.family;
    batch.dones[index] = done;
    batch.targets[index] = address;
    batch.bytes += length;
    this.queuedBytes += length;
    if (batch.count === SEND_BATCH) {
      this.waiting.push(batch);
      this.filling = undefined;
      this.pump();
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushSoon = (): void => {
    this.flushQueued = false;
    // While a batch is out, the next one keeps filling: it leaves when full or when that batch is back.
    if (this.inFlight === 0) this.closeFilling();
    this.pump();
  };

  /** The batch being filled joins the waiting ones. */
  private closeFilling(): void {
    if (this.filling && this.filling.count > 0) {
      this.waiting.push(this.filling);
      this.filling = undefined;
    }
  }

  /** Parses a destination once per change of address; a mismatch of family is the caller's error. */
  private rememberAddress(address: string): void {
    checkChannelAddress(this.family, this.protocol, address);
    this.lastAddressBytes.fill(0);
    this.lastAddressBytes.set(this.family === 4 ? parseIpv4Address(address) : parseIpv6Address(address));
    this.lastAddress = address;
  }

  /** Starts sending the waiting batches, in order, up to {@link BATCHES_IN_FLIGHT} at a time. */
  private pump(): void {
    for (let i = 0; i < this.waiting.length; i++) {
      const batch = this.waiting[i] as SendBatch;
      if (!this.open || this.retry !== undefined) return;
      if (batch.out) continue;
      if (this.inFlight < BATCHES_IN_FLIGHT) {
        this.sendBatch(batch, false);
        continue;
      }
      // A backlog behind the batches out (scans side by side): it leaves now, on this thread, so no
      // probe waits here long enough for its timeout to run out before it leaves.
      const before = this.waiting.length;
      this.sendBatch(batch, true);
      if (this.waiting.length < before) i--;
    }
  }

  /** Sends a batch's unsent packets: on the thread pool, or `inline` on this thread (a backlog). */
  private sendBatch(batch: SendBatch, inline: boolean): void {
    const { start } = batch;
    this.inFlight++;
    batch.out = true;
    const args = [this.handle, batch.packets, batch.layout.subarray(2 * start), batch.addresses.subarray(ADDRESS_BYTES * start), batch.families.subarray(start), batch.count - start] as const;
    if (inline) this.sent(batch, this.io.sendBatch(...args), false);
    else this.io.sendBatchAsync(...args, (result) => this.sent(batch, result));
  }

  /** A batch's `sendmmsg` returned: settle what left (or failed), send the rest again, or retire the batch. */
  private sent(batch: SendBatch, result: number, pumpAfter = true): void {
    this.inFlight--;
    batch.out = false;
    if (!this.open || result === -ECANCELED) return;
    const start = batch.start;
    if (result > 0) {
      batch.start = start + result;
      for (let i = start; i < batch.start; i++) this.settle(batch, i, null);
    } else if (result === -EAGAIN || result === -ENOBUFS) {
      // No room in the kernel now: go again after a turn of the event loop (replies are read meanwhile).
      this.retry ??= setImmediate(() => {
        this.retry = undefined;
        this.pump();
      });
    } else {
      // The kernel refused the first packet: it never left; the others go on.
      batch.start = start + 1;
      this.settle(batch, start, sendFailed(batch.targets[start] ?? '', result === 0 ? -22 : result));
    }
    if (batch.start >= batch.count) {
      const at = this.waiting.indexOf(batch);
      if (at >= 0) this.waiting.splice(at, 1);
      batch.reset();
      if (this.spare.length < SPARE_BATCHES) this.spare.push(batch);
    }
    if (this.inFlight === 0) this.closeFilling();
    if (pumpAfter) this.pump();
  }

  private settle(batch: SendBatch, index: number, error: Error | null): void {
    const done = batch.dones[index];
    batch.dones[index] = undefined;
    this.queuedBytes -= batch.layout[2 * index + 1] as number;
    done?.(error);
  }

  setReading(reading: boolean): void {
    if (!this.open || reading === this.reading) return;
    this.reading = reading;
    this.io.watch(this.handle, reading ? this.onReadable : null);
  }

  private readonly onReadable = (status: number): void => {
    if (status < 0) {
      this.fail(new PortscoutError('ERR_RAW_SOCKET_CLOSED', `Polling the raw ${this.protocol} socket for IPv${this.family} failed (libuv status ${status}).`));
      return;
    }
    const { io, handle, slab, slotBytes, batch, meta, sources, handlers } = this;
    for (let read = 0; read < MAX_READS_PER_EVENT && this.open && this.reading; ) {
      const count = io.recvBatch(handle, slab, slotBytes, batch, meta, sources);
      if (count < 0) {
        this.fail(new PortscoutError('ERR_RAW_SOCKET_CLOSED', `Reading the raw ${this.protocol} socket for IPv${this.family} failed: ${errnoName(count)}.`));
        return;
      }
      for (let i = 0; i < count && this.open; i++) {
        if ((meta[3 * i + 1] as number) !== 0) {
          handlers.onTruncated();
          continue;
        }
        const hopLimit = meta[3 * i + 2] as number;
        handlers.onDatagram(slab, i * slotBytes, meta[3 * i] as number, this.sourceText(i), hopLimit >= 0 ? hopLimit : undefined);
      }
      read += count;
      if (count < batch) return;
    }
  };

  /** The text of datagram `i`'s sender, formatted again only when it changes. */
  private sourceText(i: number): string {
    const sources = this.sources;
    const last = this.lastSource;
    const at = ADDRESS_BYTES * i;
    const width = this.family === 4 ? 4 : 16;
    let same = this.lastSourceText !== '';
    for (let k = 0; k < width && same; k++) if (sources[at + k] !== last[k]) same = false;
    if (same) return this.lastSourceText;
    for (let k = 0; k < width; k++) last[k] = sources[at + k] as number;
    this.lastSourceText = this.family === 4 ? formatIpv4Address(sources, at) : formatIpv6Address(sources, at);
    return this.lastSourceText;
  }

  private fail(error: unknown): void {
    this.close();
    this.handlers.onError(error);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.reading = false;
    if (this.retry !== undefined) clearImmediate(this.retry);
    this.retry = undefined;
    this.io.close(this.handle);
    // Batches still on the pool finish there (the addon closes the descriptor after them); none of theirs settles twice.
    const batches = this.filling ? [...this.waiting, this.filling] : [...this.waiting];
    this.waiting.length = 0;
    this.filling = undefined;
    const closed = channelClosed(this.family, this.protocol);
    for (const batch of batches) {
      for (let i = batch.start; i < batch.count; i++) this.settle(batch, i, closed);
      batch.start = batch.count;
    }
  }
}

/**
 * The native raw channel: portscout's addon (native-raw-io.ts) with packets
 * batched both ways.
 *
 * Sending: each packet is copied into a send ring (one buffer, with each
 * packet's offset, length and destination address beside it) and the ring
 * leaves in one `sendmmsg` call per batch: when a batch is full, or in a
 * microtask after the code that queued the packets has run (a scan's turn of
 * sends). When the kernel has no room (`EAGAIN`, `ENOBUFS`) the packets wait
 * in the ring and go again on the next turn of the event loop; the ring grows
 * up to a bound, past which a send fails with `ERR_SEND_QUEUE_FULL` (the
 * probe never left, so it decides nothing).
 *
 * Receiving: when the socket is readable, `recvmmsg` reads up to
 * {@link RECEIVE_BATCH} datagrams at a time into fixed slots, with each one's
 * sender and, for IPv6, its hop limit; up to {@link MAX_READS_PER_EVENT} per
 * readiness event, so one busy socket cannot starve the event loop.
 *
 * @module
 */
import type { NativeRawHandle, NativeRawIo } from './native-raw-io.js';
import { MAX_RAW_PACKET, channelClosed, packetTooLarge, type RawChannel, type RawChannelHandlers, type RawChannelProtocol } from './raw-channel.js';
import { rawOpenError } from './privileges.js';
import { PortscoutError } from '../errors.js';
import { formatIpv4Address, formatIpv6Address, ipAddressFamily, parseIpv4Address, parseIpv6Address } from '../wire/index.js';

/** Packets per `sendmmsg` call. */
export const SEND_BATCH = 64;
/** Datagrams per `recvmmsg` call. */
export const RECEIVE_BATCH = 64;
/** Most datagrams read per readiness event (as the raw-socket channel). */
export const MAX_READS_PER_EVENT = 2048;
/** Initial bytes of the send ring; it doubles when packets wait for the kernel. */
const RING_BYTES = 64 * 1024;
/** Most bytes waiting in one channel's send ring (then `ERR_SEND_QUEUE_FULL`). */
export const MAX_RING_BYTES = 16 * 1024 * 1024;
/** Bytes per source address slot. */
const ADDRESS_BYTES = 16;
/** Receive slot sizes: TCP segments and ICMP messages that answer probes are small; UDP replies may be whole datagrams. */
const SLOT_BYTES: Record<RawChannelProtocol, number> = { tcp: 4096, icmp: 4096, udp: 65_536 };
const UDP_RECEIVE_BATCH = 8;

const EAGAIN = 11;
const ENOBUFS = 105;

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
export function openNativeChannel(io: NativeRawIo, family: 4 | 6, protocol: RawChannelProtocol, receiveBufferBytes: number, handlers: RawChannelHandlers): RawChannel {
  const protocolNumber = protocol === 'tcp' ? 6 : protocol === 'udp' ? 17 : family === 4 ? 1 : 58;
  let handle: NativeRawHandle;
  try {
    handle = io.open(family, protocolNumber, receiveBufferBytes, family === 4);
  } catch (error) {
    throw rawOpenError(family, error);
  }
  return new NativeChannel(io, handle, family, protocol, handlers);
}

class NativeChannel implements RawChannel {
  readonly kind = 'native' as const;
  private open = true;
  private reading = false;

  // The send ring: packets [sentUpTo, queued) wait; bytes [0, ringUsed) hold them.
  private ring = new Uint8Array(RING_BYTES);
  private ringUsed = 0;
  private layout = new Int32Array(2 * SEND_BATCH);
  private addresses = new Uint8Array(ADDRESS_BYTES * SEND_BATCH);
  private families = new Uint8Array(SEND_BATCH);
  private dones: (((error: Error | null) => void) | undefined)[] = [];
  private targets: string[] = [];
  private queued = 0;
  private sentUpTo = 0;
  private flushQueued = false;
  private retry: NodeJS.Immediate | undefined;
  private lastAddress = '';
  private lastAddressBytes = new Uint8Array(ADDRESS_BYTES);

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
    this.batch = protocol === 'udp' ? UDP_RECEIVE_BATCH : RECEIVE_BATCH;
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
    if (this.ringUsed + length > this.ring.length && !this.makeRoom(length)) {
      done(new PortscoutError('ERR_SEND_QUEUE_FULL', `The raw ${this.protocol} socket's send queue is full (${this.ringUsed} bytes wait for the kernel); the probe to ${address} was not sent.`));
      return;
    }
    const index = this.queued; // slot in the per-packet arrays (from the last reset)
    this.ensureSlots(index + 1);
    this.ring.set(packet, this.ringUsed);
    this.layout[2 * index] = this.ringUsed;
    this.layout[2 * index + 1] = length;
    this.addresses.set(this.lastAddressBytes, ADDRESS_BYTES * index);
    this.families[index] = this.family;
    this.dones[index] = done;
    this.targets[index] = address;
    this.ringUsed += length;
    this.queued++;
    if (this.queued - this.sentUpTo >= SEND_BATCH && this.retry === undefined) this.flush();
    else if (!this.flushQueued && this.retry === undefined) {
      this.flushQueued = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushSoon = (): void => {
    this.flushQueued = false;
    if (this.retry === undefined) this.flush();
  };

  /** Parses a destination once per change of address; a mismatch of family is the caller's error. */
  private rememberAddress(address: string): void {
    const family = ipAddressFamily(address);
    if (family !== this.family) {
      if (family === 0) throw new PortscoutError('ERR_INVALID_TARGET', `"${address}" is not an IP address; a raw packet goes to an address.`);
      throw new PortscoutError('ERR_FAMILY_MISMATCH', `An IPv${family} address (${address}) cannot be sent to on the raw IPv${this.family} ${this.protocol} socket.`);
    }
    this.lastAddressBytes.fill(0);
    this.lastAddressBytes.set(family === 4 ? parseIpv4Address(address) : parseIpv6Address(address));
    this.lastAddress = address;
  }

  /** Grows the per-packet arrays to hold `slots` packets. */
  private ensureSlots(slots: number): void {
    if (slots <= this.families.length) return;
    const size = Math.max(slots, this.families.length * 2);
    const layout = new Int32Array(2 * size);
    layout.set(this.layout);
    this.layout = layout;
    const addresses = new Uint8Array(ADDRESS_BYTES * size);
    addresses.set(this.addresses);
    this.addresses = addresses;
    const families = new Uint8Array(size);
    families.set(this.families);
    this.families = families;
  }

  /** Room for `length` more bytes: compacts the ring, or grows it up to the bound. */
  private makeRoom(length: number): boolean {
    if (this.sentUpTo === this.queued) {
      this.resetRing();
      if (length <= this.ring.length) return true;
    }
    let size = this.ring.length;
    while (size < this.ringUsed + length) size *= 2;
    if (size > MAX_RING_BYTES) return false;
    const ring = new Uint8Array(size);
    ring.set(this.ring.subarray(0, this.ringUsed));
    this.ring = ring;
    return true;
  }

  private resetRing(): void {
    this.ringUsed = 0;
    this.queued = 0;
    this.sentUpTo = 0;
    this.dones.length = 0;
    this.targets.length = 0;
  }

  /** Hands the waiting packets to the kernel, a batch per call, until it has no room. */
  private flush(): void {
    while (this.open && this.sentUpTo < this.queued) {
      const start = this.sentUpTo;
      const count = Math.min(this.queued - start, SEND_BATCH);
      const result = this.io.sendBatch(
        this.handle,
        this.ring,
        this.layout.subarray(2 * start),
        this.addresses.subarray(ADDRESS_BYTES * start),
        this.families.subarray(start),
        count,
      );
      if (result > 0) {
        this.sentUpTo = start + result;
        for (let i = start; i < start + result; i++) this.settle(i, null);
        continue;
      }
      if (result === -EAGAIN || result === -ENOBUFS) {
        // No room in the kernel now: go again after a turn of the event loop (replies are read meanwhile).
        this.retry = setImmediate(() => {
          this.retry = undefined;
          this.flush();
        });
        return;
      }
      // The kernel refused the first packet: it never left; the others go on.
      this.sentUpTo = start + 1;
      this.settle(start, sendFailed(this.targets[start] ?? '', result === 0 ? -22 : result));
    }
    if (this.sentUpTo === this.queued) this.resetRing();
  }

  private settle(index: number, error: Error | null): void {
    const done = this.dones[index];
    this.dones[index] = undefined;
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
    const waiting = this.queued - this.sentUpTo;
    const start = this.sentUpTo;
    this.sentUpTo = this.queued;
    for (let i = start; i < start + waiting; i++) this.settle(i, channelClosed(this.family, this.protocol));
    this.resetRing();
  }
}

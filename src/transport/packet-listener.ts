/**
 * The process-wide packet listener: one raw receiving socket per
 * (address family, protocol), shared by every scan running in the process,
 * and a demultiplexer that hands each reply to the scan that owns it.
 *
 * A scan registers with {@link acquireListener} and receives a block of source
 * ports (TCP and UDP probes) and ICMP echo identifiers of its own. A reply is
 * routed by the port or identifier it is addressed to; an ICMP error by the
 * source port or identifier of the datagram it quotes. The scan then validates
 * the reply itself (see the scan layer's keyed sequence numbers). Packets for
 * ports nobody owns are other traffic of the host and are ignored; packets that
 * cannot be parsed are counted in {@link ListenerCounters.malformed}.
 *
 * The sockets are raw channels (raw-channel.ts: portscout's native addon, or
 * the raw-socket package), which reuse their receive memory, so every
 * datagram is copied (into a {@link DatagramSlab}) before it is parsed.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import {
  IpProtocol,
  Ipv4Field,
  TcpField,
  parseIcmpv4Message,
  parseIcmpv6Message,
  readIpv4Envelope,
  readUint16,
  parseQuotedDatagram,
  type Icmpv4Message,
  type Icmpv6Message,
  type QuotedDatagram,
} from '../wire/index.js';
import { checkRawPermission } from './privileges.js';
import { openRawChannel } from './open-raw-channel.js';
import type { RawChannel } from './raw-channel.js';
import { KernelDropCounter } from './kernel-drops.js';
import { DatagramSlab } from './datagram-slab.js';

/** A reply delivered to a scan, already separated from its IP header. */
export interface RawReply {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The reply's protocol: 6 (TCP), 17 (UDP), 1 (ICMP) or 58 (ICMPv6). */
  readonly protocol: number;
  /** Who sent the reply (for ICMP errors: the router or host that reports). */
  readonly source: string;
  /** The bytes of {@link source}: from the IPv4 header; raw IPv6 sockets give no header, and the raw prober parses the text once. */
  readonly sourceBytes?: Uint8Array;
  /** The 4 bytes of the IPv4 header's destination: our address, for the checksum's pseudo-header (IPv4 only). */
  readonly destinationBytes?: Uint8Array;
  /** TTL of the reply's IP header; for IPv6 the hop limit, where the raw channel reads it (the native addon does, raw-socket does not). */
  readonly ttl?: number;
  /** The whole IPv4 packet, header included, up to its total length (IPv4 only): OS detection reads the header's fields. */
  readonly packet?: Uint8Array;
  /** The transport-layer bytes (TCP segment, UDP datagram, ICMP message), in memory that is never overwritten. */
  readonly payload: Uint8Array;
  /** For ICMP replies, the parsed message. */
  readonly icmp?: Icmpv4Message | Icmpv6Message;
  /** For ICMP errors, the datagram they quote. */
  readonly quoted?: QuotedDatagram;
  /** Receive time, `performance.now()` milliseconds. */
  readonly receivedAt: number;
}

/** What a scan hands the listener to receive its replies. */
export interface ReplySink {
  /** Called synchronously for each reply routed to this scan. */
  onReply(reply: RawReply): void;
}

/** Counters kept by the listener for the whole process. */
export interface ListenerCounters {
  /** Packets read from the raw sockets. */
  received: number;
  /** Packets that could not be parsed far enough to route them. */
  malformed: number;
  /** Datagrams larger than the raw channel reads in one piece, dropped unread (other traffic of the host, as a rule). */
  truncated: number;
}

/** Protocols a scan may listen on. */
export type ListenProtocol = 'tcp' | 'udp' | 'icmp';

/** What {@link acquireListener} returns: the scan's private view of the shared listener. */
export interface ListenerLease {
  /** First of the scan's source ports (TCP and UDP). */
  readonly portBase: number;
  /** How many source ports the scan owns from {@link portBase}. */
  readonly portCount: number;
  /** First of the scan's ICMP echo identifiers. */
  readonly icmpIdBase: number;
  /** How many identifiers the scan owns. */
  readonly icmpIdCount: number;
  /** Process-wide counters (read a delta to attribute to one scan). */
  readonly counters: Readonly<ListenerCounters>;
  /**
   * Sends one packet on the shared raw socket for (family, protocol).
   * IPv4 packets include their IP header; IPv6 packets are the transport bytes only.
   * `done` is called once the kernel took it, or with the error. The caller
   * may reuse `packet` once this returns (a packet that has to wait is copied).
   * `fewPerHost` (a sweep's probes, a handful per host): an IPv4 packet
   * leaves on the sweep socket instead, when it opens (see
   * {@link SWEEP_SEND_BUFFER_BYTES}).
   */
  send(family: 4 | 6, protocol: ListenProtocol, packet: Uint8Array, address: string, done: (error: Error | null) => void, fewPerHost?: boolean): void;
  /**
   * Whether this scan needs replies now (true from the start). When no scan
   * holding a lease needs them, the raw sockets stop reading and no longer
   * keep the process alive (a scan waiting for its consumer with nothing in
   * flight); replies wait in the kernel until a scan needs them again.
   */
  hold?(held: boolean): void;
  /**
   * Whether the process's scans together have sent their share of packets in
   * this turn of the event loop ({@link SENDS_PER_TURN}): a scan that sees
   * true yields, so the replies are read before more probes leave. Replies
   * then never pile up in the kernel's queue, however many scans share it.
   */
  turnFull?(): boolean;
  /**
   * Replies the kernel dropped on the process's raw sockets so far, a count
   * that only grows (see `kernel-drops.ts`); undefined where it cannot be read.
   */
  kernelDrops?(): number | undefined;
  /** Unregisters the scan; closes the raw sockets when no scan needs them any more. */
  release(): void;
}

/**
 * Packets all scans of the process send in one turn of the event loop at
 * most. A turn reads up to 2,048 waiting replies per socket, so with one
 * reply per probe the kernel's receive queue cannot grow from turn to turn
 * (before this bound, six scans sending 64 probes each per turn overflowed
 * it: 277,516 replies dropped, thousands of closed ports reported filtered).
 */
export const SENDS_PER_TURN = 256;
let sendsThisTurn = 0;
let turnResetQueued = false;
const resetTurn = (): void => {
  sendsThisTurn = 0;
  turnResetQueued = false;
};

const PORT_BLOCK = 256;
const PORT_FIRST = 40_000;
const PORT_BLOCKS = 80; // 40000..60479
const ID_BLOCK = 256;
const ID_BLOCKS = 255;
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * The send buffer of the sweep socket: IPv4's send-only raw socket
 * (`IPPROTO_RAW`) on which probes of modules that send a handful of packets
 * per host (discovery) leave. The kernel doubles it (16 MB); without
 * CAP_NET_ADMIN it is capped at `net.core.wmem_max`, and where that is the
 * default (212,992 bytes) sweeps of local subnets stay slow.
 *
 * Why a socket of its own: a packet to a neighbour not yet resolved (a down
 * host of a directly connected subnet) stays charged to its socket's send
 * buffer until ARP gives up, about 3 s. With the kernel's default buffer
 * (about 200 KB) a sweep of a /24 filled it after some 64 hosts, and every
 * later probe waited those 3 s: 9.2 s for the lab's /24 instead of 0.6 s.
 * A large buffer is safe only for a few packets per host: the kernel queues
 * at most `unres_qlen_bytes` (212,992 bytes by default) for one unresolved
 * neighbour and drops the rest without a word. The default buffer is that
 * size, so a port scan's socket pushes back before one host's queue
 * overflows; with an 8 MB buffer on it, a one-host full-port scan lost
 * ~4,200 SYNs that way after its link came back up, closed ports reported
 * filtered. Port scans therefore keep the protocol sockets' default buffer.
 *
 * With thousands of probes out, the down hosts waiting for ARP can fill the
 * kernel's neighbour table (`gc_thresh3`, 1,024 entries by default, for the
 * whole machine). The kernel then refuses the packet with ENOBUFS, which it
 * turns into silent success unless the socket has `IP_RECVERR`: the sweep
 * socket has it, so such a probe waits in the channel until there is room
 * (and its time runs from then), and no up host is reported down. With the
 * table shrunk to 64 entries, a random-order sweep of the lab's /24 found
 * 2 to 3 of its 6 up hosts without `IP_RECVERR`, all 6 with it (in 25 s).
 */
export const SWEEP_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

interface SocketSlot {
  channel: RawChannel;
  users: number;
}

interface Registration {
  sink: ReplySink;
  protocols: ReadonlySet<ListenProtocol>;
  families: Set<4 | 6>;
  portBlock: number;
  idBlock: number;
}

const counters: ListenerCounters = { received: 0, malformed: 0, truncated: 0 };
const sockets = new Map<string, SocketSlot>();
/** The sweep socket (see {@link SWEEP_SEND_BUFFER_BYTES}) while a lease uses it. */
let sweepSlot: SocketSlot | undefined;
const byPortBlock: (Registration | undefined)[] = new Array(PORT_BLOCKS);
const byIdBlock: (Registration | undefined)[] = new Array(ID_BLOCKS);
let rotate = 0;
/** The process's raw sockets' drop counts, from the first socket opened on. */
let dropCounter: KernelDropCounter | undefined;
/** Leases whose scans need replies now; at 0 the sockets stop reading (and stop keeping the process alive). */
let heldLeases = 0;

/** Starts or stops reading on every open raw socket, as the held leases say. */
function setReading(reading: boolean): void {
  for (const slot of sockets.values()) slot.channel.setReading(reading);
}

function changeHeld(delta: number): void {
  const before = heldLeases;
  heldLeases += delta;
  if (before > 0 && heldLeases === 0) setReading(false);
  else if (before === 0 && heldLeases > 0) setReading(true);
}

const SOCKET_KEYS = {
  4: { tcp: '4/tcp', udp: '4/udp', icmp: '4/icmp' },
  6: { tcp: '6/tcp', udp: '6/udp', icmp: '6/icmp' },
} as const;

function socketKey(family: 4 | 6, protocol: ListenProtocol): string {
  return SOCKET_KEYS[family][protocol];
}

function openSocket(family: 4 | 6, protocol: ListenProtocol): SocketSlot {
  const key = socketKey(family, protocol);
  const existing = sockets.get(key);
  if (existing) {
    existing.users++;
    return existing;
  }
  checkRawPermission(family);
  const channel = openRawChannel(family, protocol, RECEIVE_BUFFER_BYTES, {
    onDatagram: (buffer, offset, length, source, hopLimit) => dispatch(family, protocol, buffer, source, length, offset, hopLimit),
    onTruncated: () => {
      counters.received++;
      counters.truncated++;
    },
    // The channel closed after a receive error; the slot is dropped so later sends report it.
    onError: () => {
      if (sockets.get(key)?.channel === channel) sockets.delete(key);
    },
  });
  const slot = { channel, users: 1 };
  sockets.set(key, slot);
  channel.setReading(heldLeases > 0);
  (dropCounter ??= new KernelDropCounter()).adoptSockets();
  return slot;
}

function closeSocket(family: 4 | 6, protocol: ListenProtocol): void {
  const key = socketKey(family, protocol);
  const slot = sockets.get(key);
  if (!slot) return;
  slot.users--;
  if (slot.users <= 0) {
    dropCounter?.read();
    sockets.delete(key);
    slot.channel.close();
    dropCounter?.adoptSockets();
  }
}

/**
 * Takes the sweep socket (opening it for the first user); undefined when it
 * cannot open: the lease's packets then leave on the protocol sockets (a
 * sweep is slower, not wrong), and the next lease tries again.
 */
function openSweepSocket(): RawChannel | undefined {
  if (sweepSlot) {
    sweepSlot.users++;
    return sweepSlot.channel;
  }
  try {
    const channel = openRawChannel(4, 'ip', 0, {
      onDatagram: () => {},
      onTruncated: () => {},
      onError: () => {
        if (sweepSlot?.channel === channel) sweepSlot = undefined;
      },
    }, SWEEP_SEND_BUFFER_BYTES);
    sweepSlot = { channel, users: 1 };
    return channel;
  } catch {
    // The protocol sockets opened; this one did not (out of descriptors, a security module?).
    return undefined;
  }
}

function closeSweepSocket(): void {
  if (!sweepSlot) return;
  sweepSlot.users--;
  if (sweepSlot.users <= 0) {
    sweepSlot.channel.close();
    sweepSlot = undefined;
  }
}

function ownerOfPort(port: number | undefined): Registration | undefined {
  if (port === undefined || port < PORT_FIRST) return undefined;
  return byPortBlock[Math.floor((port - PORT_FIRST) / PORT_BLOCK)];
}

function ownerOfId(id: number | undefined): Registration | undefined {
  if (id === undefined || id < ID_BLOCK) return undefined;
  return byIdBlock[Math.floor(id / ID_BLOCK) - 1];
}

function deliver(owner: Registration | undefined, reply: RawReply): void {
  owner?.sink.onReply(reply);
}

const slab = new DatagramSlab();

/**
 * Routes one received datagram: `length` bytes of `received` from `offset`
 * (default: all of it); `hopLimit` is an IPv6 reply's, where the channel read
 * it. `received` may be a channel's reused receive memory:
 * the datagram is copied before anything parses it, since every parsed field
 * that holds bytes (payload, ICMP message, quoted datagram) is a view.
 * Exported for tests of the demultiplexer. @internal
 */
export function dispatch(
  family: 4 | 6,
  protocol: ListenProtocol,
  received: Uint8Array,
  source: string,
  length: number = received.length,
  offset = 0,
  hopLimit?: number,
): void {
  counters.received++;
  const receivedAt = performance.now();
  const buffer = slab.copy(offset === 0 ? received : received.subarray(offset, offset + length), length);
  let payload: Uint8Array;
  let ttl: number | undefined;
  let sourceBytes: Uint8Array | undefined;
  let destinationBytes: Uint8Array | undefined;
  let packet: Uint8Array | undefined;
  if (family === 4) {
    const ip = readIpv4Envelope(buffer);
    if (!ip.ok) {
      counters.malformed++;
      return;
    }
    payload = buffer.subarray(ip.value.headerLength, ip.value.totalLength);
    packet = buffer.subarray(0, ip.value.totalLength);
    ttl = ip.value.ttl;
    sourceBytes = buffer.subarray(Ipv4Field.SOURCE.start, Ipv4Field.SOURCE.end);
    destinationBytes = buffer.subarray(Ipv4Field.DESTINATION.start, Ipv4Field.DESTINATION.end);
  } else {
    payload = buffer;
    ttl = hopLimit;
  }
  if (protocol === 'tcp' || protocol === 'udp') {
    // UDP puts the destination port where TCP does.
    if (payload.length < TcpField.DESTINATION_PORT.end) {
      counters.malformed++;
      return;
    }
    const destinationPort = readUint16(payload, TcpField.DESTINATION_PORT.start);
    const owner = ownerOfPort(destinationPort);
    if (!owner || !owner.protocols.has(protocol)) return;
    deliver(owner, {
      family,
      protocol: protocol === 'tcp' ? IpProtocol.TCP : IpProtocol.UDP,
      source,
      sourceBytes,
      destinationBytes,
      ttl,
      packet,
      payload,
      receivedAt,
    });
    return;
  }
  const parsed = family === 4 ? parseIcmpv4Message(payload) : parseIcmpv6Message(payload);
  if (!parsed.ok) {
    counters.malformed++;
    return;
  }
  const icmp = parsed.value;
  if (icmp.kind === 'echo-reply') {
    const owner = ownerOfId(icmp.identifier);
    if (!owner || !owner.protocols.has('icmp')) return;
    deliver(owner, { family, protocol: family === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6, source, sourceBytes, destinationBytes, ttl, packet, payload, icmp, receivedAt });
    return;
  }
  if (icmp.kind !== 'destination-unreachable' && icmp.kind !== 'time-exceeded') return;
  const quote = parseQuotedDatagram(icmp.quoted);
  if (!quote.ok) {
    counters.malformed++;
    return;
  }
  const quoted = quote.value;
  const isEcho = quoted.protocol === IpProtocol.ICMP || quoted.protocol === IpProtocol.ICMPV6;
  const owner = isEcho ? ownerOfId(quoted.icmpIdentifier) : ownerOfPort(quoted.sourcePort);
  if (!owner) return;
  deliver(owner, {
    family,
    protocol: family === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6,
    source,
    sourceBytes,
    destinationBytes,
    ttl,
    packet,
    payload,
    icmp,
    quoted,
    receivedAt,
  });
}

function freeSlot(table: (Registration | undefined)[]): number {
  for (let i = 0; i < table.length; i++) {
    const slot = (rotate + i) % table.length;
    if (table[slot] === undefined) return slot;
  }
  return -1;
}

/**
 * Registers a scan with the shared listener. The raw sockets of a family are
 * opened on the scan's first send to that family (all the protocols it listens
 * on, so that ICMP errors are heard before the first probe leaves).
 *
 * Throws `ERR_TOO_MANY_SCANS` when every block of source ports is taken by
 * running scans; `send` throws `ERR_RAW_UNAVAILABLE` when the raw-socket addon
 * is missing and `ERR_RAW_PERMISSION` without CAP_NET_RAW.
 *
 * @example
 * ```ts
 * const lease = acquireListener(['tcp', 'icmp'], { onReply: (r) => console.log(r.source) });
 * try { ... } finally { lease.release(); }
 * ```
 */
export function acquireListener(protocols: readonly ListenProtocol[], sink: ReplySink): ListenerLease {
  const portBlock = freeSlot(byPortBlock);
  const idBlock = freeSlot(byIdBlock);
  if (portBlock < 0 || idBlock < 0) {
    throw new PortscoutError('ERR_TOO_MANY_SCANS', `Too many raw scans run at once in this process (at most ${PORT_BLOCKS}); wait for one to finish.`);
  }
  rotate++;
  const registration: Registration = { sink, protocols: new Set(protocols), families: new Set(), portBlock, idBlock };
  byPortBlock[portBlock] = registration;
  byIdBlock[idBlock] = registration;
  const opened: [4 | 6, ListenProtocol][] = [];
  const ensureFamily = (family: 4 | 6): void => {
    if (registration.families.has(family)) return;
    for (const protocol of protocols) {
      openSocket(family, protocol);
      opened.push([family, protocol]);
    }
    registration.families.add(family);
  };
  let released = false;
  let held = true;
  /** The sweep socket, once this lease sent a few-per-host IPv4 packet (null: it could not open). */
  let sweep: RawChannel | undefined | null;
  changeHeld(1);
  return {
    portBase: PORT_FIRST + portBlock * PORT_BLOCK,
    portCount: PORT_BLOCK,
    icmpIdBase: (idBlock + 1) * ID_BLOCK,
    icmpIdCount: ID_BLOCK,
    counters,
    send(family, protocol, packet, address, done, fewPerHost = false) {
      if (released) throw new PortscoutError('ERR_LISTENER_RELEASED', 'This scan has ended; its listener lease cannot send.');
      ensureFamily(family);
      const slot = sockets.get(socketKey(family, protocol));
      if (!slot) throw new PortscoutError('ERR_RAW_SOCKET_CLOSED', `The raw ${protocol} socket for IPv${family} closed after an error.`);
      let channel = slot.channel;
      if (fewPerHost && family === 4) {
        if (sweep === undefined) sweep = openSweepSocket() ?? null;
        // Not after a receive error closed it: the protocol socket carries the lease's packets then.
        if (sweep && sweepSlot?.channel === sweep) channel = sweep;
      }
      if (!turnResetQueued) {
        turnResetQueued = true;
        setImmediate(resetTurn);
      }
      sendsThisTurn++;
      channel.send(packet, address, done);
    },
    turnFull: () => sendsThisTurn >= SENDS_PER_TURN,
    kernelDrops: () => {
      dropCounter ??= new KernelDropCounter();
      return dropCounter.available ? dropCounter.read() : undefined;
    },
    hold(wanted) {
      if (released || wanted === held) return;
      held = wanted;
      changeHeld(wanted ? 1 : -1);
    },
    release() {
      if (released) return;
      released = true;
      if (held) changeHeld(-1);
      held = false;
      byPortBlock[portBlock] = undefined;
      byIdBlock[idBlock] = undefined;
      for (const [family, protocol] of opened) closeSocket(family, protocol);
      opened.length = 0;
      if (sweep && sweepSlot?.channel === sweep) closeSweepSocket();
      sweep = undefined;
    },
  };
}

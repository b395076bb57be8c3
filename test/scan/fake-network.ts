/**
 * A fake network for unit tests of the probe engine: a listener lease whose
 * `send` hands each probe to a scripted target that answers with real packets
 * built by the wire layer. No root; no sockets, except that `stall` sends
 * answers through a loopback UDP socket, as the raw socket's come: in the
 * event loop's poll phase.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  IpProtocol,
  TcpFlags,
  buildIcmpv4Message,
  buildTcpSegment,
  buildUdpDatagram,
  parseIpv4Packet,
  parseTcpSegment,
  parseUdpDatagram,
  parseIcmpv4Message,
  parseQuotedDatagram,
} from '../../src/wire/index.js';
import type { ListenProtocol, ListenerLease, RawReply } from '../../src/transport/packet-listener.js';

/** What the scripted target does with a probe to one port. */
export type PortBehaviour = 'open' | 'closed' | 'drop' | 'admin-prohibited' | 'port-unreach' | 'udp-reply';

export interface SentProbe {
  family: 4 | 6;
  protocol: ListenProtocol;
  address: string;
  bytes: Uint8Array;
}

export interface FakeNetwork {
  acquire: (protocols: readonly ListenProtocol[], sink: { onReply(reply: RawReply): void }) => ListenerLease;
  sent: SentProbe[];
  released: boolean;
  acquired: number;
  /** Inject a reply by hand. */
  deliver(reply: RawReply): void;
}

export interface FakeNetworkOptions {
  /** Behaviour per destination port (default: closed). */
  ports: Readonly<Record<number, PortBehaviour>>;
  /** Drop the answer to the first N sends of each (address, port). */
  dropFirst?: number;
  /** Answer each probe this many times (duplicates). */
  copies?: number;
  /** Limit ICMP errors to `burst` and then one per `refillMs` (a target's ICMP rate limit). */
  icmpLimit?: { burst: number; refillMs: number };
  /** Reply delay in ms. */
  delayMs?: number;
  /** Report each send as taken at once, inside `send` (as the native raw-socket path does), instead of on the next turn. */
  sendDoneSync?: boolean;
  ttl?: number;
  /** Break the transport checksum of every answer (a corrupt or forged reply). */
  corrupt?: boolean;
  /**
   * With each answer, send this many hostile packets as well: bad-checksum
   * copies of the answer, UDP from the next port to the probe's source port,
   * ICMP port-unreachables quoting a probe we never sent, TCP resets with a
   * wrong acknowledgment, and truncated junk.
   */
  junk?: number;
  /**
   * Loopback: the raw socket also receives every probe on its way out (the
   * scanner is the target), routed to the scan when it goes to a port of its block.
   */
  loopback?: boolean;
  /**
   * A process that stalls while answers are on their way: `afterMs` after a
   * probe its answer reaches a socket (a loopback UDP socket stands in for the
   * raw one) and the process then busy-waits `forMs`, past the probe's
   * timeout, so the timeout and the answer are both due when it wakes up.
   */
  stall?: { afterMs: number; forMs: number };
}

/** Offset of the checksum field in each transport header. */
const CHECKSUM_AT: Readonly<Record<number, number>> = { [IpProtocol.TCP]: 16, [IpProtocol.UDP]: 6, [IpProtocol.ICMP]: 2 };

/** The reply with its transport checksum broken (and, for UDP, never zero: zero means "no checksum"). */
export function withBadChecksum(reply: RawReply): RawReply {
  const payload = reply.payload.slice();
  const at = CHECKSUM_AT[reply.protocol] as number;
  payload[at] = (payload[at] as number) ^ 0x5a;
  if (payload[at] === 0 && payload[at + 1] === 0) payload[at + 1] = 1;
  return { ...reply, payload };
}

/** Sequence space a segment with these flags consumes (no payload): one for SYN, one for FIN. */
function consumed(flags: number): number {
  return ((flags & TcpFlags.SYN) !== 0 ? 1 : 0) + ((flags & TcpFlags.FIN) !== 0 ? 1 : 0);
}

function quote(ipPacket: Uint8Array): Uint8Array {
  const headerLength = ((ipPacket[0] as number) & 0x0f) * 4;
  return ipPacket.slice(0, headerLength + 8);
}

export function createFakeNetwork(options: FakeNetworkOptions): FakeNetwork {
  let sink: { onReply(reply: RawReply): void } | undefined;
  const attempts = new Map<string, number>();
  let icmpTokens = options.icmpLimit?.burst ?? Infinity;
  let lastRefill = performance.now();
  const ttl = options.ttl ?? 64;
  // With stall: answers wait here; each datagram on the socket delivers the next one.
  const stalled: RawReply[] = [];
  let socket: Socket | undefined;
  const openStallSocket = (): Socket => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    s.on('message', () => {
      const reply = stalled.shift();
      if (reply && !network.released) sink?.onReply({ ...reply, receivedAt: performance.now() });
    });
    return s;
  };
  const network: FakeNetwork = {
    sent: [],
    released: false,
    acquired: 0,
    deliver(reply) {
      sink?.onReply(reply);
    },
    acquire(_protocols, s) {
      sink = s;
      if (options.stall) socket ??= openStallSocket();
      network.acquired++;
      return {
        portBase: 40_000,
        portCount: 256,
        icmpIdBase: 256,
        icmpIdCount: 256,
        counters: { received: 0, malformed: 0 },
        send(family, protocol, packet, address, done) {
          network.sent.push({ family, protocol, address, bytes: packet.slice() });
          if (options.sendDoneSync) done(null);
          else setImmediate(() => done(null));
          const replies = answer(packet);
          if (options.loopback) replies.unshift(...looped(packet));
          for (const reply of replies) {
            if (options.stall) {
              const { afterMs, forMs } = options.stall;
              // The stall runs in the loop's check phase, so the loop's next turn starts with its timers.
              setTimeout(() => setImmediate(() => {
                stalled.push(reply);
                const own = socket as Socket;
                own.send(new Uint8Array(1), own.address().port, '127.0.0.1');
                const until = performance.now() + forMs;
                while (performance.now() < until);
              }), afterMs);
              continue;
            }
            setTimeout(() => {
              if (!network.released) sink?.onReply({ ...reply, receivedAt: performance.now() });
            }, options.delayMs ?? 1);
          }
        },
        release() {
          network.released = true;
          socket?.close();
          socket = undefined;
        },
      };
    },
  };

  /** The probe itself as the raw socket sees it on loopback, when it goes to a port of the scan's block. */
  function looped(packet: Uint8Array): RawReply[] {
    const ip = parseIpv4Packet(packet);
    if (!ip.ok) return [];
    const transport = ip.value.payload;
    const port = ((transport[2] as number) << 8) | (transport[3] as number);
    if (port < 40_000 || port >= 40_256) return [];
    const protocol = ip.value.header.protocol === IpProtocol.UDP ? IpProtocol.UDP : IpProtocol.TCP;
    return [{ family: 4, protocol, source: ip.value.header.source, sourceBytes: packet.slice(12, 16), destinationBytes: packet.slice(16, 20), ttl, payload: transport.slice(), receivedAt: 0 }];
  }

  function icmpAllowed(): boolean {
    const limit = options.icmpLimit;
    if (!limit) return true;
    const now = performance.now();
    const refills = Math.floor((now - lastRefill) / limit.refillMs);
    if (refills > 0) {
      icmpTokens = Math.min(limit.burst, icmpTokens + refills);
      lastRefill += refills * limit.refillMs;
    }
    if (icmpTokens < 1) return false;
    icmpTokens--;
    return true;
  }

  function answer(packet: Uint8Array): RawReply[] {
    const ip = parseIpv4Packet(packet);
    if (!ip.ok) throw new Error('fake network got a malformed probe');
    const { source, destination } = ip.value.header;
    const protocol = ip.value.header.protocol;
    let sourcePort: number;
    let destinationPort: number;
    let sequence = 0;
    let flags = 0;
    if (protocol === IpProtocol.TCP) {
      const tcp = parseTcpSegment(ip.value.payload);
      if (!tcp.ok) throw new Error('fake network got a malformed TCP probe');
      ({ sourcePort, destinationPort, sequence, flags } = tcp.value);
    } else if (protocol === IpProtocol.UDP) {
      const udp = parseUdpDatagram(ip.value.payload);
      if (!udp.ok) throw new Error('fake network got a malformed UDP probe');
      ({ sourcePort, destinationPort } = udp.value);
    } else {
      return [];
    }
    const key = `${destination}/${destinationPort}`;
    const count = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, count);
    if (count <= (options.dropFirst ?? 0)) return [];
    const behaviour = options.ports[destinationPort] ?? (protocol === IpProtocol.UDP ? 'port-unreach' : 'closed');
    const pseudo = { source: destination, destination: source };
    let reply: RawReply | undefined;
    // The reply's IPv4 header would carry the probe's addresses swapped.
    const base = { family: 4 as const, source: destination, sourceBytes: packet.slice(16, 20), destinationBytes: packet.slice(12, 16), ttl, receivedAt: 0 };
    const icmpError = (code: number): RawReply | undefined => {
      if (!icmpAllowed()) return undefined;
      const payload = buildIcmpv4Message({ kind: 'destination-unreachable', code, quoted: quote(packet) });
      const icmp = parseIcmpv4Message(payload);
      if (!icmp.ok || icmp.value.kind !== 'destination-unreachable') throw new Error('bad fake ICMP');
      const quoted = parseQuotedDatagram(icmp.value.quoted);
      if (!quoted.ok) throw new Error('bad fake quote');
      return { ...base, protocol: IpProtocol.ICMP, payload, icmp: icmp.value, quoted: quoted.value };
    };
    switch (behaviour) {
      case 'open':
        reply = {
          ...base,
          protocol: IpProtocol.TCP,
          payload: buildTcpSegment(
            { sourcePort: destinationPort, destinationPort: sourcePort, sequence: 12345, acknowledgment: (sequence + 1) >>> 0, flags: TcpFlags.SYN | TcpFlags.ACK, window: 29200 },
            pseudo,
          ),
        };
        break;
      case 'closed': {
        const carriesAck = (flags & TcpFlags.ACK) !== 0;
        reply = {
          ...base,
          protocol: IpProtocol.TCP,
          payload: buildTcpSegment(
            carriesAck
              ? { sourcePort: destinationPort, destinationPort: sourcePort, sequence: 0, flags: TcpFlags.RST, window: 0 }
              : // RFC 9293: the reset acknowledges what the segment consumed (one for SYN, one for FIN).
                { sourcePort: destinationPort, destinationPort: sourcePort, sequence: 0, acknowledgment: (sequence + consumed(flags)) >>> 0, flags: TcpFlags.RST | TcpFlags.ACK, window: 0 },
            pseudo,
          ),
        };
        if (carriesAck) {
          // RFC 793: a reset answering a segment with ACK takes its sequence number from that ACK field.
          const tcp = parseTcpSegment(ip.value.payload);
          if (tcp.ok) reply = { ...reply, payload: buildTcpSegment({ sourcePort: destinationPort, destinationPort: sourcePort, sequence: tcp.value.acknowledgment, flags: TcpFlags.RST }, pseudo) };
        }
        break;
      }
      case 'admin-prohibited':
        reply = icmpError(13);
        break;
      case 'port-unreach':
        reply = icmpError(3);
        break;
      case 'udp-reply':
        reply = {
          ...base,
          protocol: IpProtocol.UDP,
          payload: buildUdpDatagram({ sourcePort: destinationPort, destinationPort: sourcePort, payload: new TextEncoder().encode('pong') }, pseudo),
        };
        break;
      case 'drop':
        break;
    }
    if (!reply) return [];
    if (options.corrupt) reply = withBadChecksum(reply);
    const replies = new Array<RawReply>(options.copies ?? 1).fill(reply);
    for (let i = 0; i < (options.junk ?? 0); i++) replies.push(hostile(i, reply, base, pseudo, sourcePort, destinationPort, sequence));
    return replies;
  }

  /** One hostile packet of the kinds {@link FakeNetworkOptions.junk} lists, in turn. */
  function hostile(
    i: number,
    answer: RawReply,
    base: Omit<RawReply, 'protocol' | 'payload'>,
    pseudo: { source: string; destination: string },
    ourPort: number,
    theirPort: number,
    sequence: number,
  ): RawReply {
    switch (i % 5) {
      case 0:
        return withBadChecksum(answer);
      case 1:
        return { ...base, protocol: IpProtocol.UDP, payload: buildUdpDatagram({ sourcePort: (theirPort % 65535) + 1, destinationPort: ourPort, payload: new Uint8Array([i]) }, pseudo) };
      case 2: {
        // A port unreachable for a datagram from a source port of ours that never went there.
        const forged = buildUdpDatagram({ sourcePort: ourPort ^ 1, destinationPort: theirPort, payload: new Uint8Array(0) }, { source: pseudo.destination, destination: pseudo.source });
        const header = new Uint8Array([0x45, 0, 0, 28, 0, 0, 0, 0, 64, IpProtocol.UDP, 0, 0, ...(base.destinationBytes ?? []), ...(base.sourceBytes ?? [])]);
        const payload = buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted: new Uint8Array([...header, ...forged.subarray(0, 8)]) });
        const icmp = parseIcmpv4Message(payload);
        if (!icmp.ok || icmp.value.kind !== 'destination-unreachable') throw new Error('bad fake ICMP');
        const quoted = parseQuotedDatagram(icmp.value.quoted);
        if (!quoted.ok) throw new Error('bad fake quote');
        return { ...base, protocol: IpProtocol.ICMP, payload, icmp: icmp.value, quoted: quoted.value };
      }
      case 3:
        return {
          ...base,
          protocol: IpProtocol.TCP,
          payload: buildTcpSegment({ sourcePort: theirPort, destinationPort: ourPort, sequence: 0, acknowledgment: (sequence + 7) >>> 0, flags: TcpFlags.RST | TcpFlags.ACK, window: 0 }, pseudo),
        };
      default:
        return { ...answer, payload: answer.payload.subarray(0, 3) };
    }
  }

  return network;
}

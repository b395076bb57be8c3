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
  buildIcmpv6Message,
  buildIpv6Packet,
  parseIpv4Address,
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
import { acquireListener, dispatch, type ListenProtocol, type ListenerLease, type RawReply } from '../../src/transport/packet-listener.js';

/** What the scripted target does with a probe to one port. */
export type PortBehaviour =
  | 'open'
  | 'closed'
  /** A reset with a non-zero window (the Window scan's open port). */
  | 'closed-window'
  | 'drop'
  | 'admin-prohibited'
  | 'port-unreach'
  /** A port unreachable whose quoted datagram's UDP checksum is not the probe's (a forged or altered quote). */
  | 'port-unreach-altered'
  /** A router on the way answers host-unreachable (a third address: `FakeNetworkOptions.router`). */
  | 'router-host-unreach'
  | 'udp-reply';

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
  /** Sends refused (`FakeNetworkOptions.refuse`): they never reached the network. */
  refused: number;
  /** Answers the scanner's kernel dropped (`FakeNetworkOptions.kernelDropFirst`). */
  kernelDrops: number;
  /** Inject a reply by hand. */
  deliver(reply: RawReply): void;
}

export interface FakeNetworkOptions {
  /** Behaviour per destination port (default: closed). */
  ports: Readonly<Record<number, PortBehaviour>>;
  /** Drop the answer to the first N sends of each (address, port). */
  dropFirst?: number;
  /**
   * The scanner's own kernel drops the answers to the first N sends of each
   * (address, port), as a full raw receive queue does: the lease's
   * `kernelDrops` counts them (the drops column of /proc/net/raw).
   */
  kernelDropFirst?: number;
  /** Answer each probe this many times (duplicates). */
  copies?: number;
  /** Limit ICMP errors to `burst` and then one per `refillMs` (a target's ICMP rate limit). */
  icmpLimit?: { burst: number; refillMs: number };
  /** Reply delay in ms. */
  delayMs?: number;
  /** Report each send as taken at once, inside `send` (as the native raw-socket path does), instead of on the next turn. */
  sendDoneSync?: boolean;
  /**
   * Each send waits this long in the scanner's kernel before it leaves and
   * is reported taken, or refused (as packets behind a send buffer full of
   * packets waiting for ARP do); its answers come that much later.
   */
  sendLeavesAfterMs?: number;
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
  /**
   * The kernel refuses sends: called with the probe's destination port (0
   * for ICMP) and how many probes went to it so far (this one included);
   * a returned message ("Operation not permitted", as raw-socket gives the
   * C library's text) fails the send with it, and the probe never leaves.
   */
  refuse?: (port: number, count: number) => string | undefined;
  /** Answer ICMP echo requests (default: drop them). */
  echo?: boolean;
  /** The router that sends `router-host-unreach` errors (default 198.18.0.254, fd00::fe for IPv6). */
  router?: string;
  /**
   * The scanner's IPv6 address: raw IPv6 sockets send no IP header, so the
   * fake network needs it for the answers' checksums (default fd00::1).
   * IPv6 answers go through the real listener's demultiplexer (`dispatch`),
   * as raw IPv6 sockets hand them over: the transport header without the IP
   * one. `corrupt`, `junk`, `loopback` and `stall` are IPv4 only.
   */
  source6?: string;
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
  const refusals = new Map<string, number>();
  let icmpTokens = options.icmpLimit?.burst ?? Infinity;
  let lastRefill = performance.now();
  const ttl = options.ttl ?? 64;
  /** The first source port of the scan's block (from the listener). */
  let portBase = 0;
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
    refused: 0,
    kernelDrops: 0,
    deliver(reply) {
      sink?.onReply(reply);
    },
    acquire(protocols, s) {
      sink = s;
      if (options.stall) socket ??= openStallSocket();
      network.acquired++;
      network.released = false;
      // This lease's answers stop at its release (a scan's discovery and port phases hold one each, in turn).
      let leaseReleased = false;
      // A real registration with the shared listener (its sockets open only on a real send, and
      // none is made): the source ports and ICMP ids are its own, and IPv6 answers routed by
      // `dispatch` reach this scan.
      const real = acquireListener(protocols, s);
      portBase = real.portBase;
      return {
        portBase: real.portBase,
        portCount: real.portCount,
        icmpIdBase: real.icmpIdBase,
        icmpIdCount: real.icmpIdCount,
        counters: { received: 0, malformed: 0, truncated: 0 },
        kernelDrops: () => (options.kernelDropFirst === undefined ? undefined : network.kernelDrops),
        send(family, protocol, packet, address, done) {
          const leavesAfter = options.sendLeavesAfterMs ?? 0;
          if (options.refuse) {
            const port = protocol === 'icmp' ? 0 : family === 4 ? ((packet[22] as number) << 8) | (packet[23] as number) : ((packet[2] as number) << 8) | (packet[3] as number);
            const key = `${address}/${protocol}/${port}`;
            const count = (refusals.get(key) ?? 0) + 1;
            refusals.set(key, count);
            const message = options.refuse(port, count);
            if (message !== undefined) {
              network.refused++;
              if (leavesAfter > 0) setTimeout(() => done(new Error(message)), leavesAfter);
              else setImmediate(() => done(new Error(message)));
              return;
            }
          }
          network.sent.push({ family, protocol, address, bytes: packet.slice() });
          if (leavesAfter > 0) setTimeout(() => done(null), leavesAfter);
          else if (options.sendDoneSync) done(null);
          else setImmediate(() => done(null));
          const answers = answer(family, protocol, packet, address);
          if (family === 6) {
            // Through the real demultiplexer, as a raw IPv6 socket hands them over.
            for (const a of answers) {
              setTimeout(() => {
                if (!leaseReleased) dispatch(6, a.protocol === IpProtocol.ICMPV6 ? 'icmp' : a.protocol === IpProtocol.UDP ? 'udp' : 'tcp', a.payload, a.from);
              }, (options.delayMs ?? 1) + leavesAfter);
            }
            return;
          }
          const replies = rawReplies4(packet, answers);
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
              if (!leaseReleased) s.onReply({ ...reply, receivedAt: performance.now() });
            }, (options.delayMs ?? 1) + leavesAfter);
          }
        },
        release() {
          network.released = true;
          leaseReleased = true;
          real.release();
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
    if (port < portBase || port >= portBase + 256) return [];
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

  /** A probe as the fake target reads it, of either family. */
  interface Probe {
    family: 4 | 6;
    /** The scanner's address and the target's. */
    source: string;
    destination: string;
    protocol: number;
    /** The probe as an IP packet (what an ICMP error quotes). */
    ipPacket: Uint8Array;
    transport: Uint8Array;
  }

  function probeOf(family: 4 | 6, listen: ListenProtocol, packet: Uint8Array, address: string): Probe {
    if (family === 4) {
      const ip = parseIpv4Packet(packet);
      if (!ip.ok) throw new Error('fake network got a malformed probe');
      const { source, destination, protocol } = ip.value.header;
      return { family, source, destination, protocol, ipPacket: packet, transport: ip.value.payload };
    }
    // Raw IPv6 sockets send the transport header only: the kernel adds the IP header.
    const protocol = listen === 'icmp' ? IpProtocol.ICMPV6 : listen === 'udp' ? IpProtocol.UDP : IpProtocol.TCP;
    const source = options.source6 ?? 'fd00::1';
    return {
      family,
      source,
      destination: address,
      protocol,
      ipPacket: buildIpv6Packet({ nextHeader: protocol, source, destination: address, hopLimit: 64 }, packet),
      transport: packet,
    };
  }

  /** An answer's transport message and who sends it. */
  interface Answer {
    protocol: number;
    from: string;
    payload: Uint8Array;
  }

  function answer(family: 4 | 6, listen: ListenProtocol, packet: Uint8Array, address: string): Answer[] {
    const probe = probeOf(family, listen, packet, address);
    const { source, destination, protocol } = probe;
    const icmpProtocol = family === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6;
    const pseudo = { source: destination, destination: source };
    if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6) {
      if (!options.echo) return [];
      const identifier = ((probe.transport[4] as number) << 8) | (probe.transport[5] as number);
      const sequence = ((probe.transport[6] as number) << 8) | (probe.transport[7] as number);
      const payload =
        family === 4 ? buildIcmpv4Message({ kind: 'echo-reply', identifier, sequence }) : buildIcmpv6Message({ kind: 'echo-reply', identifier, sequence }, pseudo);
      return [{ protocol: icmpProtocol, from: destination, payload }];
    }
    let sourcePort: number;
    let destinationPort: number;
    let sequence = 0;
    let acknowledgment = 0;
    let flags = 0;
    if (protocol === IpProtocol.TCP) {
      const tcp = parseTcpSegment(probe.transport);
      if (!tcp.ok) throw new Error('fake network got a malformed TCP probe');
      ({ sourcePort, destinationPort, sequence, acknowledgment, flags } = tcp.value);
    } else if (protocol === IpProtocol.UDP) {
      const udp = parseUdpDatagram(probe.transport);
      if (!udp.ok) throw new Error('fake network got a malformed UDP probe');
      ({ sourcePort, destinationPort } = udp.value);
    } else {
      return [];
    }
    const key = `${destination}/${protocol}/${destinationPort}`;
    const count = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, count);
    if (count <= (options.dropFirst ?? 0)) return [];
    if (count <= (options.kernelDropFirst ?? 0)) {
      // The answer comes back and our kernel drops it: counted once it would have arrived.
      setTimeout(() => network.kernelDrops++, options.delayMs ?? 1);
      return [];
    }
    const behaviour = options.ports[destinationPort] ?? (protocol === IpProtocol.UDP ? 'port-unreach' : 'closed');
    const icmpError = (code: number, from: string, alter = false): Answer[] => {
      if (!icmpAllowed()) return [];
      const quoted = (family === 4 ? quote(probe.ipPacket) : probe.ipPacket).slice();
      if (alter) {
        const udp = family === 4 ? ((quoted[0] as number) & 0x0f) * 4 : 40;
        quoted[udp + 7] = ((quoted[udp + 7] as number) ^ 0x5a) & 0xff;
      }
      const payload =
        family === 4
          ? buildIcmpv4Message({ kind: 'destination-unreachable', code, quoted })
          : buildIcmpv6Message({ kind: 'destination-unreachable', code, quoted }, { source: from, destination: source });
      return [{ protocol: icmpProtocol, from, payload }];
    };
    const tcpReply = (init: Omit<Parameters<typeof buildTcpSegment>[0], 'sourcePort' | 'destinationPort'>): Answer[] => [
      { protocol: IpProtocol.TCP, from: destination, payload: buildTcpSegment({ sourcePort: destinationPort, destinationPort: sourcePort, ...init }, pseudo) },
    ];
    // ICMP codes per family: port unreachable, administratively prohibited, host unreachable.
    const codes = family === 4 ? { port: 3, admin: 13, host: 1 } : { port: 4, admin: 1, host: 3 };
    switch (behaviour) {
      case 'open':
        return tcpReply({ sequence: 12345, acknowledgment: (sequence + 1) >>> 0, flags: TcpFlags.SYN | TcpFlags.ACK, window: 29200 });
      case 'closed':
      case 'closed-window': {
        const window = behaviour === 'closed-window' ? 1024 : 0;
        // RFC 793: a reset answering a segment with ACK takes its sequence number from that ACK field;
        // otherwise (RFC 9293) it acknowledges what the segment consumed (one for SYN, one for FIN).
        return (flags & TcpFlags.ACK) !== 0
          ? tcpReply({ sequence: acknowledgment, flags: TcpFlags.RST, window })
          : tcpReply({ sequence: 0, acknowledgment: (sequence + consumed(flags)) >>> 0, flags: TcpFlags.RST | TcpFlags.ACK, window });
      }
      case 'admin-prohibited':
        return icmpError(codes.admin, destination);
      case 'port-unreach':
        return icmpError(codes.port, destination);
      case 'port-unreach-altered':
        return icmpError(codes.port, destination, true);
      case 'router-host-unreach':
        return icmpError(codes.host, options.router ?? (family === 4 ? '198.18.0.254' : 'fd00::fe'));
      case 'udp-reply':
        return [
          {
            protocol: IpProtocol.UDP,
            from: destination,
            payload: buildUdpDatagram({ sourcePort: destinationPort, destinationPort: sourcePort, payload: new TextEncoder().encode('pong') }, pseudo),
          },
        ];
      case 'drop':
        return [];
    }
  }

  /** IPv4 answers as the listener would hand them to the scan (with the hostile extras the options ask for). */
  function rawReplies4(packet: Uint8Array, answers: Answer[]): RawReply[] {
    const out: RawReply[] = [];
    const probe = parseIpv4Packet(packet);
    if (!probe.ok) return out;
    const { source, destination } = probe.value.header;
    for (const a of answers) {
      const base = { family: 4 as const, source: a.from, sourceBytes: parseIpv4Address(a.from), destinationBytes: packet.slice(12, 16), ttl, receivedAt: 0 };
      let reply: RawReply = { ...base, protocol: a.protocol, payload: a.payload };
      if (a.protocol === IpProtocol.ICMP) {
        const icmp = parseIcmpv4Message(a.payload);
        if (!icmp.ok) throw new Error('bad fake ICMP');
        if (icmp.value.kind === 'destination-unreachable') {
          const quoted = parseQuotedDatagram(icmp.value.quoted);
          if (!quoted.ok) throw new Error('bad fake quote');
          reply = { ...reply, icmp: icmp.value, quoted: quoted.value };
        } else {
          reply = { ...reply, icmp: icmp.value };
        }
      }
      if (options.corrupt) reply = withBadChecksum(reply);
      for (let i = 0; i < (options.copies ?? 1); i++) out.push(reply);
      // Hostile extras around the answer, aimed at the probe's ports.
      const tcp = parseTcpSegment(probe.value.payload);
      const udp = parseUdpDatagram(probe.value.payload);
      const ports = tcp.ok ? tcp.value : udp.ok ? udp.value : undefined;
      const sequence = tcp.ok ? tcp.value.sequence : 0;
      for (let i = 0; i < (options.junk ?? 0) && ports; i++) {
        out.push(hostile(i, reply, base, { source: destination, destination: source }, ports.sourcePort, ports.destinationPort, sequence));
      }
    }
    return out;
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

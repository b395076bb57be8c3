/**
 * The raw TCP probe module: SYN, ACK, FIN, NULL, Xmas, Maimon, Window and
 * custom-flag scans from one record of functions.
 *
 * The sequence number of every probe is a keyed cookie of its destination and
 * port; its source port is chosen by another cookie within the scan's block.
 * A reply is valid when its acknowledgment (or, for probes carrying ACK, its
 * sequence number) matches the cookie recomputed from the reply itself.
 *
 * @module
 */
import {
  IpProtocol,
  TcpFlags,
  TCP_HEADER_LENGTH,
  tcpOptionString,
  createTcpProbeTemplate,
  parseIpv4Address,
  parseIpv6Address,
  parseTcpSegment,
  type TcpOption,
  type TcpProbeTemplate,
} from '../wire/index.js';
import type { RawReply } from '../transport/packet-listener.js';
import { icmpReason, type Reason } from './reasons.js';
import { CookieSalt, probeCookie, type CookieKey } from './probe-cookie.js';
import { probeKey, type ProbeContext, type ProbeModule, type ProbeOutcome, type ProbeTarget, type ReplyVerdict } from './probe-module.js';

/** The TCP scan techniques, with nmap's names (`-sS`, `-sA`, `-sF`, `-sN`, `-sX`, `-sM`, `-sW`). */
export type TcpScanType = 'syn' | 'ack' | 'fin' | 'null' | 'xmas' | 'maimon' | 'window';

/** Flags each technique sends. */
export const TCP_SCAN_FLAGS: Readonly<Record<TcpScanType, number>> = {
  syn: TcpFlags.SYN,
  ack: TcpFlags.ACK,
  fin: TcpFlags.FIN,
  null: 0,
  xmas: TcpFlags.FIN | TcpFlags.PSH | TcpFlags.URG,
  maimon: TcpFlags.FIN | TcpFlags.ACK,
  window: TcpFlags.ACK,
};

/** The sequence number of a probe to `port` of `destination`: a keyed cookie. */
export function tcpProbeSequence(key: CookieKey, destination: Uint8Array, port: number): number {
  return probeCookie(key, destination, port, CookieSalt.SEQUENCE);
}

/** The source port and sequence number of a probe, both keyed cookies. */
export function tcpProbeIdentity(ctx: ProbeContext, destination: Uint8Array, port: number): { sourcePort: number; sequence: number } {
  return { sourcePort: ctx.sourcePortFor(destination, port), sequence: tcpProbeSequence(ctx.key, destination, port) };
}

/** Verdicts without a payload, made once. */
export const MALFORMED: ReplyVerdict = Object.freeze({ kind: 'malformed' });
export const INVALID: ReplyVerdict = Object.freeze({ kind: 'invalid' });
export const IGNORE: ReplyVerdict = Object.freeze({ kind: 'ignore' });

/**
 * Whether a TCP reply answers a probe sent with `probeFlags` and sequence
 * number `sequence` (RFC 9293, what Linux does):
 * - to a probe carrying ACK, a reset takes its sequence number from that ACK field (we send ack = sequence);
 * - otherwise the reply acknowledges what the probe consumed: its sequence
 *   plus one for SYN and one for FIN, exactly for a SYN-ACK; a RST may
 *   also acknowledge the bare sequence (some stacks do not count the flags).
 *
 * @example
 * ```ts
 * replyMatchesProbe({ flags: TcpFlags.SYN | TcpFlags.ACK, sequence: 7, acknowledgment: 1001 }, 1000, TcpFlags.SYN); // true
 * replyMatchesProbe({ flags: TcpFlags.SYN | TcpFlags.ACK, sequence: 7, acknowledgment: 1002 }, 1000, TcpFlags.SYN); // false
 * ```
 */
export function replyMatchesProbe(reply: { flags: number; sequence: number; acknowledgment: number }, sequence: number, probeFlags: number): boolean {
  if ((probeFlags & TcpFlags.ACK) !== 0 && (reply.flags & TcpFlags.RST) !== 0 && reply.sequence === sequence) return true;
  if ((reply.flags & TcpFlags.ACK) === 0) return false;
  const consumed = ((probeFlags & TcpFlags.SYN) !== 0 ? 1 : 0) + ((probeFlags & TcpFlags.FIN) !== 0 ? 1 : 0);
  const offset = (reply.acknowledgment - sequence) >>> 0;
  if (offset === consumed) return true;
  return (reply.flags & TcpFlags.RST) !== 0 && offset === 0;
}

/** Parses reply source text to bytes; undefined when it is not an address of that family. */
export function addressBytesOf(family: 4 | 6, text: string): Uint8Array | undefined {
  try {
    return family === 4 ? parseIpv4Address(text) : parseIpv6Address(text);
  } catch {
    return undefined;
  }
}

/**
 * How a technique reads a TCP reply (RST, SYN-ACK) into a port state.
 * `interpretAs` lets custom flags borrow a technique's reading.
 */
interface TcpReading {
  readonly state: ProbeOutcome['state'];
  readonly reason: Reason;
}
const OPEN_SYN_ACK: TcpReading = { state: 'open', reason: 'syn-ack' };
const OPEN_SPLIT: TcpReading = { state: 'open', reason: 'split-handshake-syn' };
const CLOSED_RESET: TcpReading = { state: 'closed', reason: 'reset' };
const OPEN_RESET: TcpReading = { state: 'open', reason: 'reset' };
const UNFILTERED_RESET: TcpReading = { state: 'unfiltered', reason: 'reset' };

function classifyTcpReply(type: TcpScanType, flags: number, window: number): TcpReading | undefined {
  const rst = (flags & TcpFlags.RST) !== 0;
  const synAck = (flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK);
  switch (type) {
    case 'syn':
      if (synAck) return OPEN_SYN_ACK;
      if ((flags & TcpFlags.SYN) !== 0) return OPEN_SPLIT;
      if (rst) return CLOSED_RESET;
      return undefined;
    case 'ack':
      return rst ? UNFILTERED_RESET : undefined;
    case 'window':
      return rst ? (window > 0 ? OPEN_RESET : CLOSED_RESET) : undefined;
    default:
      return rst ? CLOSED_RESET : undefined;
  }
}

/** What silence means for a technique. */
/** The options of a SYN that asks for the SYN/ACK's (a Linux client's set): MSS, SACK permitted, timestamps, no-op, window scale. */
const OFFERED_OPTIONS: readonly TcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', value: 1, echo: 0 }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }];

function silenceState(type: TcpScanType): ProbeOutcome['state'] {
  return type === 'fin' || type === 'null' || type === 'xmas' || type === 'maimon' ? 'open|filtered' : 'filtered';
}

/**
 * Builds the probe module of one TCP technique.
 *
 * @param type the technique (its flags and how replies are read)
 * @param flags the flags to send; defaults to the technique's own (custom scans pass theirs)
 * @param ttl the IP TTL of the probes
 * @param recordOptions whether SYN/ACKs' options go into the outcome (`tcpOptions`, nmap's letters)
 *
 * @example
 * ```ts
 * const module = createTcpProbeModule('syn');
 * ```
 */
export function createTcpProbeModule(type: TcpScanType, flags: number = TCP_SCAN_FLAGS[type], ttl?: number, recordOptions = false): ProbeModule {
  const templates = new Map<string, TcpProbeTemplate>();
  // Probes carrying ACK acknowledge their own sequence number: a reset then echoes it (see replyMatchesProbe).
  const sendsAck = (flags & TcpFlags.ACK) !== 0;

  function templateFor(family: 4 | 6, source: string): TcpProbeTemplate {
    let template = templates.get(source);
    if (!template) {
      template = createTcpProbeTemplate({
        family,
        source,
        flags,
        ttl,
        window: 1024,
        // nmap's SYN probes carry an MSS option; the other techniques send bare headers. Asked for the
        // replies' options, SYNs offer what a Linux client's do, so that the SYN/ACK shows its own order.
        options: (flags & TcpFlags.SYN) === 0 ? [] : recordOptions ? OFFERED_OPTIONS : [{ kind: 'mss', value: 1460 }],
      });
      templates.set(source, template);
    }
    return template;
  }

  /** The sequence number of our probe to `port` of `target` (4 or 16 bytes), if it left from `localPort`. */
  function validSequence(ctx: ProbeContext, target: Uint8Array, port: number, localPort: number): number | undefined {
    return ctx.sourcePortFor(target, port) === localPort ? tcpProbeSequence(ctx.key, target, port) : undefined;
  }

  /**
   * Whether a segment is one of ours seen on its way out: on loopback the raw
   * socket receives the scan's own probes (and the kernel's resets after a
   * SYN-ACK), and those to a port inside the scan's block are routed to it.
   * It left from the port our probe to its destination uses, with that
   * probe's sequence number or the one after it.
   */
  function ownSegment(ctx: ProbeContext, destination: Uint8Array, segment: { sourcePort: number; destinationPort: number; sequence: number }): boolean {
    if (ctx.sourcePortFor(destination, segment.destinationPort) !== segment.sourcePort) return false;
    const sequence = tcpProbeSequence(ctx.key, destination, segment.destinationPort);
    return segment.sequence === sequence || segment.sequence === ((sequence + 1) >>> 0);
  }

  return {
    listen: ['tcp', 'icmp'],
    transmit(ctx: ProbeContext, target: ProbeTarget): void {
      const source = ctx.sourceFor(target);
      const sourcePort = ctx.sourcePortFor(target.addressBytes, target.port);
      const sequence = tcpProbeSequence(ctx.key, target.addressBytes, target.port);
      const packet = templateFor(target.family, source).fill(target.addressBytes, sourcePort, target.port, sequence, sendsAck ? sequence : 0);
      ctx.send(target.family, 'tcp', packet, target.address);
    },
    classify(ctx: ProbeContext, reply: RawReply): ReplyVerdict {
      if (reply.protocol === IpProtocol.TCP) {
        const parsed = parseTcpSegment(reply.payload);
        if (!parsed.ok) return MALFORMED;
        const segment = parsed.value;
        const bytes = reply.sourceBytes ?? addressBytesOf(reply.family, reply.source);
        if (!bytes) return INVALID;
        const sequence = validSequence(ctx, bytes, segment.sourcePort, segment.destinationPort);
        if (sequence === undefined || !replyMatchesProbe(segment, sequence, flags)) return ownSegment(ctx, bytes, segment) ? IGNORE : INVALID;
        const reading = classifyTcpReply(type, segment.flags, segment.window);
        if (!reading) return IGNORE;
        return {
          kind: 'answer',
          key: probeKey(reply.family, reply.source, segment.sourcePort, bytes),
          outcome: {
            state: reading.state,
            reason: reading.reason,
            ttl: reply.ttl,
            window: segment.window,
            ...(recordOptions && (segment.flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK)
              ? { tcpOptions: tcpOptionString(reply.payload.subarray(TCP_HEADER_LENGTH, segment.dataOffset * 4)) }
              : {}),
          },
        };
      }
      const quoted = reply.quoted;
      const icmp = reply.icmp;
      if (!quoted || !icmp || quoted.protocol !== IpProtocol.TCP) return IGNORE;
      if (quoted.destinationPort === undefined || quoted.sourcePort === undefined) return INVALID;
      const bytes = addressBytesOf(reply.family, quoted.destination);
      if (!bytes) return INVALID;
      const sequence = validSequence(ctx, bytes, quoted.destinationPort, quoted.sourcePort);
      if (sequence === undefined) return INVALID;
      if (quoted.tcpSequence !== undefined && quoted.tcpSequence !== sequence) return INVALID;
      const reason = icmpReason(reply.family, icmp.type, icmp.code);
      return {
        kind: 'answer',
        key: probeKey(reply.family, quoted.destination, quoted.destinationPort, bytes),
        outcome: {
          state: 'filtered',
          reason,
          ttl: reply.ttl,
          replyFrom: reply.source === quoted.destination ? undefined : reply.source,
        },
      };
    },
    noResponse(): ProbeOutcome {
      return { state: silenceState(type), reason: 'no-response' };
    },
  };
}

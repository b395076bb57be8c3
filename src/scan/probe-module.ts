/**
 * What a raw scan technique is: a probe module, zmap style. A module builds
 * the packet of one attempt, validates and classifies a reply from the reply
 * alone (keyed cookies, no table of sent probes), and says what silence means.
 * The engine and the raw prober do everything else.
 *
 * @module
 */
import type { ListenProtocol, RawReply } from '../transport/packet-listener.js';
import type { CookieKey } from './probe-cookie.js';
import type { PortState, Reason, ScanMethod } from './events.js';
import { parseIpv4Address } from '../wire/index.js';

/** One unit of work: a host (discovery) or a host and port. */
export interface ProbeTarget {
  readonly family: 4 | 6;
  readonly address: string;
  /** 4 or 16 bytes of {@link address}. */
  readonly addressBytes: Uint8Array;
  readonly hostname?: string;
  readonly protocol: 'tcp' | 'udp' | 'host';
  /** Destination port; 0 for host-level probes. */
  readonly port: number;
  /** Position of the pair (or host) in its plan's order: the scan's resume cursor is made of these. */
  readonly position: number;
}

/** What a probe learns: a port's state, or a host's (`up` / `down`). */
export interface ProbeOutcome {
  readonly state: PortState | 'up' | 'down';
  readonly reason: Reason;
  readonly ttl?: number;
  readonly window?: number;
  /** A SYN/ACK's options in nmap's letters, when the scan records them. */
  readonly tcpOptions?: string;
  readonly data?: Uint8Array;
  /** The sender of an ICMP error when it is not the target. */
  readonly replyFrom?: string;
  /** The method that produced this outcome when a module mixes several (discovery). */
  readonly method?: ScanMethod;
}

/**
 * Key of a probe in the engine's tables: for IPv4 the address and port packed
 * into one number (no string made per probe), for IPv6 `address/port` text.
 */
export type ProbeKey = number | string;

/**
 * The {@link ProbeKey} of a probe to `port` (0 for host probes) of `address`;
 * pass `addressBytes` (4 or 16 bytes of it) when at hand, to save parsing the text.
 *
 * @example
 * ```ts
 * probeKey(4, '198.18.1.10', 80) === probeKey(4, '198.18.1.10', 80, new Uint8Array([198, 18, 1, 10])); // true
 * ```
 */
export function probeKey(family: 4 | 6, address: string, port: number, addressBytes?: Uint8Array): ProbeKey {
  if (family === 6) return `${address}/${port}`;
  const b = addressBytes ?? parseIpv4Address(address);
  return ((((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0) * 65536 + port;
}

/** The {@link ProbeKey} of a target. */
export function keyOf(target: ProbeTarget): ProbeKey {
  return probeKey(target.family, target.address, target.port, target.addressBytes);
}

/** A module's verdict on one reply. */
export type ReplyVerdict =
  | { readonly kind: 'answer'; readonly key: ProbeKey; readonly outcome: ProbeOutcome }
  /** Addressed to this scan but failed validation. */
  | { readonly kind: 'invalid' }
  /** Addressed to this scan but could not be parsed (counted as malformed). */
  | { readonly kind: 'malformed' }
  /** Ours, but says nothing about the probe (ignored, not counted as invalid). */
  | { readonly kind: 'ignore' };

/** Verdicts without a payload, made once. */
export const MALFORMED: ReplyVerdict = Object.freeze({ kind: 'malformed' });
/** See {@link MALFORMED}. */
export const INVALID: ReplyVerdict = Object.freeze({ kind: 'invalid' });
/** See {@link MALFORMED}. */
export const IGNORE: ReplyVerdict = Object.freeze({ kind: 'ignore' });

/** What the raw prober gives a module. */
export interface ProbeContext {
  readonly key: CookieKey;
  /**
   * The source port of every probe to `port` of `destination` (its address
   * bytes), within the scan's block: a keyed offset per destination plus the
   * port, so two ports of one host closer than the block's size never share a
   * source port, and a reply from a neighbouring port never passes as another
   * probe's answer.
   */
  sourcePortFor(destination: Uint8Array, port: number): number;
  /** The ICMP echo identifier of probes to `destination`: a keyed cookie within the scan's block. */
  icmpIdFor(destination: Uint8Array): number;
  /** The local address the kernel would use towards this target. */
  sourceFor(target: ProbeTarget): string;
  /** Sends one packet (counted in the statistics); `packet` may be a template's buffer, reused once this returns. */
  send(family: 4 | 6, protocol: ListenProtocol, packet: Uint8Array, address: string): void;
}

/**
 * A raw scan technique as a small record of functions, zmap style: transmit a
 * probe, validate and classify a reply (from the reply alone), and say what silence means.
 */
export interface ProbeModule {
  /** Sockets the module needs to listen on. */
  readonly listen: readonly ListenProtocol[];
  /**
   * Whether the module sends a handful of packets per host and attempt
   * (discovery): its IPv4 packets may then leave on the listener's sweep
   * socket, whose large send buffer keeps probes to unresolved neighbours
   * from holding up the rest (see the listener's `SWEEP_SEND_BUFFER_BYTES`).
   */
  readonly fewPacketsPerHost?: boolean;
  /** Sends the packet(s) of one attempt for `target`. */
  transmit(ctx: ProbeContext, target: ProbeTarget, attempt: number): void;
  /** Validates and classifies a reply routed to this scan. */
  classify(ctx: ProbeContext, reply: RawReply): ReplyVerdict;
  /** The outcome when every attempt went unanswered. */
  noResponse(target: ProbeTarget): ProbeOutcome;
}

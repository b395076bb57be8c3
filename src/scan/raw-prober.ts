/**
 * The raw prober: probes leave as packets on the shared raw sockets, and the
 * replies the process-wide listener routes to this scan are validated and
 * classified by the technique's {@link ProbeModule}. The engine times every
 * attempt.
 *
 * @module
 */
import { acquireListener, type ListenProtocol, type ListenerLease, type RawReply, type ReplySink } from '../transport/packet-listener.js';
import { SourceAddressCache } from '../transport/source-cache.js';
import { isPermanentRefusal, sendErrorCode } from '../transport/send-error.js';
import { PortscoutError } from '../errors.js';
import { CookieSalt, createCookieKey, probeCookie } from './probe-cookie.js';
import { keyOf, type ProbeContext, type ProbeKey, type ProbeModule, type ProbeOutcome, type ProbeTarget } from './probe-module.js';
import type { AttemptSeries, Prober, ProberSink } from './prober.js';
import { replyChecksumValid } from './reply-checksum.js';
import { addressBytesOf } from './tcp-probe.js';

/** Sends waiting for the kernel above which the engine pauses. */
const MAX_PENDING_SENDS = 1000;

/** Where a raw prober's packets go and its replies come from. */
export interface RawProberOptions {
  /** The process-wide raw listener by default; tests pass a fake network's. */
  readonly acquire?: (protocols: readonly ListenProtocol[], sink: ReplySink) => ListenerLease;
  /** The local address towards a target; the kernel's choice (cached per network) by default. */
  readonly sources?: RawSources;
}

/** Local address selection (see the transport layer's source-address cache). */
export interface RawSources {
  /** The cached source for the target's network, if known. */
  cached(target: ProbeTarget): string | undefined;
  /** Looks the source up; resolves undefined (after a `NO_ROUTE` warning) when there is no route. */
  resolve(target: ProbeTarget): Promise<string | undefined>;
}

/** The packets of one transmission (discovery's is several: echo, SYN, ACK). */
interface Transmission {
  readonly key: ProbeKey;
  packets: number;
  settled: number;
  failed: number;
  /** The errno name of a refusal: the last one, or the first that a pause may change (see isPermanentRefusal). */
  code?: string;
  /** Whether the module has made all its packets. */
  issued: boolean;
  reported: boolean;
}

/**
 * A prober that sends a module's packets and routes validated replies to the engine.
 *
 * @example
 * ```ts
 * const prober = createRawProber(createTcpProbeModule('syn'));
 * ```
 */
export function createRawProber(module: ProbeModule, options: RawProberOptions = {}): Prober {
  let sink: ProberSink | undefined;
  let lease: ListenerLease | undefined;
  let malformedAtStart = 0;
  let pendingSends = 0;
  let closed = false;
  const sources: RawSources =
    options.sources ??
    new SourceAddressCache((target, error) => sink?.warn({ type: 'warning', code: 'NO_ROUTE', message: error.message, target: target.address }));
  /** The transmission whose packets are being sent now (set during {@link Prober.transmit}). */
  let current: Transmission | undefined;
  /** A packet was taken by the kernel, or refused: one fewer pending; a transmission none of whose packets left is unsent. */
  const onSent = (transmission: Transmission | undefined, error: Error | null): void => {
    pendingSends--;
    const code = error ? sendErrorCode(error) : undefined;
    if (code !== undefined) sink?.sendError(code);
    if (pendingSends < MAX_PENDING_SENDS) sink?.wake();
    if (pendingSends === 0) sink?.sendsSettled();
    if (!transmission) return;
    transmission.settled++;
    if (code !== undefined) {
      transmission.failed++;
      // The transmission counts as refused for good only if every packet was (EPERM then EACCES is not).
      if (transmission.code === undefined || isPermanentRefusal(transmission.code)) transmission.code = code;
    }
    settleTransmission(transmission);
  };
  const settleTransmission = (t: Transmission): void => {
    if (!t.issued || t.settled < t.packets || t.reported) return;
    t.reported = true;
    if (t.packets > 0 && t.failed === t.packets) sink?.unsent(t.key, t.code);
    else sink?.departed(t.key);
  };
  const key = createCookieKey();
  const fewPerHost = module.fewPacketsPerHost === true;
  let ctx: ProbeContext | undefined;

  /** The last local address text {@link localFor} parsed, and its bytes. */
  let lastLocal: { text: string | undefined; bytes: Uint8Array | undefined } = { text: undefined, bytes: undefined };

  /**
   * Our address a reply was sent to: the IPv4 header's destination, or (raw
   * IPv6 sockets give no header) the source the scan uses towards its sender.
   */
  const localFor = (reply: RawReply, remote: Uint8Array): Uint8Array | undefined => {
    if (reply.destinationBytes !== undefined) return reply.destinationBytes;
    // An ICMP error reached the address that sent the probe it quotes.
    const towards = reply.quoted?.destination;
    const peerBytes = towards === undefined ? remote : addressBytesOf(reply.family, towards);
    if (!peerBytes) return undefined;
    const source = sources.cached({ family: reply.family, address: towards ?? reply.source, addressBytes: peerBytes, protocol: 'host', port: 0, position: 0 });
    if (source === undefined) return undefined;
    // A scan has one source address per network: parse its text once, not per reply.
    if (source !== lastLocal.text) lastLocal = { text: source, bytes: addressBytesOf(reply.family, source) };
    return lastLocal.bytes;
  };

  const replies: ReplySink = {
    onReply(reply: RawReply): void {
      if (closed || !sink || !ctx) return;
      let remote = reply.sourceBytes;
      if (remote === undefined) {
        // IPv6: raw sockets give the sender as text; parse it once, for the checksum and the module.
        remote = addressBytesOf(reply.family, reply.source);
        if (remote !== undefined) reply = { ...reply, sourceBytes: remote };
      }
      const local = remote && localFor(reply, remote);
      if (!remote || !local || !replyChecksumValid(reply, remote, local)) {
        // Corrupt or forged: it decides nothing, and the probe goes on as if it had never come.
        sink.malformed();
        return;
      }
      const verdict = module.classify(ctx, reply);
      switch (verdict.kind) {
        case 'answer':
          sink.answer(verdict.key, verdict.outcome, reply.receivedAt);
          return;
        case 'invalid':
          sink.invalid();
          return;
        case 'malformed':
          sink.malformed();
          return;
        case 'ignore':
          return;
      }
    },
  };

  return {
    timedBy: 'engine',
    reportsDepartures: true,
    open(engine: ProberSink): void {
      sink = engine;
      const leased = (options.acquire ?? acquireListener)(module.listen, replies);
      lease = leased;
      malformedAtStart = leased.counters.malformed;
      const { portBase, portCount, icmpIdBase, icmpIdCount } = leased;
      ctx = {
        key,
        sourcePortFor: (destination, port) => portBase + ((probeCookie(key, destination, 0, CookieSalt.SOURCE) + port) % portCount),
        icmpIdFor: (destination) => icmpIdBase + (probeCookie(key, destination, 0, CookieSalt.SOURCE) % icmpIdCount),
        sourceFor: (target) => {
          const source = sources.cached(target);
          if (source === undefined) throw new PortscoutError('ERR_INTERNAL', `no source address resolved for ${target.address}`);
          return source;
        },
        send: (family, protocol, packet, address) => {
          pendingSends++;
          engine.sent(1);
          const transmission = current;
          if (transmission) transmission.packets++;
          leased.send(family, protocol, packet, address, (error) => onSent(transmission, error), fewPerHost);
        },
      };
    },
    prepare(target: ProbeTarget): boolean | Promise<boolean> {
      if (sources.cached(target) !== undefined) return true;
      return sources.resolve(target).then((source) => source !== undefined);
    },
    transmit(target: ProbeTarget, series: AttemptSeries): void {
      if (!ctx) throw new PortscoutError('ERR_INTERNAL', 'raw prober used before open()');
      const transmission: Transmission = { key: keyOf(target), packets: 0, settled: 0, failed: 0, issued: false, reported: false };
      current = transmission;
      try {
        module.transmit(ctx, target, series.attempt);
      } finally {
        current = undefined;
        transmission.issued = true;
      }
      settleTransmission(transmission);
    },
    hold: (held: boolean) => lease?.hold?.(held),
    turnFull: () => lease?.turnFull?.() ?? false,
    kernelDrops: () => lease?.kernelDrops?.(),
    busy: () => pendingSends >= MAX_PENDING_SENDS,
    pendingSends: () => pendingSends,
    noResponse: (target: ProbeTarget): ProbeOutcome => module.noResponse(target),
    uncountedMalformed: () => (lease ? lease.counters.malformed - malformedAtStart : 0),
    close(): void {
      if (closed) return;
      closed = true;
      lease?.release();
    },
  };
}

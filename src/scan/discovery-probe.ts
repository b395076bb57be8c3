/**
 * The host discovery probe module: ICMP echo (ICMPv6 echo for IPv6), plus TCP
 * SYN to 443 and TCP ACK to 80 as nmap does, so hosts that drop ICMP are found
 * by the answer (SYN-ACK or RST) of their TCP stack.
 *
 * @module
 */
import { IpProtocol, TcpFlags, createIcmpEchoTemplate, parseTcpSegment, type IcmpEchoTemplate } from '../wire/index.js';
import type { RawReply } from '../transport/packet-listener.js';
import { icmpReason, type Reason } from './reasons.js';
import type { ScanMethod } from './events.js';
import { CookieSalt, probeCookie } from './probe-cookie.js';
import { probeKey, type ProbeContext, type ProbeModule, type ProbeOutcome, type ProbeTarget, type ReplyVerdict } from './probe-module.js';
import { createTcpProbeModule, addressBytesOf, replyMatchesProbe, tcpProbeIdentity } from './tcp-probe.js';

/** Which probes discovery sends to every host. */
export interface DiscoveryProbes {
  /** ICMP (or ICMPv6) echo request. Default true. */
  readonly icmpEcho?: boolean;
  /** Ports to send a TCP SYN to (nmap's -PS). Default [443]. */
  readonly tcpSyn?: readonly number[];
  /** Ports to send a TCP ACK to (nmap's -PA). Default [80]. */
  readonly tcpAck?: readonly number[];
}

function echoIdentity(ctx: ProbeContext, destination: Uint8Array): { identifier: number; sequence: number } {
  return {
    identifier: ctx.icmpIdFor(destination),
    sequence: probeCookie(ctx.key, destination, 0, CookieSalt.SEQUENCE) & 0xffff,
  };
}

/**
 * Builds the discovery module.
 *
 * @example
 * ```ts
 * const module = createDiscoveryModule({ icmpEcho: true, tcpSyn: [443], tcpAck: [80] });
 * ```
 */
export function createDiscoveryModule(probes: DiscoveryProbes = {}): ProbeModule {
  const icmpEcho = probes.icmpEcho ?? true;
  const synPorts = probes.tcpSyn ?? [443];
  const ackPorts = probes.tcpAck ?? [80];
  const syn = createTcpProbeModule('syn');
  const ack = createTcpProbeModule('ack');
  const echoTemplates = new Map<string, IcmpEchoTemplate>();
  const hostUp = (reply: RawReply, bytes: Uint8Array, reason: Reason, method: ScanMethod): ReplyVerdict => ({
    kind: 'answer',
    key: probeKey(reply.family, reply.source, 0, bytes),
    outcome: { state: 'up', reason, ttl: reply.ttl, method },
  });

  return {
    listen: ['icmp', 'tcp'],
    fewPacketsPerHost: true,
    transmit(ctx: ProbeContext, target: ProbeTarget, attempt: number): void {
      if (icmpEcho) {
        const source = ctx.sourceFor(target);
        let template = echoTemplates.get(source);
        if (!template) {
          template = createIcmpEchoTemplate({ family: target.family, source });
          echoTemplates.set(source, template);
        }
        const { identifier, sequence } = echoIdentity(ctx, target.addressBytes);
        ctx.send(target.family, 'icmp', template.fill(target.addressBytes, identifier, sequence), target.address);
      }
      for (const port of synPorts) syn.transmit(ctx, { ...target, protocol: 'tcp', port }, attempt);
      for (const port of ackPorts) ack.transmit(ctx, { ...target, protocol: 'tcp', port }, attempt);
    },
    classify(ctx: ProbeContext, reply: RawReply): ReplyVerdict {
      if (reply.protocol === IpProtocol.TCP) {
        const parsed = parseTcpSegment(reply.payload);
        if (!parsed.ok) return { kind: 'malformed' };
        const segment = parsed.value;
        const isSynPort = synPorts.includes(segment.sourcePort);
        const isAckPort = ackPorts.includes(segment.sourcePort);
        if (!isSynPort && !isAckPort) return { kind: 'invalid' };
        const bytes = reply.sourceBytes ?? addressBytesOf(reply.family, reply.source);
        if (!bytes) return { kind: 'invalid' };
        const identity = tcpProbeIdentity(ctx, bytes, segment.sourcePort);
        if (identity.sourcePort !== segment.destinationPort) return { kind: 'invalid' };
        const matches =
          (isSynPort && replyMatchesProbe(segment, identity.sequence, TcpFlags.SYN)) || (isAckPort && replyMatchesProbe(segment, identity.sequence, TcpFlags.ACK));
        if (!matches) return { kind: 'invalid' };
        const rst = (segment.flags & TcpFlags.RST) !== 0;
        return hostUp(reply, bytes, rst ? 'reset' : 'syn-ack', isSynPort ? 'tcp-syn-ping' : 'tcp-ack-ping');
      }
      const icmp = reply.icmp;
      if (!icmp) return { kind: 'ignore' };
      if (icmp.kind === 'echo-reply') {
        const bytes = reply.sourceBytes ?? addressBytesOf(reply.family, reply.source);
        if (!bytes) return { kind: 'invalid' };
        const expected = echoIdentity(ctx, bytes);
        if (icmp.identifier !== expected.identifier || icmp.sequence !== expected.sequence) return { kind: 'invalid' };
        return hostUp(reply, bytes, 'echo-reply', 'icmp-echo');
      }
      const quoted = reply.quoted;
      if (!quoted || icmp.kind !== 'destination-unreachable') return { kind: 'ignore' };
      const bytes = addressBytesOf(reply.family, quoted.destination);
      if (!bytes) return { kind: 'invalid' };
      if (quoted.protocol === IpProtocol.ICMP || quoted.protocol === IpProtocol.ICMPV6) {
        const expected = echoIdentity(ctx, bytes);
        if (quoted.icmpIdentifier !== expected.identifier) return { kind: 'invalid' };
      } else if (quoted.protocol === IpProtocol.TCP && quoted.destinationPort !== undefined) {
        if (tcpProbeIdentity(ctx, bytes, quoted.destinationPort).sourcePort !== quoted.sourcePort) return { kind: 'invalid' };
      } else {
        return { kind: 'ignore' };
      }
      const reason = icmpReason(reply.family, icmp.type, icmp.code);
      // An error sent by the target itself proves it is there; one from a router says it is not reachable.
      const fromTarget = reply.source === quoted.destination;
      return {
        kind: 'answer',
        key: probeKey(reply.family, quoted.destination, 0, bytes),
        outcome: { state: fromTarget ? 'up' : 'down', reason, ttl: reply.ttl, method: 'icmp-echo', replyFrom: fromTarget ? undefined : reply.source },
      };
    },
    noResponse(): ProbeOutcome {
      return { state: 'down', reason: 'no-response' };
    },
  };
}

/**
 * The raw UDP probe module.
 *
 * A UDP reply means open (`udp-response`), an ICMP port unreachable from the
 * target itself closed (`port-unreach`), any other unreachable code filtered,
 * silence `open|filtered`. Ports with a protocol that ignores empty datagrams
 * get a payload of their protocol ({@link udpPayloadFor}). The source port of
 * each probe is a keyed cookie of its destination and port, so replies and the
 * datagrams quoted by ICMP errors validate without a table; a quoted
 * datagram must also have our probe's length and checksum (counted as
 * `invalid` otherwise).
 *
 * @module
 */
import { IpProtocol, UdpField, buildUdpDatagram, createUdpProbeTemplate, parseUdpDatagram, readUint16, type QuotedDatagram, type UdpProbeTemplate } from '../wire/index.js';
import type { RawReply } from '../transport/packet-listener.js';
import { icmpReason, type Reason } from './reasons.js';
import { probeKey, type ProbeContext, type ProbeModule, type ProbeOutcome, type ProbeTarget, type ReplyVerdict } from './probe-module.js';
import { addressBytesOf } from './tcp-probe.js';
import { udpPayloadFor } from './udp-payloads.js';

/** Whether our probe to `port` of `target` (its bytes) left from `localPort`. */
function expectedFrom(ctx: ProbeContext, target: Uint8Array | undefined, port: number, localPort: number): target is Uint8Array {
  return target !== undefined && ctx.sourcePortFor(target, port) === localPort;
}

/**
 * Whether the UDP header an ICMP error quotes is our probe's: its length and
 * checksum are those of the datagram we send to that port (its payload is
 * fixed per port), so an error that only guessed the 16-bit source port
 * does not pass. A quote too short to hold them passes on the ports alone.
 */
function quotedUdpIntact(raw: Uint8Array, quoted: QuotedDatagram): boolean {
  if (quoted.transportLength < UdpField.CHECKSUM.end || quoted.sourcePort === undefined || quoted.destinationPort === undefined) return true;
  const start = raw.length - quoted.transportLength;
  const payload = udpPayloadFor(quoted.destinationPort);
  if (readUint16(raw, start + UdpField.LENGTH.start) !== 8 + payload.length) return false;
  const sent = buildUdpDatagram({ sourcePort: quoted.sourcePort, destinationPort: quoted.destinationPort, payload }, { source: quoted.source, destination: quoted.destination });
  // Ones' complement has two zeros.
  return readUint16(raw, start + UdpField.CHECKSUM.start) % 0xffff === readUint16(sent, UdpField.CHECKSUM.start) % 0xffff;
}

/**
 * Builds the UDP probe module.
 *
 * @example
 * ```ts
 * const module = createUdpProbeModule();
 * ```
 */
export function createUdpProbeModule(ttl?: number): ProbeModule {
  const templates = new Map<string, UdpProbeTemplate>();
  return {
    listen: ['udp', 'icmp'],
    transmit(ctx: ProbeContext, target: ProbeTarget): void {
      const source = ctx.sourceFor(target);
      let template = templates.get(source);
      if (!template) {
        template = createUdpProbeTemplate({ family: target.family, source, ttl });
        templates.set(source, template);
      }
      const sourcePort = ctx.sourcePortFor(target.addressBytes, target.port);
      const packet = template.fill(target.addressBytes, sourcePort, target.port, udpPayloadFor(target.port));
      ctx.send(target.family, 'udp', packet, target.address);
    },
    classify(ctx: ProbeContext, reply: RawReply): ReplyVerdict {
      if (reply.protocol === IpProtocol.UDP) {
        const parsed = parseUdpDatagram(reply.payload);
        if (!parsed.ok) return { kind: 'malformed' };
        const datagram = parsed.value;
        const bytes = reply.sourceBytes ?? addressBytesOf(reply.family, reply.source);
        if (!expectedFrom(ctx, bytes, datagram.sourcePort, datagram.destinationPort)) {
          // On loopback the raw socket also receives our own probes on their way out.
          const ours = bytes !== undefined && ctx.sourcePortFor(bytes, datagram.destinationPort) === datagram.sourcePort;
          return { kind: ours ? 'ignore' : 'invalid' };
        }
        return {
          kind: 'answer',
          key: probeKey(reply.family, reply.source, datagram.sourcePort, bytes),
          outcome: { state: 'open', reason: 'udp-response', ttl: reply.ttl, data: datagram.payload.slice() },
        };
      }
      const quoted = reply.quoted;
      const icmp = reply.icmp;
      if (!quoted || !icmp || quoted.protocol !== IpProtocol.UDP) return { kind: 'ignore' };
      if (quoted.destinationPort === undefined || quoted.sourcePort === undefined) return { kind: 'invalid' };
      const bytes = addressBytesOf(reply.family, quoted.destination);
      if (!expectedFrom(ctx, bytes, quoted.destinationPort, quoted.sourcePort)) return { kind: 'invalid' };
      if ('quoted' in icmp && !quotedUdpIntact(icmp.quoted, quoted)) return { kind: 'invalid' };
      const fromTarget = reply.source === quoted.destination;
      let outcome: ProbeOutcome;
      const reason = icmpReason(reply.family, icmp.type, icmp.code);
      // Port unreachable from the target itself means closed; every other error (or one from a router) filtered.
      const closed = reason === 'port-unreach' && fromTarget;
      outcome = { state: closed ? 'closed' : 'filtered', reason, ttl: reply.ttl };
      if (!fromTarget) outcome = { ...outcome, replyFrom: reply.source };
      return { kind: 'answer', key: probeKey(reply.family, quoted.destination, quoted.destinationPort, bytes), outcome };
    },
    noResponse(): ProbeOutcome {
      return { state: 'open|filtered', reason: 'no-response' };
    },
  };
}

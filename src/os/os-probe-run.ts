/**
 * One round of nmap's OS probes against each host, on the process-wide raw
 * listener: the six SEQ probes 100 ms apart, then IE, U1, ECN, T1-T7 (and
 * OPS again for SEQ probes that got no answer) together, each unanswered
 * one sent again up to three times after the host's RTT timeout, as nmap's
 * `doTUITests` does. Replies are validated from the packet alone (the
 * address, the port or identifier they come back to, the port they come
 * from, the checksum); anything else is counted and dropped.
 *
 * Hosts share one listener lease: a reply is routed by the address it
 * comes from (for U1's port unreachable, the address the quoted datagram
 * went to), so every host uses the same source ports.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { PortscoutError } from '../errors.js';
import { acquireListener, type ListenerLease, type ListenProtocol, type RawReply } from '../transport/packet-listener.js';
import { pickSourceAddress } from '../transport/source-address.js';
import { RttEstimator } from '../transport/rtt-estimator.js';
import type { TimingValues } from '../transport/timing.js';
import { whenAborted } from '../transport/abort-signal.js';
import { replyChecksumValid } from '../scan/reply-checksum.js';
import { IpProtocol } from '../wire/index.js';
import type { OsProbeReplies, OsProbeRound } from './os-fingerprint.js';
import {
  OS_SEQ_PROBES,
  OS_TCP_PROBES,
  U1_IP_ID,
  buildOsEchoProbe,
  buildOsTcpProbe,
  buildOsUdpProbe,
  probeTtl,
  udpProbeTtl,
  type OsTcpProbe,
} from './os-probes.js';

/** The ports one host's round uses. */
export interface OsRunTarget {
  readonly address: string;
  /** An open TCP port: without one only IE, U1 and T5-T7 are sent. */
  readonly openPort?: number;
  /** A closed TCP port (a random high port when none is known; see `closedPortKnown`). */
  readonly closedPort: number;
  readonly closedPortKnown: boolean;
  /** A closed UDP port (nmap picks a random high port when none is known). */
  readonly closedUdpPort: number;
}

/** What one round sent and received. */
export interface OsRunResult {
  readonly round: OsProbeRound;
  readonly replies: OsProbeReplies;
  /** Probes sent, retransmissions included. */
  readonly probesSent: number;
  /** Probes none of whose sends left (the kernel refused every one): their silence says nothing. */
  readonly neverSent: readonly string[];
  /** Replies dropped: bad checksum, or not an answer to the probe whose port or identifier they came back to. */
  readonly dropped: number;
  readonly elapsedMs: number;
}

/** The probe slots: TCP source port offsets 0-19, U1 at 20, IE at identifiers 0 and 1. */
const SEQ_SLOT = 0;
const OPS_SLOT = 6;
const ECN_SLOT = 12;
const T_SLOT = 12; // T1 at 13 ... T7 at 19
const U1_SLOT = 20;
const TCP_SLOTS = 20;
const SEQ_INTERVAL_MS = 100;
const TRIES = 4;

type SlotName = string;

interface HostRun {
  readonly target: OsRunTarget;
  readonly source: string;
  readonly tcpSeqBase: number;
  readonly tcpAck: number;
  readonly icmpId: number;
  readonly udpTtl: number;
  udpChecksum: number;
  readonly seqSentAt: (number | undefined)[];
  readonly tcp: (Uint8Array | undefined)[];
  readonly ie: (Uint8Array | undefined)[];
  readonly ieRetransmitted: boolean[];
  u1?: Uint8Array;
  readonly sentAt: Map<SlotName, { at: number; tries: number }>;
  readonly sendOk: Set<SlotName>;
  readonly rtt: RttEstimator;
  dropped: number;
  probesSent: number;
  aborted: boolean;
  wake?: () => void;
}

const random32 = (): number => randomInt(0, 0x1_0000_0000 - 1);
const random16 = (): number => randomInt(1, 0x10000);

/**
 * Runs rounds of OS probes, one per host, on one listener lease. Close it
 * when done; closing aborts the rounds still running.
 *
 * @internal
 */
export class OsProbeRunner {
  private readonly lease: ListenerLease;
  private readonly hosts = new Map<string, HostRun>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /**
   * The first of the 21 source ports, at a random place in the lease's
   * block, as nmap picks a random base: a target's ISNs hash the ports, so
   * fixed ports would give every run the same SP and ISR.
   */
  private readonly portBase: number;

  constructor(private readonly timing: Pick<TimingValues, 'initialRttTimeoutMs' | 'minRttTimeoutMs' | 'maxRttTimeoutMs' | 'scanDelayMs'>) {
    const protocols: ListenProtocol[] = ['tcp', 'udp', 'icmp'];
    this.lease = acquireListener(protocols, { onReply: (reply) => this.onReply(reply) });
    this.portBase = this.lease.portBase + randomInt(0, this.lease.portCount - U1_SLOT);
  }

  /** Releases the lease and every timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const host of this.hosts.values()) host.wake?.();
    this.lease.release();
  }

  /**
   * One round against one host (IPv4).
   *
   * @throws PortscoutError `ERR_NO_ROUTE` when the kernel has no route to it; the signal's reason when aborted.
   */
  async run(target: OsRunTarget, signal?: AbortSignal): Promise<OsRunResult> {
    signal?.throwIfAborted();
    if (this.hosts.has(target.address)) throw new PortscoutError('ERR_INVALID_OPTION', `OS detection of ${target.address} is already running in this scan.`);
    const started = performance.now();
    const source = await pickSourceAddress(target.address, 4);
    const host: HostRun = {
      target,
      source,
      tcpSeqBase: random32(),
      tcpAck: random32(),
      icmpId: this.lease.icmpIdBase,
      udpTtl: udpProbeTtl(),
      udpChecksum: 0,
      seqSentAt: [],
      tcp: new Array(TCP_SLOTS).fill(undefined),
      ie: [undefined, undefined],
      ieRetransmitted: [false, false],
      sentAt: new Map(),
      sendOk: new Set(),
      rtt: new RttEstimator(this.timing),
      dropped: 0,
      probesSent: 0,
      aborted: false,
    };
    this.hosts.set(target.address, host);
    let aborted: unknown;
    const stopAbort = whenAborted(signal, (reason) => {
      aborted = reason;
      host.aborted = true;
      host.wake?.();
    });
    const check = (): void => {
      if (aborted !== undefined) throw aborted;
      if (this.closed) throw new PortscoutError('ERR_LISTENER_RELEASED', 'OS detection was closed while a round ran.');
    };
    try {
      if (target.openPort !== undefined) {
        for (let i = 0; i < 6; i++) {
          this.sendSlot(host, `SEQ${i + 1}`);
          host.seqSentAt[i] = performance.now();
          if (i < 5) await this.wait(host, () => false, SEQ_INTERVAL_MS);
          check();
        }
        await this.wait(host, () => [0, 1, 2, 3, 4, 5].every((i) => host.tcp[SEQ_SLOT + i]), host.rtt.timeoutMs);
        check();
      }
      const slots: SlotName[] = ['IE1', 'IE2', 'U1'];
      if (target.openPort !== undefined) {
        for (let i = 0; i < 6; i++) if (!host.tcp[SEQ_SLOT + i]) slots.push(`OPS${i + 1}`);
        slots.push('ECN');
        if (!host.tcp[SEQ_SLOT]) slots.push('T1');
        slots.push('T2', 'T3', 'T4');
      }
      slots.push('T5', 'T6', 'T7');
      let pending = slots;
      for (const slot of pending) this.sendSlot(host, slot);
      for (let attempt = 1; pending.length > 0; attempt++) {
        await this.wait(host, () => pending.every((slot) => this.answered(host, slot)), host.rtt.timeoutMs);
        check();
        pending = pending.filter((slot) => !this.answered(host, slot));
        if (attempt >= TRIES) break;
        for (const slot of pending) this.sendSlot(host, slot);
      }
      const neverSent = [...host.sentAt.keys()].filter((slot) => !host.sendOk.has(slot));
      return {
        round: {
          tcpSeqBase: host.tcpSeqBase,
          tcpAck: host.tcpAck,
          seqSentAt: host.seqSentAt,
          udp: { sourcePort: this.portBase + U1_SLOT, destinationPort: target.closedUdpPort, ttl: host.udpTtl, checksum: host.udpChecksum },
          closedTcpPortKnown: target.closedPortKnown,
          openTcpPortKnown: target.openPort !== undefined,
        },
        replies: {
          seq: host.tcp.slice(SEQ_SLOT, SEQ_SLOT + 6),
          ops: host.tcp.slice(OPS_SLOT, OPS_SLOT + 6),
          ...(host.tcp[ECN_SLOT] ? { ecn: host.tcp[ECN_SLOT] } : {}),
          t: host.tcp.slice(T_SLOT + 1, T_SLOT + 8),
          ...(host.u1 ? { u1: host.u1 } : {}),
          ie: host.ie,
          ieRetransmitted: host.ieRetransmitted,
        },
        probesSent: host.probesSent,
        neverSent,
        dropped: host.dropped,
        elapsedMs: performance.now() - started,
      };
    } finally {
      stopAbort();
      host.wake = undefined;
      this.hosts.delete(target.address);
    }
  }

  private answered(host: HostRun, slot: SlotName): boolean {
    if (slot === 'IE1') return host.ie[0] !== undefined;
    if (slot === 'IE2') return host.ie[1] !== undefined;
    if (slot === 'U1') return host.u1 !== undefined;
    return host.tcp[tcpSlotIndex(slot)] !== undefined;
  }

  /** Resolves when `done()` holds after a reply, or after `ms`. */
  private wait(host: HostRun, done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        host.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.timers.add(timer);
      host.wake = () => {
        if (done() || this.closed || host.aborted) finish();
      };
    });
  }

  private sendSlot(host: HostRun, slot: SlotName): void {
    const target = host.target;
    const ip = { source: host.source, destination: target.address, ttl: probeTtl(), identification: random16() };
    let protocol: ListenProtocol;
    let packet: Uint8Array;
    if (slot === 'IE1' || slot === 'IE2') {
      protocol = 'icmp';
      packet = buildOsEchoProbe(slot === 'IE1' ? 0 : 1, ip, host.icmpId);
    } else if (slot === 'U1') {
      protocol = 'udp';
      const built = buildOsUdpProbe({ ...ip, ttl: host.udpTtl, identification: U1_IP_ID }, this.portBase + U1_SLOT, target.closedUdpPort);
      host.udpChecksum = built.checksum;
      packet = built.packet;
    } else {
      protocol = 'tcp';
      const index = tcpSlotIndex(slot);
      const probe = tcpProbeOf(slot);
      const seqIndex = slot.startsWith('SEQ') ? index - SEQ_SLOT : 0;
      packet = buildOsTcpProbe(probe, ip, {
        sourcePort: this.portBase + index,
        destinationPort: probe.port === 'open' ? target.openPort! : target.closedPort,
        sequence: (host.tcpSeqBase + seqIndex) >>> 0,
        acknowledgment: slot === 'ECN' ? 0 : host.tcpAck,
      });
    }
    const previous = host.sentAt.get(slot);
    host.sentAt.set(slot, { at: performance.now(), tries: (previous?.tries ?? 0) + 1 });
    host.probesSent++;
    this.lease.send(4, protocol, packet, target.address, (error) => {
      if (!error) host.sendOk.add(slot);
    });
  }

  private onReply(reply: RawReply): void {
    if (reply.family !== 4 || !reply.packet || !reply.sourceBytes || !reply.destinationBytes) return;
    const fromQuote = reply.quoted?.protocol === IpProtocol.UDP;
    const host = this.hosts.get(fromQuote ? reply.quoted!.destination : reply.source);
    if (!host) return;
    if (!replyChecksumValid(reply, reply.sourceBytes, reply.destinationBytes)) {
      host.dropped++;
      return;
    }
    const now = reply.receivedAt;
    let slot: SlotName | undefined;
    if (reply.protocol === IpProtocol.TCP) {
      const index = ((reply.payload[2]! << 8) | reply.payload[3]!) - this.portBase;
      const sourcePort = (reply.payload[0]! << 8) | reply.payload[1]!;
      slot = slotOfTcpIndex(index);
      const probe = slot === undefined ? undefined : tcpProbeOf(slot);
      if (!slot || !probe || sourcePort !== (probe.port === 'open' ? host.target.openPort : host.target.closedPort)) {
        host.dropped++;
        return;
      }
      if (!host.tcp[index]) host.tcp[index] = reply.packet;
    } else if (reply.icmp?.kind === 'echo-reply') {
      const k = reply.icmp.identifier - host.icmpId;
      if ((k !== 0 && k !== 1) || reply.icmp.sequence !== 295 + k) {
        host.dropped++;
        return;
      }
      slot = k === 0 ? 'IE1' : 'IE2';
      if (!host.ie[k]) {
        host.ie[k] = reply.packet;
        host.ieRetransmitted[k] = (host.sentAt.get(slot)?.tries ?? 1) > 1;
      }
    } else if (fromQuote && reply.icmp?.kind === 'destination-unreachable' && reply.icmp.code === 3) {
      if (reply.quoted!.sourcePort !== this.portBase + U1_SLOT || reply.quoted!.destinationPort !== host.target.closedUdpPort) {
        host.dropped++;
        return;
      }
      slot = 'U1';
      host.u1 ??= reply.packet;
    } else {
      return;
    }
    const sent = host.sentAt.get(slot);
    if (sent && sent.tries === 1) host.rtt.addSample(now - sent.at);
    host.wake?.();
  }
}

function tcpSlotIndex(slot: SlotName): number {
  if (slot.startsWith('SEQ')) return SEQ_SLOT + Number(slot.slice(3)) - 1;
  if (slot.startsWith('OPS')) return OPS_SLOT + Number(slot.slice(3)) - 1;
  if (slot === 'ECN') return ECN_SLOT;
  return T_SLOT + Number(slot.slice(1));
}

function slotOfTcpIndex(index: number): SlotName | undefined {
  if (index < 0 || index >= TCP_SLOTS) return undefined;
  if (index < OPS_SLOT) return `SEQ${index + 1}`;
  if (index < ECN_SLOT) return `OPS${index - OPS_SLOT + 1}`;
  if (index === ECN_SLOT) return 'ECN';
  return `T${index - T_SLOT}`;
}

/** The probe a TCP slot sends: T1 and OPS are SEQ probes again. */
function tcpProbeOf(slot: SlotName): OsTcpProbe {
  if (slot.startsWith('SEQ') || slot.startsWith('OPS')) return OS_SEQ_PROBES[Number(slot.slice(3)) - 1]!;
  if (slot === 'T1') return OS_SEQ_PROBES[0]!;
  return OS_TCP_PROBES.find((probe) => probe.name === slot)!;
}

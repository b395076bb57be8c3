/**
 * The fingerprint's calculations, each checked against values worked out by
 * hand (in the comments) from replies built here byte by byte: the SEQ
 * line (GCD, ISR, SP, TI/CI/II, SS, TS), the option and window strings, the
 * T, ECN, U1 and IE tests, R=N for silence, and the TTL rules.
 */
import { describe, expect, it } from 'vitest';
import { IpProtocol, TcpFlags, buildIcmpv4Message, buildIpv4Packet, buildTcpSegment, tcpOptionString, type TcpOption } from '../../src/wire/index.js';
import {
  buildOsUdpProbe,
  computeOsFingerprint,
  formatOsTests,
  initialTtlGuess,
  ipIdSequenceClass,
  U1_IP_ID,
  type OsProbeReplies,
  type OsProbeRound,
  type OsTest,
} from '../../src/os/index.js';

const US = '198.18.1.1';
const TARGET = '198.18.1.10';
const SEQ_BASE = 0x10000000;
const ACK = 0x20000000;
const UDP_TTL = 55;
const LINUX_OPTIONS: TcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', value: 5, echo: 0xffffffff }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }];

function tcpReply(fields: { seq: number; ack: number; flags: number; id?: number; ttl?: number; df?: boolean; window?: number; options?: TcpOption[]; urgent?: number; data?: Uint8Array }): Uint8Array {
  const segment = buildTcpSegment(
    { sourcePort: 22, destinationPort: 40000, sequence: fields.seq, acknowledgment: fields.ack, flags: fields.flags, window: fields.window ?? 0, options: fields.options ?? [], urgentPointer: fields.urgent ?? 0, ...(fields.data ? { payload: fields.data } : {}) },
    { source: TARGET, destination: US },
  );
  return buildIpv4Packet({ protocol: IpProtocol.TCP, source: TARGET, destination: US, ttl: fields.ttl ?? 64, identification: fields.id ?? 0, dontFragment: fields.df ?? true }, segment);
}

function synAck(isn: number, index: number, id = 0, timestamp = 5): Uint8Array {
  const options: TcpOption[] = LINUX_OPTIONS.map((o) => (o.kind === 'timestamps' ? { ...o, value: timestamp } : o));
  return tcpReply({ seq: isn, ack: SEQ_BASE + index + 1, flags: TcpFlags.SYN | TcpFlags.ACK, id, window: 0xfe88, options });
}

/** Linux's port unreachable for U1: the whole probe quoted, 356 bytes in all. */
function portUnreachable(change?: (quoted: Uint8Array) => void): { packet: Uint8Array; checksum: number } {
  const probe = buildOsUdpProbe({ source: US, destination: TARGET, ttl: UDP_TTL, identification: U1_IP_ID }, 40020, 41000);
  const quoted = probe.packet.slice();
  change?.(quoted);
  const icmp = buildIcmpv4Message({ kind: 'destination-unreachable', code: 3, quoted });
  return { packet: buildIpv4Packet({ protocol: IpProtocol.ICMP, source: TARGET, destination: US, ttl: 64, identification: 7 }, icmp), checksum: probe.checksum };
}

function echoReply(code: number, identifier: number, id: number, df = false): Uint8Array {
  const icmp = buildIcmpv4Message({ kind: 'echo-reply', code, identifier, sequence: 295, data: new Uint8Array(8) });
  return buildIpv4Packet({ protocol: IpProtocol.ICMP, source: TARGET, destination: US, ttl: 64, identification: id, dontFragment: df }, icmp);
}

const sentEvery100ms = [0, 100, 200, 300, 400, 500];

function round(checksum: number, more: Partial<OsProbeRound> = {}): OsProbeRound {
  return { tcpSeqBase: SEQ_BASE, tcpAck: ACK, seqSentAt: sentEvery100ms, udp: { sourcePort: 40020, destinationPort: 41000, ttl: UDP_TTL, checksum }, closedTcpPortKnown: true, openTcpPortKnown: true, ...more };
}

const testOf = (tests: readonly OsTest[], name: string): string => formatOsTests(tests.filter((t) => t.name === name));

describe('the SEQ line', () => {
  it('constant ISN steps: GCD is the step, ISR its rate, SP 0, TS from a 100 Hz clock', () => {
    // ISN steps of 2000 every 100 ms: 20,000/s; ISR = trunc(8 * log2(20000) + 0.5) = trunc(114.80) = 114 = 0x72.
    // GCD 2000 = 0x7D0 (> 9, so the rates are divided by it: all 10, no deviation: SP 0).
    // Timestamps +10 per 100 ms: 100 Hz, nmap's class 7.
    const seq = [0, 1, 2, 3, 4, 5].map((i) => synAck(1_000_000 + 2000 * i, i, 0, 1000 + 10 * i));
    const { packet, checksum } = portUnreachable();
    const fp = computeOsFingerprint(round(checksum), { seq, ops: [], t: [], u1: packet, ie: [], ieRetransmitted: [] });
    expect(testOf(fp.tests, 'SEQ')).toBe('SEQ(SP=0%GCD=7D0%ISR=72%TI=Z%TS=7)');
    expect(fp.seqResponses).toBe(6);
  });

  it('uneven steps: SP from the deviation of the rates, TS from a 1000 Hz clock, TI/CI/II/SS from the IP IDs', () => {
    // Steps 1000, 3000, 1000, 3000, 1000 per 100 ms: rates 10k, 30k, 10k, 30k, 10k; mean 18,000/s.
    // ISR = trunc(8 * log2(18000) + 0.5) = trunc(113.59) = 113 = 0x71. GCD 1000 = 0x3E8 (divides the rates):
    // 10, 30, 10, 30, 10 against 18: squares 64 + 144 + 64 + 144 + 64 = 480, / (6 - 2) = 120,
    // sqrt = 10.954, SP = trunc(8 * log2(10.954) + 0.5) = trunc(28.13) = 28 = 0x1C.
    // Timestamps +100 per 100 ms: 1000 Hz, TS = trunc(0.5 + log2(1000)) = 10 = A.
    const isns = [5_000_000, 5_001_000, 5_004_000, 5_005_000, 5_008_000, 5_009_000];
    const seq = isns.map((isn, i) => synAck(isn, i, 100 + i, 7000 + 100 * i));
    const t = [undefined, undefined, undefined, undefined, ...[0, 1, 2].map((k) => tcpReply({ seq: 0, ack: SEQ_BASE + 1, flags: TcpFlags.RST | TcpFlags.ACK, id: [300, 1299, 1310][k]!, df: false }))];
    // IE IP IDs 106, 107: incremental (II=I); TCP IDs 100..105 step 1 (TI=I): 106 < 105 + 3 * 1, shared (SS=S).
    // T5-T7's IDs 300, 1299, 1310: steps 999 and 11, not over 1000, not multiples of 256 or of 2, not under 10: no class, CI left out.
    const ie = [echoReply(9, 0x4242, 106), echoReply(0, 0x4243, 107)];
    const fp = computeOsFingerprint(round(0), { seq, ops: [], t, ie, ieRetransmitted: [false, false] });
    expect(testOf(fp.tests, 'SEQ')).toBe('SEQ(SP=1C%GCD=3E8%ISR=71%TI=I%II=I%SS=S%TS=A)');
  });

  it('fewer than four SYN/ACKs: no SP, GCD or ISR; resets are not samples; no timestamp option is TS=U', () => {
    const seq = [synAck(10, 0, 0), tcpReply({ seq: 0, ack: 0, flags: TcpFlags.RST }), tcpReply({ seq: 20, ack: SEQ_BASE + 3, flags: TcpFlags.SYN | TcpFlags.ACK, window: 5 })];
    const fp = computeOsFingerprint(round(0), { seq, ops: [], t: [], ie: [], ieRetransmitted: [] });
    expect(testOf(fp.tests, 'SEQ')).toBe('SEQ(TS=U)');
    expect(fp.seqResponses).toBe(2);
  });
});

describe('IP ID classes', () => {
  it.each([
    [[0, 0, 0], 'Z'],
    [[5, 30_000, 60_000], 'RD'], // a step over 20,000 with more than two samples
    [[100, 1_337, 5_000], 'RI'], // steps over 1000, not multiples of 256
    [[256, 512, 1280], 'BI'], // multiples of 256, at most 5120
    [[10, 12, 14, 16], 'I'], // steps of 2
    [[10, 11, 13, 14], 'I'], // steps under 10
    [[77, 77, 77], '4D'], // constant: the value in hex
    [[10, 40, 61], undefined], // steps 30 and 21: no class, the attribute is left out
    [[65_534, 1, 4], 'RD'], // a wrap reads as a huge u32 step first
  ])('%j is %s', (ids, expected) => {
    expect(ipIdSequenceClass(ids)).toBe(expected);
  });
});

describe('options, window and the TTL', () => {
  it('writes the options as nmap does, and the empty string for an option cut short or unknown', () => {
    expect(tcpOptionString(Uint8Array.of(2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7))).toBe('M5B4ST10NW7');
    expect(tcpOptionString(Uint8Array.of(2, 4, 5, 0xb4, 0, 0, 0, 0))).toBe('M5B4LLLL');
    expect(tcpOptionString(Uint8Array.of(2, 4, 5))).toBe('');
    expect(tcpOptionString(Uint8Array.of(30, 2))).toBe('');
    expect(tcpOptionString(new Uint8Array(0))).toBe('');
  });

  it('guesses the initial TTL', () => {
    expect([1, 32, 33, 64, 65, 128, 129, 255].map(initialTtlGuess)).toEqual([32, 32, 64, 64, 128, 128, 255, 255]);
  });
});

describe('the T, ECN, U1 and IE tests', () => {
  const seq = [0, 1, 2, 3, 4, 5].map((i) => synAck(1000 + 64 * i, i));

  it('reads T1 from SEQ 1, T2-T7 from theirs, R=N for silence, and the initial TTL from the distance U1 gives', () => {
    const { packet, checksum } = portUnreachable();
    const t = [
      undefined,
      undefined, // T2 silent
      undefined, // T3 silent
      tcpReply({ seq: ACK, ack: 0, flags: TcpFlags.RST }), // T4: S=A, A=Z
      tcpReply({ seq: 0, ack: SEQ_BASE + 1, flags: TcpFlags.RST | TcpFlags.ACK }), // T5: S=Z, A=S+
      tcpReply({ seq: ACK + 1, ack: SEQ_BASE, flags: TcpFlags.RST, window: 0x1000 }), // T6: S=A+, A=S
      tcpReply({ seq: 0, ack: 5, flags: TcpFlags.RST | TcpFlags.ACK, data: new TextEncoder().encode('hello'), urgent: 9 }), // T7: RD, Q=U
    ];
    const ecn = tcpReply({ seq: 77, ack: SEQ_BASE + 1, flags: TcpFlags.SYN | TcpFlags.ACK | TcpFlags.ECE, window: 0xfaf0, options: LINUX_OPTIONS });
    const fp = computeOsFingerprint(round(checksum), { seq, ops: [], ecn, t, u1: packet, ie: [], ieRetransmitted: [] });
    // The quoted TTL is what was sent: distance 1, so T = received TTL 64 = 0x40.
    expect(fp.distance).toBe(1);
    expect(testOf(fp.tests, 'T1')).toBe('T1(R=Y%DF=Y%T=40%S=O%A=S+%F=AS%RD=0%Q=)');
    expect(testOf(fp.tests, 'T2')).toBe('T2(R=N)');
    expect(testOf(fp.tests, 'T4')).toBe('T4(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)');
    expect(testOf(fp.tests, 'T5')).toBe('T5(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)');
    expect(testOf(fp.tests, 'T6')).toBe('T6(R=Y%DF=Y%T=40%W=1000%S=A+%A=S%F=R%O=%RD=0%Q=)');
    // CRC-32 of "hello" is 0x3610A686.
    expect(testOf(fp.tests, 'T7')).toBe('T7(R=Y%DF=Y%T=40%W=0%S=Z%A=O%F=AR%O=%RD=3610A686%Q=U)');
    expect(testOf(fp.tests, 'ECN')).toBe('ECN(R=Y%DF=Y%T=40%W=FAF0%O=M5B4ST11NW7%CC=Y%Q=)');
    expect(testOf(fp.tests, 'OPS')).toBe('OPS(O1=M5B4ST11NW7%O2=M5B4ST11NW7%O3=M5B4ST11NW7%O4=M5B4ST11NW7%O5=M5B4ST11NW7%O6=M5B4ST11NW7)');
    expect(testOf(fp.tests, 'WIN')).toBe('WIN(W1=FE88%W2=FE88%W3=FE88%W4=FE88%W5=FE88%W6=FE88)');
    // Linux quotes the whole probe: 20 + 8 + 328 = 356 = 0x164.
    expect(testOf(fp.tests, 'U1')).toBe('U1(R=Y%DF=N%T=40%IPL=164%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)');
    expect(testOf(fp.tests, 'IE')).toBe('IE(R=N)');
    expect(fp.tests.map((test) => test.name)).toEqual(['SEQ', 'OPS', 'WIN', 'ECN', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'U1', 'IE']);
  });

  it('reports a changed quote in U1, and TG (the guessed initial TTL) without a distance', () => {
    const changed = portUnreachable((quoted) => {
      quoted[4] = 0x99; // IP ID
      quoted[10] = 0; // checksum 0
      quoted[11] = 0;
      quoted[8] = UDP_TTL - 2; // two routers on the way: distance 3
      quoted[28 + 299] = 0x44; // last data byte
    });
    const fp = computeOsFingerprint(round(changed.checksum), { seq: [], ops: [], t: [], u1: changed.packet, ie: [], ieRetransmitted: [] });
    expect(fp.distance).toBe(3);
    // T = 64 + 3 - 1 = 66 = 0x42.
    expect(testOf(fp.tests, 'U1')).toBe('U1(R=Y%DF=N%T=42%IPL=164%UN=0%RIPL=G%RID=9942%RIPCK=Z%RUCK=G%RUD=I)');
    const bad = portUnreachable((quoted) => void (quoted[5] = 0x43)); // ID changed under a checksum that no longer adds up
    const fp2 = computeOsFingerprint(round(bad.checksum ^ 1), { seq: [], ops: [], t: [], u1: bad.packet, ie: [], ieRetransmitted: [] });
    expect(testOf(fp2.tests, 'U1')).toMatch(/RID=1043%RIPCK=I%RUCK=[0-9A-F]+%RUD=G/);
    const noU1 = computeOsFingerprint(round(0), { seq: [], ops: [], t: [undefined, undefined, undefined, undefined, tcpReply({ seq: 0, ack: 0, flags: TcpFlags.RST, ttl: 57 })], ie: [], ieRetransmitted: [] });
    expect(testOf(noU1.tests, 'T5')).toBe('T5(R=Y%DF=Y%TG=40%W=0%S=Z%A=Z%F=R%O=%RD=0%Q=)');
    expect(testOf(noU1.tests, 'U1')).toBe('U1(R=N)');
  });

  it('reads IE from both echo replies: DFI and CD', () => {
    const read = (a: Uint8Array, b: Uint8Array): string => testOf(computeOsFingerprint(round(0), { seq: [], ops: [], t: [], ie: [a, b], ieRetransmitted: [false, false] }).tests, 'IE');
    expect(read(echoReply(9, 1, 1), echoReply(0, 2, 2))).toBe('IE(R=Y%DFI=N%TG=40%CD=S)');
    expect(read(echoReply(0, 1, 1, true), echoReply(0, 2, 2, true))).toBe('IE(R=Y%DFI=Y%TG=40%CD=Z)');
    expect(read(echoReply(9, 1, 1, true), echoReply(9, 2, 2, false))).toBe('IE(R=Y%DFI=S%TG=40%CD=9)');
    expect(read(echoReply(3, 1, 1, false), echoReply(0, 2, 2, true))).toBe('IE(R=Y%DFI=O%TG=40%CD=O)');
  });

  it('leaves out T5-T7 when no closed port was known, and the open port\'s tests without an open port', () => {
    const fp = computeOsFingerprint(round(0, { closedTcpPortKnown: false, openTcpPortKnown: false }), { seq: [], ops: [], t: [], ie: [], ieRetransmitted: [] });
    expect(fp.tests.map((test) => test.name)).toEqual(['U1', 'IE']);
  });
});

describe('hostile replies', () => {
  it('never throws on truncated or garbage packets, of every length', () => {
    const whole = synAck(1000, 0);
    const replies: OsProbeReplies[] = [];
    for (let n = 0; n <= whole.length; n++) replies.push({ seq: [whole.subarray(0, n)], ops: [], ecn: whole.subarray(0, n), t: [whole.subarray(0, n)], u1: portUnreachable().packet.subarray(0, n), ie: [whole.subarray(0, n), whole.subarray(0, n)], ieRetransmitted: [] });
    for (const r of replies) expect(() => computeOsFingerprint(round(0), r)).not.toThrow();
  });
});

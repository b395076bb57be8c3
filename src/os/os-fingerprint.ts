/**
 * The fingerprint's tests, computed from the replies to nmap's OS probes as
 * nmap 7.93 computes them (osscan2.cc), from the replies alone: SEQ (SP, GCD,
 * ISR, TI, CI, II, SS, TS), OPS (O1-O6), WIN (W1-W6), ECN, T1-T7, U1 and IE.
 * Pure: it reads recorded IPv4 packets, so every calculation can be checked
 * against replies captured once.
 *
 * @module
 */
import { TcpFlags, internetChecksum, readUint16, readUint32, tcpOptionString } from '../wire/index.js';
import type { OsTest } from './fingerprint.js';
import { U1_IP_ID, U1_PATTERN_BYTE, U1_TOTAL_LENGTH } from './os-probes.js';

/** What was sent in the round whose replies are read. */
export interface OsProbeRound {
  /** The sequence number of SEQ probe 1 (probe i has base + i); also that of the other TCP probes. */
  readonly tcpSeqBase: number;
  /** The acknowledgment number the TCP probes carry. */
  readonly tcpAck: number;
  /** When each SEQ probe left, in milliseconds (any clock; only differences count). */
  readonly seqSentAt: readonly (number | undefined)[];
  /** The U1 probe as sent: its ports, TTL and UDP checksum. */
  readonly udp: { readonly sourcePort: number; readonly destinationPort: number; readonly ttl: number; readonly checksum: number };
  /** Whether a closed TCP port was known (T5-T7 without an answer then read `R=N`). */
  readonly closedTcpPortKnown: boolean;
  /** Whether an open TCP port was probed (SEQ, OPS, WIN, ECN and T1-T4 need one). */
  readonly openTcpPortKnown: boolean;
}

/**
 * The first reply to each probe, as whole IPv4 packets (header included).
 *
 * @example
 * ```ts
 * const replies: OsProbeReplies = { seq: [synAck1, synAck2], ops: [], t: [], ie: [echo1, echo2], ieRetransmitted: [false, false] };
 * ```
 */
export interface OsProbeReplies {
  /** Replies to SEQ probes 1-6 (SYNs to the open port). */
  readonly seq: readonly (Uint8Array | undefined)[];
  /** Replies to the OPS/WIN probes sent again for SEQ probes that got none. */
  readonly ops: readonly (Uint8Array | undefined)[];
  readonly ecn?: Uint8Array;
  /** Replies to T1-T7 (index 0: T1 sent again when SEQ probe 1 got none). */
  readonly t: readonly (Uint8Array | undefined)[];
  /** The ICMP port unreachable that answered U1. */
  readonly u1?: Uint8Array;
  /** Echo replies to IE probes 1 and 2. */
  readonly ie: readonly (Uint8Array | undefined)[];
  /** Whether each IE reply answered a retransmission (its IP ID is then not used). */
  readonly ieRetransmitted: readonly boolean[];
}

/**
 * A computed fingerprint.
 *
 * @example
 * ```ts
 * const { tests, distance } = computeOsFingerprint(round, replies);
 * ```
 */
export interface ComputedFingerprint {
  readonly tests: OsTest[];
  /** Hops to the target, from the TTL quoted in U1's reply; undefined without one. */
  readonly distance?: number;
  /** How many SEQ probes got a SYN/ACK. */
  readonly seqResponses: number;
}

const { FIN: TH_FIN, SYN: TH_SYN, RST: TH_RST, PSH: TH_PUSH, ACK: TH_ACK, URG: TH_URG, ECE: TH_ECE, CWR: TH_CWR } = TcpFlags;

/** The parts of a reply the tests read. @internal */
interface Ip {
  readonly bytes: Uint8Array;
  readonly ihl: number;
  readonly totalLength: number;
  readonly id: number;
  readonly df: boolean;
  readonly ttl: number;
  readonly protocol: number;
}

function readIp(bytes: Uint8Array | undefined): Ip | undefined {
  if (!bytes || bytes.length < 20 || bytes[0]! >> 4 !== 4) return undefined;
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (ihl < 20 || bytes.length < ihl + 4) return undefined;
  return { bytes, ihl, totalLength: readUint16(bytes, 2), id: readUint16(bytes, 4), df: (bytes[6]! & 0x40) !== 0, ttl: bytes[8]!, protocol: bytes[9]! };
}

interface Tcp {
  readonly start: number;
  readonly seq: number;
  readonly ack: number;
  readonly offset: number;
  readonly reserved: number;
  readonly flags: number;
  readonly window: number;
  readonly urgent: number;
  readonly options: Uint8Array;
}

function readTcp(ip: Ip | undefined): Tcp | undefined {
  if (!ip || ip.protocol !== 6) return undefined;
  const b = ip.bytes;
  const s = ip.ihl;
  if (b.length < s + 20) return undefined;
  const offset = (b[s + 12]! >> 4) * 4;
  if (offset < 20 || b.length < s + offset) return undefined;
  return {
    start: s,
    seq: readUint32(b, s + 4),
    ack: readUint32(b, s + 8),
    offset,
    reserved: b[s + 12]! & 0x0f,
    flags: b[s + 13]!,
    window: readUint16(b, s + 14),
    urgent: readUint16(b, s + 18),
    options: b.subarray(s + 20, s + offset),
  };
}

const hex = (n: number): string => n.toString(16).toUpperCase();

/** The TCP timestamp value of a reply's options, or undefined without a timestamp option. */
function timestampOf(options: Uint8Array): number | undefined {
  let i = 0;
  while (i < options.length) {
    const kind = options[i]!;
    if (kind === 0) return undefined;
    if (kind === 1) {
      i++;
      continue;
    }
    const length = options[i + 1];
    if (length === undefined || length < 2 || i + length > options.length) return undefined;
    if (kind === 8 && length === 10) return readUint32(options, i + 2);
    i += length;
  }
  return undefined;
}

/**
 * nmap's guess of the initial TTL from an observed one: 32, 64, 128 or 255.
 *
 * @example
 * ```ts
 * initialTtlGuess(57); // 64
 * ```
 */
export function initialTtlGuess(ttl: number): 32 | 64 | 128 | 255 {
  return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

/**
 * nmap's IP ID sequence classes: `Z` all zero, `RD` random (a step over
 * 20,000), `RI` random positive increments, `BI` broken increments
 * (multiples of 256), `I` incremental, a hex value when constant, or
 * undefined when none fits (the attribute is then left out).
 *
 * @example
 * ```ts
 * ipIdSequenceClass([100, 101, 102]); // 'I'
 * ipIdSequenceClass([0, 0, 0]); // 'Z'
 * ```
 */
export function ipIdSequenceClass(ids: readonly number[]): string | undefined {
  const n = ids.length;
  if (n < 2) return undefined;
  const diffs: number[] = [];
  let allZero = true;
  for (let i = 1; i < n; i++) {
    if (ids[i - 1] !== 0 || ids[i] !== 0) allZero = false;
    // u32 arithmetic, as nmap computes the difference before masking it to 16 bits.
    const diff = (ids[i]! - ids[i - 1]!) >>> 0;
    if (n > 2 && diff > 20_000) return 'RD';
    diffs.push(diff & 0xffff);
  }
  if (allZero) return 'Z';
  if (diffs.every((d) => d === 0)) return hex(ids[0]!);
  for (const d of diffs) if (d > 1000 && (d % 256 !== 0 || d >= 25_600)) return 'RI';
  if (diffs.every((d) => d <= 5120 && d % 256 === 0)) return 'BI';
  // nmap's "increments by 2" and "increments by 1" both print I.
  if (diffs.every((d) => d % 2 === 0)) return 'I';
  if (diffs.every((d) => d <= 9)) return 'I';
  return undefined;
}

const INCREMENTAL = new Set(['I', 'BI', 'RI']);

function modDiff(a: number, b: number): number {
  return Math.min((a - b) >>> 0, (b - a) >>> 0);
}

function gcd(values: readonly number[]): number {
  if (values.length === 0) return 1;
  let a = values[0]!;
  for (let k = 1; k < values.length; k++) {
    let b = values[k]!;
    if (a < b) [a, b] = [b, a];
    while (b) [a, b] = [b, a % b];
  }
  return a;
}

interface SeqSample {
  readonly isn: number;
  readonly timestamp: number;
  readonly sentAt: number;
}

/** The SEQ line: from the SYN/ACKs of the six SEQ probes and the IP IDs of all replies. @internal */
function seqTest(round: OsProbeRound, replies: OsProbeReplies): { test?: OsTest; responses: number } {
  const values: [string, string][] = [];
  const samples: SeqSample[] = [];
  const tcpIds: number[] = [];
  let tsClass: 'unknown' | 'zero' | 'unsupported' = 'unknown';
  for (let i = 0; i < 6; i++) {
    const ip = readIp(replies.seq[i]);
    const tcp = readTcp(ip);
    if (!ip || !tcp || tcp.flags & TH_RST || (tcp.flags & (TH_SYN | TH_ACK)) !== (TH_SYN | TH_ACK)) continue;
    tcpIds.push(ip.id);
    const timestamp = timestampOf(tcp.options);
    if (timestamp === undefined) tsClass = 'unsupported';
    else if (timestamp === 0) tsClass = 'zero';
    // An ISN of 0 is a gap, as in nmap's table of samples.
    if (tcp.seq !== 0) samples.push({ isn: tcp.seq, timestamp: timestamp ?? 0, sentAt: round.seqSentAt[i] ?? 0 });
  }
  const responses = samples.length;
  const seqDiffs: number[] = [];
  const tsDiffs: number[] = [];
  const usecDiffs: number[] = [];
  const rates: number[] = [];
  let avgRate = 0;
  for (let j = 1; j < responses; j++) {
    seqDiffs.push(modDiff(samples[j]!.isn, samples[j - 1]!.isn));
    tsDiffs.push(modDiff(samples[j]!.timestamp, samples[j - 1]!.timestamp));
    const usec = Math.max(1, Math.trunc((samples[j]!.sentAt - samples[j - 1]!.sentAt) * 1000));
    usecDiffs.push(usec);
    // nmap keeps the rates in single precision.
    const rate = Math.fround((seqDiffs[j - 1]! * 1_000_000) / usec);
    rates.push(rate);
    avgRate += rate;
  }
  if (responses >= 4) {
    avgRate /= responses - 1;
    const seqGcd = gcd(seqDiffs);
    let index = 0;
    let isr = 0;
    if (seqGcd !== 0) {
      isr = Math.trunc((Math.log(avgRate) / Math.log(2)) * 8 + 0.5) >>> 0;
      const div = seqGcd > 9 ? seqGcd : 1;
      let variance = 0;
      for (const rate of rates) {
        const d = Math.fround(rate / div) - avgRate / div;
        variance += d * d;
      }
      variance /= responses - 2;
      const stddev = Math.sqrt(variance);
      index = stddev <= 1 ? 0 : Math.trunc((Math.log(stddev) / Math.log(2)) * 8 + 0.5);
    }
    values.push(['SP', hex(index)], ['GCD', hex(seqGcd)], ['ISR', hex(isr)]);
  }
  const closedIds = [4, 5, 6].map((k) => replies.t[k]).map((bytes) => (readTcp(readIp(bytes)) ? readIp(bytes)!.id : undefined)).filter((id): id is number => id !== undefined);
  const icmpIds = [0, 1].filter((k) => readIp(replies.ie[k]) && !replies.ieRetransmitted[k]).map((k) => readIp(replies.ie[k])!.id);
  const ti = tcpIds.length >= 3 ? ipIdSequenceClass(tcpIds) : undefined;
  const ci = closedIds.length >= 2 ? ipIdSequenceClass(closedIds) : undefined;
  const ii = icmpIds.length >= 2 ? ipIdSequenceClass(icmpIds) : undefined;
  if (ti !== undefined) values.push(['TI', ti]);
  if (ci !== undefined) values.push(['CI', ci]);
  if (ii !== undefined) values.push(['II', ii]);
  if (ti !== undefined && ii !== undefined && INCREMENTAL.has(ti) && INCREMENTAL.has(ii)) {
    const last = tcpIds[tcpIds.length - 1]!;
    const avg = Math.trunc(((last - tcpIds[0]!) >>> 0) / (tcpIds.length - 1));
    values.push(['SS', icmpIds[0]! < (last + 3 * avg) >>> 0 ? 'S' : 'O']);
  }
  if (tsClass === 'zero') values.push(['TS', '0']);
  else if (tsClass === 'unsupported') values.push(['TS', 'U']);
  else if (responses >= 2) {
    let hz = 0;
    for (let k = 0; k < responses - 1; k++) hz += tsDiffs[k]! / (usecDiffs[k]! / 1_000_000) / (responses - 1);
    if (hz > 0) {
      const ts = hz <= 5.66 ? 1 : hz > 70 && hz <= 150 ? 7 : hz > 150 && hz <= 350 ? 8 : Math.trunc(0.5 + Math.log(hz) / Math.log(2));
      values.push(['TS', hex(ts)]);
    }
  }
  return { ...(values.length > 0 ? { test: { name: 'SEQ', values } } : {}), responses };
}

function quirks(tcp: Tcp): string {
  return `${tcp.reserved ? 'R' : ''}${!(tcp.flags & TH_URG) && tcp.urgent ? 'U' : ''}`;
}

const FLAG_LETTERS: readonly [number, string][] = [
  [TH_ECE, 'E'],
  [TH_URG, 'U'],
  [TH_ACK, 'A'],
  [TH_PUSH, 'P'],
  [TH_RST, 'R'],
  [TH_SYN, 'S'],
  [TH_FIN, 'F'],
];

/**
 * CRC-32 (IEEE, as zlib's) of the data a reset carries: the RD test. @internal
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** T1-T7: a TCP reply's test; `withWindowAndOptions` is false for T1. */
function tcpTest(name: string, bytes: Uint8Array | undefined, round: OsProbeRound, withWindowAndOptions: boolean): OsTest | undefined {
  const ip = readIp(bytes);
  const tcp = readTcp(ip);
  if (!ip || !tcp) return undefined;
  const values: [string, string][] = [
    ['R', 'Y'],
    ['DF', ip.df ? 'Y' : 'N'],
    ['T', String(ip.ttl)],
  ];
  if (withWindowAndOptions) values.push(['W', hex(tcp.window)]);
  const seq = tcp.seq;
  values.push(['S', seq === 0 ? 'Z' : seq === round.tcpAck ? 'A' : seq === ((round.tcpAck + 1) >>> 0) ? 'A+' : 'O']);
  const ack = tcp.ack;
  values.push(['A', ack === 0 ? 'Z' : ack === round.tcpSeqBase ? 'S' : ack === ((round.tcpSeqBase + 1) >>> 0) ? 'S+' : 'O']);
  values.push(['F', FLAG_LETTERS.filter(([bit]) => tcp.flags & bit).map(([, letter]) => letter).join('')]);
  if (withWindowAndOptions) values.push(['O', tcpOptionString(tcp.options)]);
  const dataLength = ip.totalLength - ip.ihl - tcp.offset;
  const data = ip.bytes.subarray(ip.ihl + tcp.offset, Math.min(ip.bytes.length, ip.totalLength));
  values.push(['RD', tcp.flags & TH_RST && dataLength > 0 ? crc32(data).toString(16).toUpperCase().padStart(8, '0') : '0']);
  values.push(['Q', quirks(tcp)]);
  return { name, values };
}

function ecnTest(bytes: Uint8Array | undefined): OsTest | undefined {
  const ip = readIp(bytes);
  const tcp = readTcp(ip);
  if (!ip || !tcp) return undefined;
  const ece = (tcp.flags & TH_ECE) !== 0;
  const cwr = (tcp.flags & TH_CWR) !== 0;
  return {
    name: 'ECN',
    values: [
      ['R', 'Y'],
      ['DF', ip.df ? 'Y' : 'N'],
      ['T', String(ip.ttl)],
      ['W', hex(tcp.window)],
      ['O', tcpOptionString(tcp.options)],
      ['CC', ece && cwr ? 'S' : ece ? 'Y' : !cwr ? 'N' : 'O'],
      ['Q', quirks(tcp)],
    ],
  };
}

/** The checksum of the quoted IPv4 header (20 bytes from `start`), computed with its checksum field as zero. */
function quotedHeaderChecksum(bytes: Uint8Array, start: number): number {
  const header = bytes.slice(start, start + 20);
  header[10] = 0;
  header[11] = 0;
  return internetChecksum(header);
}

/** U1: the ICMP port unreachable quoting the UDP probe. Also the distance, from the quoted TTL. */
function udpTest(bytes: Uint8Array | undefined, round: OsProbeRound): { test: OsTest; distance: number } | undefined {
  const ip = readIp(bytes);
  if (!ip || ip.protocol !== 1) return undefined;
  const b = ip.bytes;
  const icmp = ip.ihl;
  if (b[icmp] !== 3 || b[icmp + 1] !== 3 || b.length < icmp + 8 + 20) return undefined;
  const q = icmp + 8;
  const qihl = (b[q]! & 0x0f) * 4;
  if (qihl < 20 || b.length < q + qihl + 8) return undefined;
  const udp = q + qihl;
  if (readUint16(b, udp) !== round.udp.sourcePort || readUint16(b, udp + 2) !== round.udp.destinationPort) return undefined;
  const quotedLength = readUint16(b, q + 2);
  const quotedId = readUint16(b, q + 4);
  const quotedChecksum = readUint16(b, q + 10);
  const udpChecksum = readUint16(b, udp + 6);
  let rud = 'G';
  const end = Math.min(b.length, ip.totalLength);
  for (let k = udp + 8; k < end; k++) {
    if (b[k] !== U1_PATTERN_BYTE) {
      rud = 'I';
      break;
    }
  }
  const values: [string, string][] = [
    ['R', 'Y'],
    ['DF', ip.df ? 'Y' : 'N'],
    ['T', String(ip.ttl)],
    ['IPL', hex(ip.totalLength)],
    ['UN', hex(readUint32(b, icmp + 4) & 0xffff)],
    ['RIPL', quotedLength === U1_TOTAL_LENGTH ? 'G' : hex(quotedLength)],
    ['RID', quotedId === U1_IP_ID ? 'G' : hex(quotedId)],
    ['RIPCK', quotedChecksum === 0 ? 'Z' : quotedHeaderChecksum(b, q) === quotedChecksum ? 'G' : 'I'],
    ['RUCK', udpChecksum === round.udp.checksum ? 'G' : hex(udpChecksum)],
    ['RUD', rud],
  ];
  return { test: { name: 'U1', values }, distance: round.udp.ttl - b[q + 8]! + 1 };
}

/** IE: the two echo replies, read together. */
function icmpTest(first: Uint8Array | undefined, second: Uint8Array | undefined): OsTest | undefined {
  const a = readIp(first);
  const b = readIp(second);
  if (!a || !b || a.protocol !== 1 || b.protocol !== 1) return undefined;
  const codeA = a.bytes[a.ihl + 1]!;
  const codeB = b.bytes[b.ihl + 1]!;
  const dfi = a.df && b.df ? 'Y' : a.df && !b.df ? 'S' : !a.df && !b.df ? 'N' : 'O';
  const cd = codeA === codeB ? (codeA === 0 ? 'Z' : hex(codeA)) : codeA === 9 && codeB === 0 ? 'S' : 'O';
  return {
    name: 'IE',
    values: [
      ['R', 'Y'],
      ['DFI', dfi],
      ['T', String(a.ttl)],
      ['CD', cd],
    ],
  };
}

/**
 * Computes the fingerprint's tests from one round of replies, in nmap's
 * order, with nmap's rules: T1 from SEQ probe 1's reply; OPS and WIN only
 * when all six are known; `R=N` for a probe that got no answer (T5-T7 only
 * when a closed port was known); each `T` (received TTL) turned into the
 * initial TTL once U1 gave the distance, or into `TG` (nmap's guess) without it.
 *
 * @example
 * ```ts
 * const fp = computeOsFingerprint(round, replies);
 * console.log(formatOsTests(fp.tests));
 * ```
 */
export function computeOsFingerprint(round: OsProbeRound, replies: OsProbeReplies): ComputedFingerprint {
  const seq = seqTest(round, replies);
  const ops: [string, string][] = [];
  const win: [string, string][] = [];
  for (let i = 0; i < 6; i++) {
    const tcp = readTcp(readIp(replies.seq[i])) ?? readTcp(readIp(replies.ops[i]));
    if (!tcp) continue;
    ops.push([`O${i + 1}`, tcpOptionString(tcp.options)]);
    win.push([`W${i + 1}`, hex(tcp.window)]);
  }
  const u1 = udpTest(replies.u1, round);
  const distance = u1?.distance;
  const slots: (OsTest | undefined)[] = [
    seq.test,
    ops.length === 6 ? { name: 'OPS', values: ops } : undefined,
    win.length === 6 ? { name: 'WIN', values: win } : undefined,
    ecnTest(replies.ecn),
    tcpTest('T1', replies.seq[0] ?? replies.t[0], round, false),
    ...[1, 2, 3, 4, 5, 6].map((k) => tcpTest(`T${k + 1}`, replies.t[k], round, true)),
    u1?.test,
    icmpTest(replies.ie[0], replies.ie[1]),
  ];
  const names = ['SEQ', 'OPS', 'WIN', 'ECN', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'U1', 'IE'];
  const tests: OsTest[] = [];
  for (let i = 0; i < slots.length; i++) {
    const test = slots[i];
    if (test) {
      tests.push(withInitialTtl(test, distance));
      continue;
    }
    const answerable = (i >= 3 && i <= 7 && round.openTcpPortKnown) || (i >= 8 && i <= 10 && round.closedTcpPortKnown) || i >= 11;
    if (answerable) tests.push({ name: names[i]!, values: [['R', 'N']] });
  }
  return { tests, ...(distance !== undefined ? { distance } : {}), seqResponses: seq.responses };
}

function withInitialTtl(test: OsTest, distance: number | undefined): OsTest {
  const at = test.values.findIndex(([attribute]) => attribute === 'T');
  if (at < 0) return test;
  const ttl = Number(test.values[at]![1]);
  const values = [...test.values];
  values[at] = distance !== undefined ? ['T', hex((ttl + distance - 1) & 0xffff)] : ['TG', hex(initialTtlGuess(ttl))];
  return { name: test.name, values };
}

/**
 * Tests of the UDP probe payload table.
 *
 * Every payload is wrapped in a hand-built IPv4+UDP packet (198.18.0.1 ->
 * 198.18.0.2, written to a pcap file, never sent) and decoded by tshark, which
 * picks its dissector by the well-known port: the test asserts that the
 * protocol is recognised, nothing is malformed, and the key fields are right.
 * Two payloads are also answered by a real server (dnsmasq on a loopback
 * address) when dnsmasq is installed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortscoutError } from '../../src/errors.js';
import { UDP_PAYLOAD_PORTS, describeUdpPayload, udpPayloadFor } from '../../src/scan/udp-payloads.js';

const execFileAsync = promisify(execFile);

const TSHARK = '/usr/bin/tshark';
const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((path) => existsSync(path));

// ---------------------------------------------------------------------------
// Table and API behaviour
// ---------------------------------------------------------------------------

describe('udp payload table', () => {
  it('lists the required protocol ports once, in ascending order', () => {
    for (const port of [53, 69, 111, 123, 137, 161, 500, 1900, 5353]) {
      expect(UDP_PAYLOAD_PORTS).toContain(port);
    }
    expect(new Set(UDP_PAYLOAD_PORTS).size).toBe(UDP_PAYLOAD_PORTS.length);
    expect([...UDP_PAYLOAD_PORTS].sort((a, b) => a - b)).toEqual(UDP_PAYLOAD_PORTS);
    expect(Object.isFrozen(UDP_PAYLOAD_PORTS)).toBe(true);
  });

  it('does not send a DHCP payload (broadcast semantics)', () => {
    expect(udpPayloadFor(67)).toHaveLength(0);
    expect(udpPayloadFor(68)).toHaveLength(0);
  });

  it('gives a payload and a description exactly for the listed ports', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (port) => {
        const listed = UDP_PAYLOAD_PORTS.includes(port);
        expect(udpPayloadFor(port).length > 0).toBe(listed);
        expect(describeUdpPayload(port) !== undefined).toBe(listed);
      }),
      { numRuns: 2000 },
    );
    for (const port of UDP_PAYLOAD_PORTS) {
      expect(describeUdpPayload(port)).toMatch(/\S/);
    }
  });

  it('returns an empty datagram for ports without a payload', () => {
    const empty = udpPayloadFor(4444);
    expect(empty).toBeInstanceOf(Uint8Array);
    expect(empty).toHaveLength(0);
    expect(describeUdpPayload(4444)).toBeUndefined();
    expect(udpPayloadFor(0)).toHaveLength(0);
    expect(udpPayloadFor(65535)).toHaveLength(0);
  });

  it('returns fresh copies that callers cannot use to corrupt the table', () => {
    for (const port of UDP_PAYLOAD_PORTS) {
      const first = udpPayloadFor(port);
      const original = Uint8Array.from(first);
      expect(udpPayloadFor(port)).not.toBe(first);
      first.fill(0xee);
      expect(udpPayloadFor(port)).toEqual(original);
    }
  });

  it('rejects ports that are not integers from 0 to 65535', () => {
    for (const bad of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const call of [() => udpPayloadFor(bad), () => describeUdpPayload(bad)]) {
        expect(call).toThrow(PortscoutError);
        try {
          call();
        } catch (err) {
          expect((err as PortscoutError).code).toBe('ERR_INVALID_PORTS');
          expect((err as PortscoutError).message).toMatch(/port/);
        }
      }
    }
  });

  it('builds an NTP client request of 48 bytes with LI=0, VN=4, Mode=3', () => {
    const ntp = udpPayloadFor(123);
    expect(ntp).toHaveLength(48);
    expect(ntp[0]! >> 6).toBe(0);
    expect((ntp[0]! >> 3) & 7).toBe(4);
    expect(ntp[0]! & 7).toBe(3);
    // The transmit timestamp is non-zero (servers copy it into the reply's origin).
    expect(ntp.subarray(40, 48).some((b) => b !== 0)).toBe(true);
  });

  it('builds an SSDP M-SEARCH with the discovery headers', () => {
    const text = new TextDecoder().decode(udpPayloadFor(1900));
    expect(text.startsWith('M-SEARCH * HTTP/1.1\r\n')).toBe(true);
    expect(text).toContain('\r\nMAN: "ssdp:discover"\r\n');
    expect(text).toContain('\r\nST: ssdp:all\r\n');
    expect(text).toContain('\r\nMX: 1\r\n');
    expect(text.endsWith('\r\n\r\n')).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// pcap writer (linktype 101, raw IP) with hand-computed checksums
// ---------------------------------------------------------------------------

/** RFC 1071 one's-complement sum of 16-bit words, complemented. */
function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const SRC = [198, 18, 0, 1];
const DST = [198, 18, 0, 2];

/** An IPv4 + UDP packet around `payload`, with correct lengths and checksums. */
function ipv4UdpPacket(srcPort: number, dstPort: number, payload: Uint8Array, ipId: number): Uint8Array {
  const udpLength = 8 + payload.length;
  const udp = new Uint8Array(udpLength);
  const udpView = new DataView(udp.buffer);
  udpView.setUint16(0, srcPort);
  udpView.setUint16(2, dstPort);
  udpView.setUint16(4, udpLength);
  udp.set(payload, 8);
  const pseudo = new Uint8Array(12 + udpLength);
  pseudo.set(SRC, 0);
  pseudo.set(DST, 4);
  pseudo[9] = 17;
  pseudo[10] = udpLength >> 8;
  pseudo[11] = udpLength & 0xff;
  pseudo.set(udp, 12);
  const udpSum = internetChecksum(pseudo);
  udpView.setUint16(6, udpSum === 0 ? 0xffff : udpSum);

  const ip = new Uint8Array(20 + udpLength);
  const ipView = new DataView(ip.buffer);
  ip[0] = 0x45;
  ipView.setUint16(2, ip.length);
  ipView.setUint16(4, ipId);
  ip[8] = 64;
  ip[9] = 17;
  ip.set(SRC, 12);
  ip.set(DST, 16);
  ipView.setUint16(10, internetChecksum(ip.subarray(0, 20)));
  ip.set(udp, 20);
  return ip;
}

/** A classic pcap file (microsecond timestamps, linktype 101 = raw IP). */
function pcapFile(packets: readonly Uint8Array[]): Uint8Array {
  const total = 24 + packets.reduce((n, p) => n + 16 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 101, true);
  let offset = 24;
  packets.forEach((packet, index) => {
    view.setUint32(offset, 1_700_000_000 + index, true);
    view.setUint32(offset + 8, packet.length, true);
    view.setUint32(offset + 12, packet.length, true);
    out.set(packet, offset + 16);
    offset += 16 + packet.length;
  });
  return out;
}

// ---------------------------------------------------------------------------
// PDML reading
// ---------------------------------------------------------------------------

interface DecodedPacket {
  /** Protocol layers in order, e.g. ['geninfo', 'frame', 'raw', 'ip', 'udp', 'dns']. */
  readonly protocols: string[];
  /** Every named field with all of its `show` values, in order. */
  readonly fields: Map<string, string[]>;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
}

function parsePdml(pdml: string): DecodedPacket[] {
  const packets: DecodedPacket[] = [];
  for (const chunk of pdml.split('<packet>').slice(1)) {
    const protocols: string[] = [];
    const fields = new Map<string, string[]>();
    for (const match of chunk.matchAll(/<(proto|field) name="([^"]*)"([^>]*)>/g)) {
      const [, kind, name = '', attributes = ''] = match;
      if (kind === 'proto') protocols.push(name);
      if (name === '') continue;
      const show = /\sshow="([^"]*)"/.exec(attributes)?.[1];
      const list = fields.get(name) ?? [];
      list.push(show === undefined ? '' : unescapeXml(show));
      fields.set(name, list);
    }
    packets.push({ protocols, fields });
  }
  return packets;
}

/** Expert-info severities (epan/proto.h): warnings and errors mean a bad packet. */
const PI_WARN = 0x00600000;

interface Expectation {
  /** The dissector tshark must pick. */
  readonly protocol: string;
  /** Fields whose first `show` value must equal the given text. */
  readonly fields: Readonly<Record<string, string>>;
  /** Extra checks on the decoded packet. */
  readonly check?: (packet: DecodedPacket, payload: Uint8Array) => void;
}

function first(packet: DecodedPacket, name: string): string | undefined {
  return packet.fields.get(name)?.[0];
}

const EXPECTATIONS: ReadonlyMap<number, Expectation> = new Map<number, Expectation>([
  [
    53,
    {
      protocol: 'dns',
      fields: {
        'dns.id': '0x5053',
        'dns.flags.response': '0',
        'dns.flags.opcode': '0',
        'dns.count.queries': '1',
        'dns.count.answers': '0',
        'dns.qry.name': '<Root>',
        'dns.qry.type': '2',
        'dns.qry.class': '0x0001',
      },
    },
  ],
  [
    69,
    {
      protocol: 'tftp',
      fields: { 'tftp.opcode': '1', 'tftp.source_file': 'portscout-probe.txt', 'tftp.type': 'octet' },
    },
  ],
  [
    111,
    {
      protocol: 'rpc',
      fields: {
        'rpc.msgtyp': '0',
        'rpc.version': '2',
        'rpc.program': '100000',
        'rpc.programversion': '2',
        'rpc.procedure': '0',
        'rpc.auth.flavor': '0',
      },
      check: (packet) => expect(packet.protocols).toContain('portmap'),
    },
  ],
  [
    123,
    {
      protocol: 'ntp',
      fields: { 'ntp.flags.li': '0', 'ntp.flags.vn': '4', 'ntp.flags.mode': '3', 'ntp.stratum': '0' },
    },
  ],
  [
    137,
    {
      protocol: 'nbns',
      fields: {
        'nbns.flags.response': '0',
        'nbns.flags.opcode': '0',
        'nbns.flags.broadcast': '0',
        'nbns.count.queries': '1',
        'nbns.type': '33',
        'nbns.class': '1',
      },
      check: (packet) => expect(first(packet, 'nbns.name')).toBe(`*${'<00>'.repeat(15)}`),
    },
  ],
  [
    161,
    {
      protocol: 'snmp',
      fields: {
        'snmp.version': '1', // 1 = SNMPv2c
        'snmp.community': 'public',
        'snmp.error_status': '0',
        'snmp.error_index': '0',
        'snmp.variable_bindings': '1',
        'snmp.name': '1.3.6.1.2.1.1.1.0',
        'snmp.value.null': '',
      },
      check: (packet) => expect(packet.fields.has('snmp.get_request_element')).toBe(true),
    },
  ],
  [
    500,
    {
      protocol: 'isakmp',
      fields: {
        'isakmp.version': '0x10',
        'isakmp.exchangetype': '2',
        'isakmp.nextpayload': '1',
        'isakmp.rspi': '00:00:00:00:00:00:00:00',
        'isakmp.sa.doi': '1',
        'isakmp.prop.protoid': '1',
        'isakmp.prop.transforms': '1',
        'isakmp.trans.id': '1',
      },
      check: (packet, payload) => {
        expect(first(packet, 'isakmp.length')).toBe(String(payload.length));
        expect(packet.fields.get('isakmp.ike.attr.type')).toEqual(['1', '2', '3', '4', '11', '12']);
        expect(first(packet, 'isakmp.ike.attr.life_duration')).toBe('28800');
        expect(first(packet, 'isakmp.ispi')).not.toBe('00:00:00:00:00:00:00:00');
      },
    },
  ],
  [
    520,
    {
      protocol: 'rip',
      fields: { 'rip.command': '1', 'rip.version': '2', 'rip.family': '0', 'rip.metric': '16' },
    },
  ],
  [
    623,
    {
      protocol: 'rmcp',
      fields: { 'rmcp.version': '0x06', 'rmcp.class': '0x06', 'asf.iana': '4542', 'asf.type': '0x80', 'asf.len': '0' },
      check: (packet) => expect(packet.protocols).toContain('asf'),
    },
  ],
  [
    1900,
    {
      protocol: 'ssdp',
      fields: {
        'http.request.method': 'M-SEARCH',
        'http.request.uri': '*',
        'http.request.version': 'HTTP/1.1',
        'http.host': '239.255.255.250:1900',
      },
    },
  ],
  [
    2049,
    {
      protocol: 'rpc',
      fields: {
        'rpc.msgtyp': '0',
        'rpc.version': '2',
        'rpc.program': '100003',
        'rpc.programversion': '3',
        'rpc.procedure': '0',
      },
      check: (packet) => expect(packet.protocols).toContain('nfs'),
    },
  ],
  [
    3478,
    {
      protocol: 'stun',
      fields: { 'stun.type': '0x0001', 'stun.type.class': '0x0000', 'stun.length': '0', 'stun.cookie': '21:12:a4:42' },
    },
  ],
  [
    5060,
    {
      protocol: 'sip',
      fields: {
        'sip.Method': 'OPTIONS',
        'sip.Via.transport': 'UDP',
        'sip.Max-Forwards': '70',
        'sip.CSeq.method': 'OPTIONS',
        'sip.Content-Length': '0',
      },
      check: (packet) => expect(first(packet, 'sip.Via.branch')).toMatch(/^z9hG4bK/),
    },
  ],
  [5351, { protocol: 'nat-pmp', fields: { 'nat-pmp.version': '0', 'nat-pmp.opcode': '0' } }],
  [
    5353,
    {
      protocol: 'mdns',
      fields: {
        'dns.flags.response': '0',
        'dns.count.queries': '1',
        'dns.qry.name': '_services._dns-sd._udp.local',
        'dns.qry.type': '12',
        'dns.qry.class': '0x0001',
        'dns.qry.qu': '1',
      },
    },
  ],
  [
    5683,
    {
      protocol: 'coap',
      fields: {
        'coap.version': '1',
        'coap.type': '0',
        'coap.code': '1',
        'coap.token_len': '0',
        'coap.opt.uri_path_recon': '/.well-known/core',
      },
    },
  ],
]);

describe.skipIf(!existsSync(TSHARK))('payloads as decoded by tshark', () => {
  const decoded = new Map<number, DecodedPacket>();
  let workDir = '';

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'portscout-udp-payloads-'));
    const packets = UDP_PAYLOAD_PORTS.map((port, index) =>
      ipv4UdpPacket(40000 + index, port, udpPayloadFor(port), index + 1),
    );
    const file = join(workDir, 'payloads.pcap');
    writeFileSync(file, pcapFile(packets));
    const { stdout } = await execFileAsync(
      TSHARK,
      ['-n', '-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'pdml'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const parsed = parsePdml(stdout);
    expect(parsed).toHaveLength(UDP_PAYLOAD_PORTS.length);
    UDP_PAYLOAD_PORTS.forEach((port, index) => {
      const packet = parsed[index];
      if (packet !== undefined) decoded.set(port, packet);
    });
  });

  afterAll(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
  });

  it('has an expectation for every payload port', () => {
    expect([...EXPECTATIONS.keys()].sort((a, b) => a - b)).toEqual(UDP_PAYLOAD_PORTS);
  });

  it.each([...EXPECTATIONS.entries()])('port %i decodes cleanly with the expected fields', (port, expectation) => {
    const packet = decoded.get(port);
    expect(packet, `no decoded packet for port ${port}`).toBeDefined();
    if (packet === undefined) return;
    const payload = udpPayloadFor(port);

    // The hand-built IPv4 and UDP checksums are right (status 1 = good).
    expect(first(packet, 'ip.checksum.status')).toBe('1');
    expect(first(packet, 'udp.checksum.status')).toBe('1');
    expect(first(packet, 'udp.length')).toBe(String(8 + payload.length));

    // The right dissector, nothing malformed, no undissected trailing bytes.
    expect(packet.protocols.slice(0, 5)).toEqual(['geninfo', 'frame', 'raw', 'ip', 'udp']);
    expect(packet.protocols[5]).toBe(expectation.protocol);
    expect(packet.protocols).not.toContain('_ws.malformed');
    expect(packet.protocols).not.toContain('data');
    expect(packet.fields.has('_ws.malformed')).toBe(false);
    const severities = (packet.fields.get('_ws.expert.severity') ?? []).map(Number);
    expect(severities.filter((s) => s >= PI_WARN)).toEqual([]);

    for (const [name, value] of Object.entries(expectation.fields)) {
      expect(first(packet, name), name).toBe(value);
    }
    expectation.check?.(packet, payload);
  });
});

// ---------------------------------------------------------------------------
// Real exchanges with dnsmasq on a loopback address
// ---------------------------------------------------------------------------

/** Sends `payload` until a datagram comes back (bounded attempts), or returns undefined. */
async function exchange(
  address: string,
  port: number,
  payload: Uint8Array,
  attempts = 10,
): Promise<{ reply: Buffer; from: dgram.RemoteInfo } | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < attempts; i++) {
      const answer = new Promise<{ reply: Buffer; from: dgram.RemoteInfo } | undefined>((resolve) => {
        const timer = setTimeout(() => {
          socket.removeAllListeners('message');
          resolve(undefined);
        }, 300);
        socket.once('message', (reply, from) => {
          clearTimeout(timer);
          resolve({ reply, from });
        });
      });
      socket.send(payload, port, address);
      const result = await answer;
      if (result !== undefined) return result;
    }
    return undefined;
  } finally {
    socket.close();
  }
}

/** A free UDP port on `address`, found by binding to port 0. */
async function freeUdpPort(address: string): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(DNSMASQ === undefined)('real exchanges with dnsmasq on loopback', () => {
  // A loopback address of our own, so that the TFTP server on port 69 cannot
  // clash with anything listening on 127.0.0.1.
  const address = `127.${77 + (process.pid % 100)}.${(process.pid >> 8) % 250}.${1 + (process.pid % 250)}`;
  let dnsPort = 0;
  let server: ChildProcess | undefined;
  let root = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'portscout-dnsmasq-'));
    mkdirSync(join(root, 'tftp'));
    dnsPort = await freeUdpPort(address);
    const args = [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--listen-address=${address}`,
      '--bind-interfaces',
      `--port=${dnsPort}`,
      '--pid-file=',
      '--log-facility=-',
    ];
    if (isRoot) args.push('--user=root', '--enable-tftp', `--tftp-root=${join(root, 'tftp')}`);
    server = spawn(DNSMASQ ?? 'dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr?.resume();
  });

  afterAll(async () => {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise<void>((resolve) => server?.once('exit', () => resolve()));
      server.kill('SIGTERM');
      await exited;
    }
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('a DNS server answers the port 53 payload with the same transaction id', async () => {
    const query = udpPayloadFor(53);
    const result = await exchange(address, dnsPort, query);
    expect(result, 'dnsmasq did not answer the DNS query').toBeDefined();
    if (result === undefined) return;
    const { reply } = result;
    expect(reply.readUInt16BE(0)).toBe((query[0]! << 8) | query[1]!); // same ID
    expect(reply[2]! & 0x80).toBe(0x80); // QR: a response
    expect(reply.readUInt16BE(4)).toBe(1); // the question is echoed
    expect(reply.subarray(12, 17)).toEqual(Buffer.from(query.subarray(12, 17)));
  });

  it.skipIf(!isRoot)('a TFTP server answers the port 69 read request with an ERROR', async () => {
    const result = await exchange(address, 69, udpPayloadFor(69));
    expect(result, 'dnsmasq did not answer the TFTP read request').toBeDefined();
    if (result === undefined) return;
    const { reply } = result;
    expect(reply.readUInt16BE(0)).toBe(5); // opcode ERROR
    expect(reply.readUInt16BE(2)).toBe(1); // error code 1: file not found
    expect(reply.subarray(4).toString('latin1')).toContain('portscout-probe.txt');
  });
});

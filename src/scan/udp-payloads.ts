/**
 * Protocol-specific UDP probe payloads.
 *
 * A UDP port only answers when the datagram it receives makes sense to the
 * service behind it: an empty datagram sent to a DNS server or an SNMP agent is
 * dropped in silence, and the port would be reported `open|filtered`. The UDP
 * scanner therefore sends, to the well-known ports listed here, a small valid
 * request of the protocol that usually lives there, and an empty datagram
 * everywhere else.
 *
 * Every payload is written by portscout from the protocol's specification
 * (RFC 1035, RFC 6762, RFC 1157/3416, RFC 5905, RFC 1002, RFC 5531, UPnP Device
 * Architecture, RFC 1350, RFC 2408/2409, RFC 2453, RFC 8489, RFC 7252,
 * RFC 3261, RFC 6886, DMTF ASF 2.0). Each one is a harmless read-only request:
 * a query, a status or a discovery message, never a write and never a request
 * whose answer is much larger than the question (no amplification).
 *
 * @module
 */
import { PortscoutError } from '../errors.js';

/** One entry of the payload table: the request bytes and what they are. */
interface UdpPayloadEntry {
  /** Short human description, e.g. `'DNS query for the root NS records'`. */
  readonly description: string;
  /** The datagram body; never handed out, only copied. */
  readonly bytes: Uint8Array;
}

/** Transaction / message identifier used by the payloads that carry one ("PS"). */
const PROBE_ID = 0x5053;

/** Concatenates byte arrays and numbers (each number is one byte). */
function bytes(...parts: ReadonlyArray<Uint8Array | number | readonly number[]>): Uint8Array {
  const flat: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') flat.push(part);
    else for (const b of part) flat.push(b);
  }
  return Uint8Array.from(flat);
}

/** Big-endian 16-bit value as two bytes. */
function u16(value: number): number[] {
  return [(value >>> 8) & 0xff, value & 0xff];
}

/** Big-endian 32-bit value as four bytes. */
function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/** ASCII text as bytes (every payload string here is plain ASCII). */
function ascii(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i) & 0x7f);
  return out;
}

// ---------------------------------------------------------------------------
// DNS (RFC 1035) and multicast DNS (RFC 6762)
// ---------------------------------------------------------------------------

/** Encodes a dotted name as DNS labels ending with the root label. `''` is the root. */
function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.')) {
    if (label.length === 0) continue;
    out.push(label.length, ...ascii(label));
  }
  out.push(0);
  return out;
}

/**
 * A DNS query with one question (RFC 1035 §4.1): header with QDCOUNT=1, then
 * QNAME, QTYPE, QCLASS.
 */
function dnsQuery(id: number, flags: number, name: string, qtype: number, qclass: number): Uint8Array {
  return bytes(u16(id), u16(flags), u16(1), u16(0), u16(0), u16(0), dnsName(name), u16(qtype), u16(qclass));
}

// QTYPE 2 = NS, QCLASS 1 = IN; flags 0: standard query, no recursion desired
// (the server answers from what it holds or refers us on; it does no work for us).
const DNS_ROOT_NS = dnsQuery(PROBE_ID, 0x0000, '', 2, 1);

// RFC 6763 §9 service enumeration: PTR (12) for _services._dns-sd._udp.local,
// class IN with the unicast-response bit (RFC 6762 §5.4), ID kept as required
// for a legacy unicast query (RFC 6762 §6.7).
const MDNS_SERVICES = dnsQuery(PROBE_ID, 0x0000, '_services._dns-sd._udp.local', 12, 0x8001);

// ---------------------------------------------------------------------------
// SNMP (RFC 1157, RFC 3416) in BER (X.690)
// ---------------------------------------------------------------------------

/** BER length octets (short or long form). */
function berLength(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest & 0xff);
  return [0x80 | out.length, ...out];
}

/** One BER TLV with the given tag and content. */
function tlv(tag: number, content: readonly number[]): number[] {
  return [tag, ...berLength(content.length), ...content];
}

/** BER INTEGER (two's complement, minimal length). */
function berInteger(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    out.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest !== 0 && rest !== -1);
  const first = out[0] ?? 0;
  if (value >= 0 && first & 0x80) out.unshift(0x00);
  if (value < 0 && !(first & 0x80)) out.unshift(0xff);
  return tlv(0x02, out);
}

/** BER OBJECT IDENTIFIER from dotted text. */
function berOid(dotted: string): number[] {
  const arcs = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const content: number[] = [a * 40 + b];
  for (const arc of rest) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    content.push(...groups);
  }
  return tlv(0x06, content);
}

/**
 * SNMP GetRequest-PDU (tag 0xA0) for one OID with a NULL value.
 * `version` is 0 for SNMPv1, 1 for SNMPv2c.
 */
function snmpGet(version: number, community: string, requestId: number, oid: string): Uint8Array {
  const varBind = tlv(0x30, [...berOid(oid), 0x05, 0x00]);
  const varBindList = tlv(0x30, varBind);
  const pdu = tlv(0xa0, [...berInteger(requestId), ...berInteger(0), ...berInteger(0), ...varBindList]);
  const message = tlv(0x30, [...berInteger(version), ...tlv(0x04, ascii(community)), ...pdu]);
  return Uint8Array.from(message);
}

// SNMPv2c GetRequest for sysDescr.0 with the default community "public".
const SNMP_SYSDESCR = snmpGet(1, 'public', PROBE_ID, '1.3.6.1.2.1.1.1.0');

// ---------------------------------------------------------------------------
// NTP (RFC 5905)
// ---------------------------------------------------------------------------

// 48-byte client request: LI=0, VN=4, Mode=3 (client) -> 0x23. Every other
// field is zero except the transmit timestamp, which a server copies into the
// origin timestamp of its reply; a fixed non-zero value is used because some
// servers ignore requests whose transmit timestamp is zero.
const NTP_CLIENT = (() => {
  const packet = new Uint8Array(48);
  packet[0] = (0 << 6) | (4 << 3) | 3;
  packet.set(u32(0x50534e54), 40); // transmit timestamp seconds: "PSNT"
  packet.set(u32(0x00000001), 44); // transmit timestamp fraction
  return packet;
})();

// ---------------------------------------------------------------------------
// NetBIOS name service (RFC 1002 §4.2.17 NODE STATUS REQUEST)
// ---------------------------------------------------------------------------

/** First-level encoding of a NetBIOS name (RFC 1001 §14.1): each nibble + 'A'. */
function netbiosEncodedName(name: readonly number[]): number[] {
  const padded = [...name];
  while (padded.length < 16) padded.push(0x00);
  const out: number[] = [];
  for (const byte of padded.slice(0, 16)) out.push(0x41 + (byte >> 4), 0x41 + (byte & 0x0f));
  return out;
}

// NBSTAT (type 0x21), class IN, for the wildcard name "*" padded with NULs.
const NETBIOS_NBSTAT = bytes(
  u16(PROBE_ID),
  u16(0x0000), // opcode query, no flags
  u16(1),
  u16(0),
  u16(0),
  u16(0),
  32,
  netbiosEncodedName([0x2a]),
  0,
  u16(0x0021),
  u16(0x0001),
);

// ---------------------------------------------------------------------------
// ONC RPC (RFC 5531) NULL procedure calls
// ---------------------------------------------------------------------------

/** RPC v2 CALL of procedure 0 (NULL) with AUTH_NONE credential and verifier. */
function rpcNullCall(xid: number, program: number, version: number): Uint8Array {
  return bytes(
    u32(xid),
    u32(0), // msg_type CALL
    u32(2), // rpcvers
    u32(program),
    u32(version),
    u32(0), // proc NULL
    u32(0), // cred flavor AUTH_NONE
    u32(0), // cred length
    u32(0), // verf flavor AUTH_NONE
    u32(0), // verf length
  );
}

const RPC_PORTMAP_NULL = rpcNullCall(0x50530111, 100000, 2);
const RPC_NFS_NULL = rpcNullCall(0x50532049, 100003, 3);

// ---------------------------------------------------------------------------
// SSDP (UPnP Device Architecture 1.1 §1.3.2)
// ---------------------------------------------------------------------------

const SSDP_MSEARCH = Uint8Array.from(
  ascii(
    'M-SEARCH * HTTP/1.1\r\n' +
      'HOST: 239.255.255.250:1900\r\n' +
      'MAN: "ssdp:discover"\r\n' +
      'MX: 1\r\n' +
      'ST: ssdp:all\r\n' +
      '\r\n',
  ),
);

// ---------------------------------------------------------------------------
// TFTP (RFC 1350)
// ---------------------------------------------------------------------------

// RRQ (opcode 1) for a file that should not exist, mode "octet": a server
// answers with ERROR (file not found), which is enough to call the port open.
const TFTP_RRQ = bytes(u16(1), ascii('portscout-probe.txt'), 0, ascii('octet'), 0);

// ---------------------------------------------------------------------------
// IKEv1 / ISAKMP (RFC 2408, RFC 2409)
// ---------------------------------------------------------------------------

/** A basic (TV) SA attribute: AF bit set, 16-bit type and value. */
function isakmpAttribute(type: number, value: number): number[] {
  return [...u16(0x8000 | type), ...u16(value)];
}

const IKE_MAIN_MODE = (() => {
  const attributes = [
    ...isakmpAttribute(1, 5), // encryption: 3DES-CBC
    ...isakmpAttribute(2, 2), // hash: SHA
    ...isakmpAttribute(3, 1), // authentication: pre-shared key
    ...isakmpAttribute(4, 2), // group: MODP 1024 (Oakley group 2)
    ...isakmpAttribute(11, 1), // life type: seconds
    ...isakmpAttribute(12, 28800), // life duration: 8 hours
  ];
  // Transform payload: next 0, reserved, length, transform #1, KEY_IKE, reserved.
  const transform = [0, 0, ...u16(8 + attributes.length), 1, 1, 0, 0, ...attributes];
  // Proposal payload: next 0, reserved, length, proposal #1, PROTO_ISAKMP, SPI size 0, 1 transform.
  const proposal = [0, 0, ...u16(8 + transform.length), 1, 1, 0, 1, ...transform];
  // SA payload: next 0, reserved, length, DOI IPsec (1), situation SIT_IDENTITY_ONLY (1).
  const sa = [0, 0, ...u16(12 + proposal.length), ...u32(1), ...u32(1), ...proposal];
  const header = [
    ...ascii('portscou'), // initiator cookie (8 bytes, non-zero)
    ...u32(0),
    ...u32(0), // responder cookie: zero in the first message
    1, // next payload: SA
    0x10, // version 1.0
    2, // exchange type: Identity Protection (Main Mode)
    0, // flags
    ...u32(0), // message ID
    ...u32(28 + sa.length),
  ];
  return Uint8Array.from([...header, ...sa]);
})();

// ---------------------------------------------------------------------------
// RIP (RFC 2453 §3.9.1): request for the whole routing table
// ---------------------------------------------------------------------------

// Command 1 (request), version 2, one entry with AFI 0 and metric 16.
const RIP_REQUEST = bytes(1, 2, u16(0), u16(0), u16(0), u32(0), u32(0), u32(0), u32(16));

// ---------------------------------------------------------------------------
// STUN (RFC 8489 §5): Binding request
// ---------------------------------------------------------------------------

const STUN_BINDING = bytes(u16(0x0001), u16(0), u32(0x2112a442), ascii('portscoutstu'));

// ---------------------------------------------------------------------------
// CoAP (RFC 7252, RFC 6690): confirmable GET /.well-known/core
// ---------------------------------------------------------------------------

const COAP_WELL_KNOWN_CORE = bytes(
  0x40, // version 1, type CON (0), token length 0
  0x01, // code 0.01 GET
  u16(PROBE_ID), // message ID
  0xbb, // option delta 11 (Uri-Path), length 11
  ascii('.well-known'),
  0x04, // option delta 0 (Uri-Path again), length 4
  ascii('core'),
);

// ---------------------------------------------------------------------------
// SIP (RFC 3261 §11): OPTIONS request
// ---------------------------------------------------------------------------

// The Via sent-by is a placeholder host; `rport` (RFC 3581) asks the server to
// reply to the source address and port the request really came from.
const SIP_OPTIONS = Uint8Array.from(
  ascii(
    'OPTIONS sip:portscout.invalid SIP/2.0\r\n' +
      'Via: SIP/2.0/UDP portscout.invalid;branch=z9hG4bK-portscout;rport\r\n' +
      'Max-Forwards: 70\r\n' +
      'To: <sip:portscout.invalid>\r\n' +
      'From: <sip:probe@portscout.invalid>;tag=portscout\r\n' +
      'Call-ID: portscout-probe@portscout.invalid\r\n' +
      'CSeq: 1 OPTIONS\r\n' +
      'Accept: application/sdp\r\n' +
      'Content-Length: 0\r\n' +
      '\r\n',
  ),
);

// ---------------------------------------------------------------------------
// NAT-PMP (RFC 6886 §3.2): external address request
// ---------------------------------------------------------------------------

const NATPMP_EXTERNAL_ADDRESS = bytes(0, 0);

// ---------------------------------------------------------------------------
// RMCP / ASF (DMTF ASF 2.0 §3.2.4): Presence Ping, as answered by IPMI BMCs
// ---------------------------------------------------------------------------

const RMCP_PRESENCE_PING = bytes(
  0x06, // RMCP version 1.0
  0x00, // reserved
  0xff, // sequence number: no RMCP ACK wanted
  0x06, // class: ASF
  u32(4542), // IANA enterprise number of ASF
  0x80, // message type: Presence Ping
  0x50, // message tag
  0x00, // reserved
  0x00, // data length
);

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

const TABLE: ReadonlyMap<number, UdpPayloadEntry> = new Map<number, UdpPayloadEntry>([
  [53, { description: 'DNS query for the root NS records', bytes: DNS_ROOT_NS }],
  [69, { description: 'TFTP read request', bytes: TFTP_RRQ }],
  [111, { description: 'SunRPC portmapper NULL call', bytes: RPC_PORTMAP_NULL }],
  [123, { description: 'NTPv4 client request', bytes: NTP_CLIENT }],
  [137, { description: 'NetBIOS name service NBSTAT query', bytes: NETBIOS_NBSTAT }],
  [161, { description: 'SNMPv2c GetRequest for sysDescr.0 (community public)', bytes: SNMP_SYSDESCR }],
  [500, { description: 'IKEv1 Main Mode SA proposal', bytes: IKE_MAIN_MODE }],
  [520, { description: 'RIPv2 request for the whole routing table', bytes: RIP_REQUEST }],
  [623, { description: 'RMCP/ASF presence ping', bytes: RMCP_PRESENCE_PING }],
  [1900, { description: 'SSDP M-SEARCH discovery', bytes: SSDP_MSEARCH }],
  [2049, { description: 'NFSv3 NULL call', bytes: RPC_NFS_NULL }],
  [3478, { description: 'STUN Binding request', bytes: STUN_BINDING }],
  [5060, { description: 'SIP OPTIONS request', bytes: SIP_OPTIONS }],
  [5351, { description: 'NAT-PMP external address request', bytes: NATPMP_EXTERNAL_ADDRESS }],
  [5353, { description: 'mDNS service enumeration query', bytes: MDNS_SERVICES }],
  [5683, { description: 'CoAP GET /.well-known/core', bytes: COAP_WELL_KNOWN_CORE }],
]);

/**
 * The ports, in ascending order, that get a protocol-specific payload; every
 * other port gets an empty datagram.
 *
 * @example
 * ```ts
 * UDP_PAYLOAD_PORTS.includes(53); // true
 * UDP_PAYLOAD_PORTS.includes(9);  // false
 * ```
 */
export const UDP_PAYLOAD_PORTS: readonly number[] = Object.freeze([...TABLE.keys()].sort((a, b) => a - b));

/** Throws a `PortscoutError` (`ERR_INVALID_PORTS`) unless `port` is an integer 0-65535. */
function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PortscoutError('ERR_INVALID_PORTS', `port must be an integer from 0 to 65535, got ${String(port)}`);
  }
}

/**
 * The datagram body to send to a UDP port: a request of the protocol that
 * usually listens there, or an empty array for ports without a payload.
 *
 * Each call returns a fresh copy, so the caller may modify it freely.
 *
 * @param port - Destination UDP port, an integer from 0 to 65535.
 * @returns The payload bytes (length 0 when the port has no payload).
 * @throws {PortscoutError} `ERR_INVALID_PORTS` when `port` is not an integer from 0 to 65535.
 *
 * @example
 * ```ts
 * const dns = udpPayloadFor(53);    // a DNS query, 17 bytes
 * const none = udpPayloadFor(4444); // Uint8Array(0): send an empty datagram
 * socket.send(dns, 53, '127.0.0.1');
 * ```
 */
export function udpPayloadFor(port: number): Uint8Array {
  checkPort(port);
  const entry = TABLE.get(port);
  return entry === undefined ? new Uint8Array(0) : entry.bytes.slice();
}

/**
 * A short description of the payload sent to a UDP port, or `undefined` when
 * the port has none (an empty datagram is sent).
 *
 * @param port - Destination UDP port, an integer from 0 to 65535.
 * @throws {PortscoutError} `ERR_INVALID_PORTS` when `port` is not an integer from 0 to 65535.
 *
 * @example
 * ```ts
 * describeUdpPayload(123);  // 'NTPv4 client request'
 * describeUdpPayload(4444); // undefined
 * ```
 */
export function describeUdpPayload(port: number): string | undefined {
  checkPort(port);
  return TABLE.get(port)?.description;
}

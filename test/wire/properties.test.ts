/**
 * Property tests (fast-check): parsers never throw on arbitrary bytes, every
 * codec round-trips through the one helper, templates equal the full builders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IpProtocol,
  buildIcmpv4Message,
  buildIcmpv6Message,
  buildIpv4Packet,
  buildIpv6Packet,
  buildTcpSegment,
  buildUdpDatagram,
  createIcmpEchoTemplate,
  createTcpProbeTemplate,
  createUdpProbeTemplate,
  icmpv4MessageCodec,
  icmpv6MessageCodec,
  ipv4HeaderChecksumValid,
  ipv4PacketCodec,
  ipv6PacketCodec,
  parseIcmpv4Message,
  parseIcmpv6Message,
  parseIpv4Packet,
  readIpv4Envelope,
  parseIpv6Packet,
  parseQuotedDatagram,
  parseTcpOptions,
  parseTcpSegment,
  parseUdpDatagram,
  tcpSegmentCodec,
  toHex,
  udpDatagramCodec,
  verifyIcmpv6Checksum,
  verifyTcpChecksum,
  verifyUdpChecksum,
  type WireResult,
} from '../../src/wire/index.js';
import {
  bytes,
  icmpv4MessageInit,
  icmpv6MessageInit,
  ipv4Bytes,
  ipv4HeaderInit,
  ipv6Bytes,
  ipv6HeaderInit,
  networkBytes,
  pseudo6,
  pseudoAny,
  tcpOptions,
  tcpSegmentInit,
  u16,
  u32,
  u8,
  udpDatagramInit,
} from './support/arbitraries.js';
import { expectRoundTrip } from './support/round-trip.js';

const RUNS = { numRuns: 300 };

describe('parsers never throw on bytes from the network', () => {
  const parsers: [string, (b: Uint8Array) => WireResult<unknown>][] = [
    ['parseIpv4Packet', parseIpv4Packet],
    ['readIpv4Envelope', readIpv4Envelope],
    ['parseIpv6Packet', parseIpv6Packet],
    ['parseTcpSegment', parseTcpSegment],
    ['parseTcpOptions', (b) => parseTcpOptions(b)],
    ['parseUdpDatagram', parseUdpDatagram],
    ['parseIcmpv4Message', parseIcmpv4Message],
    ['parseIcmpv6Message', (b) => parseIcmpv6Message(b, { source: '::1', destination: '::1' })],
    ['parseQuotedDatagram', parseQuotedDatagram],
  ];
  for (const [name, parse] of parsers) {
    it(name, () => {
      fc.assert(
        fc.property(networkBytes, (input) => {
          const copy = input.slice();
          const result = parse(input);
          expect(typeof result.ok).toBe('boolean');
          if (!result.ok) {
            expect(result.error.message.length).toBeGreaterThan(0);
            expect(result.error.layer.length).toBeGreaterThan(0);
          }
          expect(toHex(input)).toBe(toHex(copy)); // parsers never modify their input
        }),
        { numRuns: 500 },
      );
    });
  }

  it('readIpv4Envelope accepts exactly what parseIpv4Packet accepts, with the same fields and errors', () => {
    fc.assert(
      fc.property(fc.oneof(networkBytes, fc.tuple(ipv4HeaderInit, bytes(64)).map(([header, payload]) => buildIpv4Packet(header, payload))), (input) => {
        const full = parseIpv4Packet(input);
        const envelope = readIpv4Envelope(input);
        if (!full.ok) {
          expect(envelope).toEqual(full);
          return;
        }
        expect(envelope.ok).toBe(true);
        if (!envelope.ok) return;
        const { header, payload } = full.value;
        expect(envelope.value).toEqual({ headerLength: header.headerLength, totalLength: header.totalLength, ttl: header.ttl, protocol: header.protocol });
        expect(toHex(input.subarray(envelope.value.headerLength, envelope.value.totalLength))).toBe(toHex(payload));
      }),
      { numRuns: 500 },
    );
  });

  it('parsers never read past the array they are given (views into a larger buffer)', () => {
    fc.assert(
      fc.property(networkBytes, fc.uint8Array({ minLength: 1, maxLength: 40 }), (input, tail) => {
        // The same bytes followed by junk in the underlying buffer must parse identically when viewed.
        const backing = new Uint8Array(input.length + tail.length);
        backing.set(input);
        backing.set(tail, input.length);
        const view = backing.subarray(0, input.length);
        for (const parse of [parseIpv4Packet, readIpv4Envelope, parseIpv6Packet, parseTcpSegment, parseUdpDatagram, parseIcmpv4Message, parseQuotedDatagram]) {
          const a = parse(input) as WireResult<unknown>;
          const b = parse(view) as WireResult<unknown>;
          expect(JSON.stringify(b, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v))).toBe(
            JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v)),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('build -> parse -> build gives the same bytes (one helper for every codec)', () => {
  it('IPv4', () => {
    fc.assert(
      fc.property(ipv4HeaderInit, bytes(64), (header, payload) => {
        const built = expectRoundTrip(ipv4PacketCodec, { header, payload });
        expect(ipv4HeaderChecksumValid(built)).toBe(true);
      }),
      RUNS,
    );
  });

  it('IPv6', () => {
    fc.assert(fc.property(ipv6HeaderInit, bytes(64), (header, payload) => void expectRoundTrip(ipv6PacketCodec, { header, payload })), RUNS);
  });

  it('TCP (with and without pseudo-header checksum)', () => {
    fc.assert(
      fc.property(tcpSegmentInit, fc.option(pseudoAny, { nil: undefined }), (segment, pseudo) => {
        const built = expectRoundTrip(tcpSegmentCodec, pseudo ? { segment, pseudo } : { segment });
        if (pseudo) expect(verifyTcpChecksum(built, pseudo.source, pseudo.destination)).toBe(true);
      }),
      RUNS,
    );
  });

  it('UDP (with and without pseudo-header checksum)', () => {
    fc.assert(
      fc.property(udpDatagramInit, fc.option(pseudoAny, { nil: undefined }), (datagram, pseudo) => {
        const built = expectRoundTrip(udpDatagramCodec, pseudo ? { datagram, pseudo } : { datagram });
        if (pseudo) {
          expect(verifyUdpChecksum(built, pseudo.source, pseudo.destination)).toBe(true);
          expect(built[6]! | built[7]!).not.toBe(0); // a computed 0 is sent as 0xffff
        }
      }),
      RUNS,
    );
  });

  it('ICMPv4', () => {
    fc.assert(
      fc.property(icmpv4MessageInit, (message) => {
        const built = expectRoundTrip(icmpv4MessageCodec, message);
        const parsed = parseIcmpv4Message(built);
        expect(parsed.ok && parsed.value.checksumValid).toBe(true);
      }),
      RUNS,
    );
  });

  it('ICMPv6', () => {
    fc.assert(
      fc.property(icmpv6MessageInit, pseudo6, (message, pseudo) => {
        const built = expectRoundTrip(icmpv6MessageCodec, { message, pseudo });
        expect(verifyIcmpv6Checksum(built, pseudo.source, pseudo.destination)).toBe(true);
      }),
      RUNS,
    );
  });

  it('TCP options parse back to the same list (EOL padding aside)', () => {
    fc.assert(
      fc.property(tcpOptions, (options) => {
        const segment = buildTcpSegment({ sourcePort: 1, destinationPort: 2, options }, undefined);
        const parsed = parseTcpSegment(segment);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const withoutEol = parsed.value.options.filter((o) => o.kind !== 'eol');
        expect(withoutEol).toEqual(options.filter((o) => o.kind !== 'eol'));
      }),
      RUNS,
    );
  });
});

describe('parse gives back the fields that were built', () => {
  it('IPv4 header fields', () => {
    fc.assert(
      fc.property(ipv4HeaderInit, bytes(32), (header, payload) => {
        const parsed = parseIpv4Packet(buildIpv4Packet(header, payload));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const { source, destination, options, ...scalars } = header;
        expect(parsed.value.header).toMatchObject(scalars);
        expect(parsed.value.header.source).toBe(typeof source === 'string' ? source : source.join('.'));
        expect(parsed.value.header.destination).toBe(typeof destination === 'string' ? destination : destination.join('.'));
        expect(toHex(parsed.value.header.options)).toBe(toHex(options ?? new Uint8Array(0)));
        expect(toHex(parsed.value.payload)).toBe(toHex(payload));
      }),
      RUNS,
    );
  });

  it('IPv6 header fields', () => {
    fc.assert(
      fc.property(ipv6HeaderInit, bytes(32), (header, payload) => {
        const parsed = parseIpv6Packet(buildIpv6Packet(header, payload));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const { source: _s, destination: _d, ...scalars } = header;
        expect(parsed.value.header).toMatchObject({ ...scalars, payloadLength: payload.length });
        expect(parsed.value.protocol).toBe(header.nextHeader);
      }),
      RUNS,
    );
  });

  it('TCP fields, all 12 flag bits', () => {
    fc.assert(
      fc.property(tcpSegmentInit, (segment) => {
        const parsed = parseTcpSegment(buildTcpSegment(segment, undefined));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const { options: _o, payload, ...scalars } = segment;
        expect(parsed.value).toMatchObject(scalars);
        expect(toHex(parsed.value.payload)).toBe(toHex(payload ?? new Uint8Array(0)));
      }),
      RUNS,
    );
  });

  it('UDP fields', () => {
    fc.assert(
      fc.property(udpDatagramInit, (datagram) => {
        const parsed = parseUdpDatagram(buildUdpDatagram(datagram, undefined));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.value).toMatchObject({ sourcePort: datagram.sourcePort, destinationPort: datagram.destinationPort, checksum: datagram.checksum });
        expect(parsed.value.length).toBe(8 + (datagram.payload?.length ?? 0));
      }),
      RUNS,
    );
  });

  it('ICMP echo fields', () => {
    fc.assert(
      fc.property(u16, u16, bytes(32), fc.boolean(), (identifier, sequence, data, v6) => {
        const init = { kind: 'echo-reply' as const, identifier, sequence, data };
        const parsed = v6 ? parseIcmpv6Message(buildIcmpv6Message(init, undefined)) : parseIcmpv4Message(buildIcmpv4Message(init));
        expect(parsed.ok && parsed.value).toMatchObject({ kind: 'echo-reply', type: v6 ? 129 : 0, identifier, sequence });
      }),
      RUNS,
    );
  });
});

describe('templates fill the same bytes as the full builders', () => {
  it('TCP probe template (IPv4 with header, IPv6 with and without header)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 6 as const),
        fc.boolean(),
        fc.record({ flags: u8, window: u16, ttl: u8, identification: u16, options: tcpOptions }),
        ipv4Bytes,
        ipv6Bytes,
        ipv4Bytes,
        ipv6Bytes,
        fc.array(fc.record({ sourcePort: u16, destinationPort: u16, sequence: u32, acknowledgment: u32 }), { minLength: 1, maxLength: 4 }),
        (family, includeIpHeader, fixed, src4, src6, dst4, dst6, probes) => {
          const source = family === 4 ? src4 : src6;
          const destination = family === 4 ? dst4 : dst6;
          const template = createTcpProbeTemplate({ family, source, includeIpHeader, ...fixed });
          for (const probe of probes) {
            const filled = template.fill(destination, probe.sourcePort, probe.destinationPort, probe.sequence, probe.acknowledgment);
            const segment = buildTcpSegment({ ...probe, flags: fixed.flags, window: fixed.window, options: fixed.options }, { source, destination });
            const expected = !includeIpHeader
              ? segment
              : family === 4
                ? buildIpv4Packet({ protocol: IpProtocol.TCP, source, destination, ttl: fixed.ttl, identification: fixed.identification }, segment)
                : buildIpv6Packet({ nextHeader: IpProtocol.TCP, source, destination, hopLimit: fixed.ttl }, segment);
            expect(toHex(filled)).toBe(toHex(expected));
            expect(template.length).toBe(expected.length);
          }
        },
      ),
      RUNS,
    );
  });

  it('UDP probe template, payloads of varying length', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 6 as const),
        fc.boolean(),
        u8,
        ipv4Bytes,
        ipv6Bytes,
        ipv4Bytes,
        ipv6Bytes,
        fc.array(fc.record({ sourcePort: u16, destinationPort: u16, payload: fc.uint8Array({ maxLength: 700 }) }), { minLength: 1, maxLength: 4 }),
        (family, includeIpHeader, ttl, src4, src6, dst4, dst6, probes) => {
          const source = family === 4 ? src4 : src6;
          const destination = family === 4 ? dst4 : dst6;
          const template = createUdpProbeTemplate({ family, source, ttl, includeIpHeader });
          for (const probe of probes) {
            const filled = template.fill(destination, probe.sourcePort, probe.destinationPort, probe.payload);
            const datagram = buildUdpDatagram(probe, { source, destination });
            const expected = !includeIpHeader
              ? datagram
              : family === 4
                ? buildIpv4Packet({ protocol: IpProtocol.UDP, source, destination, ttl }, datagram)
                : buildIpv6Packet({ nextHeader: IpProtocol.UDP, source, destination, hopLimit: ttl }, datagram);
            expect(toHex(filled)).toBe(toHex(expected));
          }
        },
      ),
      RUNS,
    );
  });

  it('ICMP echo template (ICMPv4 type 8, ICMPv6 type 128 with pseudo-header)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 6 as const),
        fc.boolean(),
        u8,
        bytes(64),
        ipv4Bytes,
        ipv6Bytes,
        ipv4Bytes,
        ipv6Bytes,
        fc.array(fc.record({ identifier: u16, sequence: u16 }), { minLength: 1, maxLength: 4 }),
        (family, includeIpHeader, ttl, data, src4, src6, dst4, dst6, probes) => {
          const source = family === 4 ? src4 : src6;
          const destination = family === 4 ? dst4 : dst6;
          const template = createIcmpEchoTemplate({ family, source, ttl, includeIpHeader, data });
          for (const probe of probes) {
            const filled = template.fill(destination, probe.identifier, probe.sequence);
            const init = { kind: 'echo-request' as const, ...probe, data };
            const message = family === 4 ? buildIcmpv4Message(init) : buildIcmpv6Message(init, { source, destination });
            const expected = !includeIpHeader
              ? message
              : family === 4
                ? buildIpv4Packet({ protocol: IpProtocol.ICMP, source, destination, ttl }, message)
                : buildIpv6Packet({ nextHeader: IpProtocol.ICMPV6, source, destination, hopLimit: ttl }, message);
            expect(toHex(filled)).toBe(toHex(expected));
          }
        },
      ),
      RUNS,
    );
  });

  it('defaults: IPv4 templates include the IP header, IPv6 templates do not', () => {
    expect(createTcpProbeTemplate({ family: 4, source: '127.0.0.1', flags: 2 }).includesIpHeader).toBe(true);
    expect(createTcpProbeTemplate({ family: 6, source: '::1', flags: 2 }).includesIpHeader).toBe(false);
    expect(createUdpProbeTemplate({ family: 6, source: '::1' }).headerLength).toBe(8);
    expect(createIcmpEchoTemplate({ family: 4, source: '127.0.0.1' }).length).toBe(28);
  });

  it('fill reuses one buffer: the caller must copy before the next fill', () => {
    const template = createTcpProbeTemplate({ family: 4, source: '127.0.0.1', flags: 2 });
    const first = template.fill(new Uint8Array([127, 0, 0, 1]), 40000, 80, 1);
    const copy = first.slice();
    const second = template.fill(new Uint8Array([127, 0, 0, 2]), 40001, 81, 2);
    expect(second.buffer).toBe(first.buffer);
    expect(toHex(first)).not.toBe(toHex(copy));
  });
});

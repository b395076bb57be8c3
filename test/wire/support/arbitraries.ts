/** fast-check arbitraries for wire-layer inits. */
import fc from 'fast-check';
import {
  formatIpv6Address,
  type Icmpv4MessageInit,
  type Icmpv6MessageInit,
  type Ipv4HeaderInit,
  type Ipv6HeaderInit,
  type TcpOption,
  type TcpSegmentInit,
  type UdpDatagramInit,
} from '../../../src/wire/index.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

export const ipv4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
export const ipv6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
export const ipv4Text = ipv4Bytes.map((b) => b.join('.'));
export const ipv6Text = ipv6Bytes.map((b) => formatIpv6Address(b));
export const ipv4Address = fc.oneof(ipv4Text, ipv4Bytes);
export const ipv6Address = fc.oneof(ipv6Text, ipv6Bytes);

export const pseudo4 = fc.record({ source: ipv4Address, destination: ipv4Address });
export const pseudo6 = fc.record({ source: ipv6Address, destination: ipv6Address });
export const pseudoAny = fc.oneof(pseudo4, pseudo6);

const KNOWN_OPTION_KINDS = new Set([0, 1, 2, 3, 4, 5, 8]);

const tcpOptionNoEol: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  u16.map<TcpOption>((value) => ({ kind: 'mss', value })),
  u8.map<TcpOption>((shift) => ({ kind: 'window-scale', shift })),
  fc.constant<TcpOption>({ kind: 'sack-permitted' }),
  fc.array(fc.record({ left: u32, right: u32 }), { maxLength: 3 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
  fc.record({ value: u32, echo: u32 }).map<TcpOption>(({ value, echo }) => ({ kind: 'timestamps', value, echo })),
  fc
    .record({ type: u8.filter((t) => !KNOWN_OPTION_KINDS.has(t)), data: bytes(8) })
    .map<TcpOption>(({ type, data }) => ({ kind: 'unknown', type, data })),
);

function encodedLength(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) {
    n +=
      o.kind === 'eol' || o.kind === 'nop'
        ? 1
        : o.kind === 'mss'
          ? 4
          : o.kind === 'window-scale'
            ? 3
            : o.kind === 'sack-permitted'
              ? 2
              : o.kind === 'sack'
                ? 2 + 8 * o.blocks.length
                : o.kind === 'timestamps'
                  ? 10
                  : 2 + o.data.length;
  }
  return n;
}

/** Option lists that fit in 40 bytes; EOL only at the end (parsing stops there). */
export const tcpOptions: fc.Arbitrary<TcpOption[]> = fc
  .tuple(fc.array(tcpOptionNoEol, { maxLength: 6 }), fc.boolean())
  .map(([options, eol]) => (eol ? [...options, { kind: 'eol' } as TcpOption] : options))
  .filter((options) => encodedLength(options) <= 40);

export const tcpSegmentInit: fc.Arbitrary<TcpSegmentInit> = fc.record({
  sourcePort: u16,
  destinationPort: u16,
  sequence: u32,
  acknowledgment: u32,
  flags: fc.integer({ min: 0, max: 0xfff }),
  window: u16,
  urgentPointer: u16,
  checksum: u16,
  options: tcpOptions,
  payload: bytes(64),
});

export const udpDatagramInit: fc.Arbitrary<UdpDatagramInit> = fc.record({
  sourcePort: u16,
  destinationPort: u16,
  checksum: u16,
  payload: bytes(64),
});

export const ipv4HeaderInit: fc.Arbitrary<Ipv4HeaderInit> = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  identification: u16,
  reservedFlag: fc.boolean(),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: u8,
  protocol: u8,
  source: ipv4Address,
  destination: ipv4Address,
  options: fc.integer({ min: 0, max: 10 }).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
});

const IPV6_EXTENSION_TYPES = new Set([0, 43, 44, 51, 60]);

export const ipv6HeaderInit: fc.Arbitrary<Ipv6HeaderInit> = fc.record({
  trafficClass: u8,
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  nextHeader: u8.filter((n) => !IPV6_EXTENSION_TYPES.has(n)),
  hopLimit: u8,
  source: ipv6Address,
  destination: ipv6Address,
});

export const icmpv4MessageInit: fc.Arbitrary<Icmpv4MessageInit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const),
    identifier: u16,
    sequence: u16,
    code: u8,
    data: bytes(64),
  }),
  fc.record({ kind: fc.constant('destination-unreachable' as const), code: u8, quoted: bytes(64), nextHopMtu: u16 }),
  fc.record({ kind: fc.constant('time-exceeded' as const), code: u8, quoted: bytes(64) }),
  fc.record({ kind: fc.constant('other' as const), type: u8.filter((t) => ![0, 3, 8, 11].includes(t)), code: u8, rest: bytes(32) }),
);

export const icmpv6MessageInit: fc.Arbitrary<Icmpv6MessageInit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('echo-request' as const, 'echo-reply' as const),
    identifier: u16,
    sequence: u16,
    code: u8,
    data: bytes(64),
  }),
  fc.record({ kind: fc.constant('destination-unreachable' as const), code: u8, quoted: bytes(64) }),
  fc.record({ kind: fc.constant('packet-too-big' as const), code: u8, mtu: u32, quoted: bytes(64) }),
  fc.record({ kind: fc.constant('time-exceeded' as const), code: u8, quoted: bytes(64) }),
  fc.record({ kind: fc.constant('other' as const), type: u8.filter((t) => ![1, 2, 3, 128, 129].includes(t)), code: u8, rest: bytes(32) }),
);

/** Arbitrary bytes biased towards plausible headers (IPv4 / IPv6 first bytes). */
export const networkBytes = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.tuple(fc.constantFrom(0x45, 0x46, 0x4f, 0x40, 0x60, 0x61), fc.uint8Array({ maxLength: 120 })).map(([first, rest]) => {
    const out = new Uint8Array(rest.length + 1);
    out[0] = first;
    out.set(rest, 1);
    return out;
  }),
);

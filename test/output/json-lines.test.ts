/**
 * JSON Lines: one complete JSON document per line, written as events arrive,
 * with the sink's back-pressure and failures honoured; and the reader that
 * turns lines (split anywhere) back into the same events.
 */
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PortscoutError, parseJsonLines, toJsonLine, writeJsonLines, JSON_LINES_EVENT_TYPES, type JsonLinesEvent } from '../../src/index.js';

/** One event of every type, with the optional fields that have awkward values (base64, `|` in a state, a multi-line fingerprint). */
const EVENTS: readonly JsonLinesEvent[] = [
  {
    type: 'start',
    technique: 'udp',
    protocols: ['udp'],
    ports: { tcp: '', udp: '53,161' },
    hosts: 1,
    pairs: 2,
    discovery: false,
    order: 'random',
    seed: 'demo',
    shard: { index: 0, count: 1 },
    fingerprint: 'abc',
    resumedFrom: { v: 1, fingerprint: 'abc', position: 1, skip: [[3, 5]] },
    timing: { initialRttTimeoutMs: 1000, maxRetries: 10 },
    startedAt: 1_796_000_000_000,
  },
  { type: 'host', family: 6, address: '::1', hostname: 'localhost', status: 'up', reason: 'echo-reply', rttMs: 0.2, method: 'icmp-echo', reverseName: 'localhost' },
  { type: 'port', family: 4, address: '127.0.0.1', protocol: 'udp', port: 53, state: 'open', reason: 'udp-response', ttl: 64, rttMs: 0.3, method: 'udp', data: Buffer.from('pong\n\u2028').toString('base64') },
  { type: 'port', family: 4, address: '127.0.0.1', protocol: 'udp', port: 161, state: 'open|filtered', reason: 'no-response', method: 'udp' },
  { type: 'warning', code: 'UNRESOLVED_HOST', message: 'Could not resolve "nowhere.test"\r\n(ENOTFOUND)', target: 'nowhere.test' },
  { type: 'progress', phase: 'ports', done: 1, total: 2, fraction: 0.5, sent: 3, rate: 12.5, found: 1, etaMs: 40, cursor: { v: 1, fingerprint: 'abc', position: 1 } },
  {
    type: 'service',
    address: '127.0.0.1',
    family: 4,
    protocol: 'tcp',
    port: 8080,
    name: 'http',
    product: 'nginx \u2029 "quoted"',
    cpe: ['cpe:/a:igor_sysoev:nginx'],
    method: 'probed',
    confidence: 10,
    soft: false,
    probe: 'GetRequest',
    rule: { source: 'portscout:default-probes', line: 47 },
    fingerprint: 'SF-Port8080-TCP:V=portscout\nSF:r(GetRequest,5F,"HTTP/1\\.1");',
  },
  {
    type: 'os',
    family: 4,
    address: '127.0.0.1',
    ports: { open: 22, closed: 1, closedUdp: 40125 },
    fingerprint: 'SCAN(V=portscout%E=4)\nIE(R=Y%DFI=N%T=40%CD=S)',
    tests: [{ name: 'IE', values: [['R', 'Y'], ['DFI', 'N'], ['T', '40'], ['CD', 'S']] }],
    matches: [{ name: 'Linux 5.3 - 5.4', accuracy: 96, score: 0.9636, line: 81234, classes: [{ vendor: 'Linux', family: 'Linux', generation: '5.X', deviceType: 'general purpose', cpe: ['cpe:/o:linux:linux_kernel:5'] }] }],
    perfect: false,
    distance: 1,
    hint: { family: 'Linux', confidence: 0.88, evidence: [{ source: 'ttl', detail: 'initial TTL 64 (observed 64)', families: ['Linux', 'BSD/macOS'], weight: 1 }] },
    reasons: [],
    probesSent: 22,
    dropped: 0,
    elapsedMs: 912.5,
  },
  {
    type: 'done',
    stats: { sent: 3, received: 2, retransmitted: 0, invalid: 0, malformed: 0, duplicates: 0, sendErrors: 0, kernelDrops: 0, durationMs: 12.5, hostsUp: 1, portsReported: 2 },
    cursor: { v: 1, fingerprint: 'abc', position: 2 },
  },
];

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((resolve) => setImmediate(resolve));
    yield item;
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof PortscoutError ? error.code : `not a PortscoutError: ${String(error)}`;
  }
  return undefined;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('did not reject');
}

describe('toJsonLine', () => {
  it('writes every event type as one complete JSON document on one line, equal to the event', () => {
    expect(new Set(EVENTS.map((e) => e.type))).toEqual(new Set(JSON_LINES_EVENT_TYPES));
    for (const event of EVENTS) {
      const line = toJsonLine(event);
      expect(line.endsWith('\n'), event.type).toBe(true);
      const body = line.slice(0, -1);
      expect(body, event.type).not.toMatch(/[\n\r\u2028\u2029]/);
      expect(JSON.parse(body), event.type).toEqual(event);
    }
  });

  it('keeps field names and order as the event has them', () => {
    const port = EVENTS[2]!;
    expect(Object.keys(JSON.parse(toJsonLine(port)))).toEqual(Object.keys(port));
    expect(toJsonLine({ type: 'warning', code: 'NO_ROUTE', message: 'x' })).toBe('{"type":"warning","code":"NO_ROUTE","message":"x"}\n');
  });

  it('handles values events should not hold: bigint, undefined, bytes, non-finite numbers', () => {
    const odd = {
      type: 'done',
      small: 42n,
      huge: 2n ** 70n,
      negative: -7n,
      missing: undefined,
      bytes: new Uint8Array([0, 1, 2, 255]),
      buffer: Buffer.from('pong'),
      view: new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
      infinite: Number.POSITIVE_INFINITY,
      nan: Number.NaN,
      list: [1n, undefined, new Uint8Array([1])],
    } as unknown as JsonLinesEvent;
    expect(JSON.parse(toJsonLine(odd))).toEqual({
      type: 'done',
      small: 42,
      huge: (2n ** 70n).toString(),
      negative: -7,
      bytes: 'AAEC/w==',
      buffer: Buffer.from('pong').toString('base64'),
      view: Buffer.from([8, 7]).toString('base64'),
      list: [1, null, 'AQ=='],
    });
  });

  it('refuses what is not an event, with ERR_INVALID_EVENT', () => {
    for (const value of [null, undefined, 'port', 42, [], {}, { type: 3 }]) {
      expect(codeOf(() => toJsonLine(value as unknown as JsonLinesEvent)), String(value)).toBe('ERR_INVALID_EVENT');
    }
  });
});

describe('writeJsonLines', () => {
  it('writes each line as soon as its event arrives, and resolves with the count', async () => {
    const chunks: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* scan(): AsyncGenerator<JsonLinesEvent> {
      yield EVENTS[0]!;
      yield EVENTS[2]!;
      await gate;
      yield EVENTS.at(-1)!;
    }
    const written = writeJsonLines(scan(), (chunk) => chunks.push(chunk));
    for (let i = 0; i < 20 && chunks.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.map((c) => JSON.parse(c).type)).toEqual(['start', 'port']);
    release();
    expect(await written).toBe(3);
    expect(chunks.map((c) => JSON.parse(c).type)).toEqual(['start', 'port', 'done']);
  });

  it('awaits a promise a function sink returns before the next line', async () => {
    const log: string[] = [];
    let busy = false;
    const sink = async (chunk: string): Promise<void> => {
      expect(busy).toBe(false);
      busy = true;
      await new Promise((resolve) => setTimeout(resolve, 2));
      log.push(JSON.parse(chunk).type as string);
      busy = false;
    };
    expect(await writeJsonLines(EVENTS, sink)).toBe(EVENTS.length);
    expect(log).toEqual(EVENTS.map((e) => e.type));
  });

  it("respects a Writable's back-pressure: events are read no faster than the stream drains", async () => {
    const many: JsonLinesEvent[] = Array.from({ length: 200 }, (_, i) => ({ ...(EVENTS[3] as Extract<JsonLinesEvent, { type: 'port' }>), port: i + 1 }));
    const received: string[] = [];
    let pulled = 0;
    let maxAhead = 0;
    const stream = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk.toString());
        setTimeout(callback, 0);
      },
    });
    async function* source(): AsyncGenerator<JsonLinesEvent> {
      for (const event of many) {
        pulled += 1;
        maxAhead = Math.max(maxAhead, pulled - received.length);
        yield event;
      }
    }
    expect(await writeJsonLines(source(), stream)).toBe(200);
    expect(received.length).toBe(200);
    expect(received.map((line) => JSON.parse(line).port)).toEqual(many.map((e) => (e as { port: number }).port));
    // One line is larger than the high-water mark: at most a line or two is ever queued in the stream.
    expect(maxAhead).toBeLessThanOrEqual(3);
    expect(stream.writableEnded).toBe(false);
  });

  it('writes only the asked types, and ends the stream when asked to', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    expect(await writeJsonLines(slowly(EVENTS), stream, { types: ['port', 'service'], end: true })).toBe(3);
    expect(chunks.map((c) => JSON.parse(c).type)).toEqual(['port', 'port', 'service']);
    expect(stream.writableFinished).toBe(true);
  });

  it("a failing source rejects with its error after complete lines, and still ends the stream when asked to", async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const boom = new Error('aborted');
    async function* scan(): AsyncGenerator<JsonLinesEvent> {
      yield EVENTS[0]!;
      yield EVENTS[2]!;
      throw boom;
    }
    expect(await rejection(writeJsonLines(scan(), stream, { end: true }))).toBe(boom);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.map((c) => JSON.parse(c).type)).toEqual(['start', 'port']);
    expect(stream.writableEnded).toBe(true);
  });

  it("a failing sink rejects with the sink's error and closes the events (the scan stops)", async () => {
    let closed = false;
    let pulled = 0;
    async function* scan(): AsyncGenerator<JsonLinesEvent> {
      try {
        for (;;) {
          pulled += 1;
          yield EVENTS[3]!;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      } finally {
        closed = true;
      }
    }
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes += 1;
        callback(writes === 3 ? epipe : null);
      },
    });
    const error = await rejection(writeJsonLines(scan(), stream));
    expect(error).toBe(epipe);
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(10);

    const functionError = new Error('sink full');
    closed = false;
    const sinkFailure = await rejection(
      writeJsonLines(scan(), () => {
        throw functionError;
      }),
    );
    expect(sinkFailure).toBe(functionError);
    expect(closed).toBe(true);
  });

  it('a sink ended before the events end gives ERR_OUTPUT_CLOSED', async () => {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    });
    stream.end();
    const error = await rejection(writeJsonLines(slowly(EVENTS), stream));
    expect(error).toBeInstanceOf(PortscoutError);
    expect((error as PortscoutError).code).toBe('ERR_OUTPUT_CLOSED');
  });

  it('checks its arguments at the call, synchronously', () => {
    const sink = (): void => undefined;
    expect(codeOf(() => writeJsonLines(42 as never, sink))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => writeJsonLines('{"type":"port"}' as never, sink))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => writeJsonLines(EVENTS, {} as never))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => writeJsonLines(EVENTS, sink, { types: 'port' as never }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => writeJsonLines(EVENTS, sink, { end: 'yes' as never }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => writeJsonLines(EVENTS, sink, null as never))).toBe('ERR_INVALID_OPTION');
  });
});

describe('parseJsonLines', () => {
  const text = EVENTS.map(toJsonLine).join('');

  it('reads back the events written, from text, from a Readable, and from a sync iterable', async () => {
    expect(await collect(parseJsonLines(text))).toEqual(EVENTS);
    expect(await collect(parseJsonLines(Readable.from([Buffer.from(text)])))).toEqual(EVENTS);
    expect(await collect(parseJsonLines(text.split('\n').map((line, i, all) => (i < all.length - 1 ? `${line}\n` : line))))).toEqual(EVENTS);
  });

  it('reads lines split anywhere, UTF-8 characters included', async () => {
    const bytes = Buffer.from(text);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, i) => new Uint8Array(bytes.subarray(points[i], end)));
        expect(await collect(parseJsonLines(chunks))).toEqual(EVENTS);
      }),
      { numRuns: 200 },
    );
  });

  it('skips blank lines, drops the \\r of CRLF, and reads a last line with no newline', async () => {
    const lines = EVENTS.map((e) => toJsonLine(e).slice(0, -1));
    const crlf = `\n${lines.join('\r\n\r\n')}`;
    expect(await collect(parseJsonLines(crlf))).toEqual(EVENTS);
  });

  it('refuses a line that is not an event of a known type, naming the line', async () => {
    const cases: [string, RegExp][] = [
      [`${toJsonLine(EVENTS[0]!)}{"type":"port",\n`, /line 2 is not JSON/],
      [`${toJsonLine(EVENTS[0]!)}[1,2]\n`, /line 2 is not an event/],
      ['{"port":1}\n', /line 1 is not an event/],
      ['{"type":"traceroute","hops":3}\n', /line 1 has the unknown event type "traceroute"/],
      [`${toJsonLine(EVENTS[0]!)}{"type":"po`, /line 2 \(the last line, with no newline: a write cut short\?\) is not JSON/],
    ];
    for (const [input, message] of cases) {
      const error = await rejection(collect(parseJsonLines(input)));
      expect(error, input).toBeInstanceOf(PortscoutError);
      expect((error as PortscoutError).code).toBe('ERR_INVALID_EVENT');
      expect((error as Error).message).toMatch(message);
    }
    const notUtf8 = await rejection(collect(parseJsonLines([new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])])));
    expect((notUtf8 as PortscoutError).code).toBe('ERR_INVALID_EVENT');
    const tooLong = await rejection(collect(parseJsonLines(`${'x'.repeat(100)}`, { maxLineLength: 50 })));
    expect((tooLong as Error).message).toMatch(/line 1 is longer than 50 characters/);
  });

  it('can skip unknown types and a last line cut short', async () => {
    const input = `{"type":"traceroute","hops":3}\n${text}{"type":"port","fam`;
    expect(await collect(parseJsonLines(input, { unknownTypes: 'skip', ignoreIncompleteLastLine: true }))).toEqual(EVENTS);
  });

  it('checks its arguments at the call, synchronously', () => {
    expect(codeOf(() => parseJsonLines(42 as never))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => parseJsonLines(text, { unknownTypes: 'keep' as never }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => parseJsonLines(text, { ignoreIncompleteLastLine: 1 as never }))).toBe('ERR_INVALID_OPTION');
    expect(codeOf(() => parseJsonLines(text, { maxLineLength: 0 }))).toBe('ERR_INVALID_OPTION');
  });
});

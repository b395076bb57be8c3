/**
 * portscout's native raw I/O addon and its channel, on loopback (127.0.0.1 and
 * ::1 only): real echo requests out, real replies in, the IPv6 hop limit, and
 * every misuse of the addon and of the channel as a coded error, never a crash.
 *
 * Needs root and the built addon (npm install builds it); under CI=1 a
 * missing addon fails the test instead of skipping it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forceRawIo, nativeRawIo, type NativeRawIo } from '../../src/transport/native-raw-io.js';
import { openNativeChannel, MAX_QUEUED_BYTES } from '../../src/transport/native-channel.js';
import type { RawChannelHandlers } from '../../src/transport/raw-channel.js';
import { buildIcmpv4Message, buildIcmpv6Message, buildIpv4Packet, parseIcmpv4Message, parseIcmpv6Message, readIpv4Envelope } from '../../src/wire/index.js';

const isRoot = process.getuid?.() === 0;
const addon = ((): NativeRawIo | undefined => {
  try {
    return nativeRawIo();
  } catch {
    return undefined;
  }
})();
const mustRun = process.env.CI === '1' || process.env.CI === 'true';
const skip = !isRoot || (!addon && !mustRun);

interface Received {
  bytes: Uint8Array;
  source: string;
  hopLimit: number | undefined;
}

function collector(): { handlers: RawChannelHandlers; got: Received[]; truncated: () => number; errors: unknown[] } {
  const got: Received[] = [];
  const errors: unknown[] = [];
  let truncated = 0;
  return {
    got,
    errors,
    truncated: () => truncated,
    handlers: {
      onDatagram: (buffer, offset, length, source, hopLimit) => got.push({ bytes: buffer.slice(offset, offset + length), source, hopLimit }),
      onTruncated: () => truncated++,
      onError: (error) => errors.push(error),
    },
  };
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

const ECHO_ID = 0x5e11;

describe.skipIf(skip)('native raw I/O addon (loopback)', () => {
  it('is built and chosen by default; PORTSCOUT_RAW_IO=raw-socket turns it off', () => {
    expect(addon, 'the addon is built (npm install runs node-gyp)').toBeDefined();
    forceRawIo('raw-socket');
    try {
      expect(nativeRawIo()).toBeUndefined();
    } finally {
      forceRawIo(undefined);
    }
    expect(nativeRawIo()).toBe(addon);
  });

  it('sends a batch of IPv4 echo requests to 127.0.0.1 and reads every reply, with its TTL', async () => {
    const { handlers, got, errors } = collector();
    const channel = openNativeChannel(addon!, 4, 'icmp', 1 << 20, handlers);
    try {
      channel.setReading(true);
      const done: (Error | null)[] = [];
      for (let sequence = 0; sequence < 100; sequence++) {
        const echo = buildIcmpv4Message({ kind: 'echo-request', identifier: ECHO_ID, sequence, data: new Uint8Array(8) });
        channel.send(buildIpv4Packet({ source: '127.0.0.1', destination: '127.0.0.1', protocol: 1, ttl: 64 }, echo), '127.0.0.1', (error) => done.push(error));
      }
      await until(() => got.filter((r) => replyOf(r)?.kind === 'echo-reply').length >= 100);
      expect(done).toHaveLength(100);
      expect(done.every((error) => error === null)).toBe(true);
      const replies = got.filter((r) => replyOf(r)?.kind === 'echo-reply');
      expect(new Set(replies.map((r) => (replyOf(r) as { sequence: number }).sequence)).size).toBe(100);
      expect(replies.every((r) => r.source === '127.0.0.1')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      channel.close();
    }
  });

  it('reads the hop limit of IPv6 replies from ::1 (raw IPv6 sockets give no header)', async () => {
    const { handlers, got } = collector();
    const channel = openNativeChannel(addon!, 6, 'icmp', 1 << 20, handlers);
    try {
      channel.setReading(true);
      const echo = buildIcmpv6Message({ kind: 'echo-request', identifier: ECHO_ID, sequence: 7, data: new Uint8Array(4) }, { source: '::1', destination: '::1' });
      channel.send(echo, '::1', () => {});
      await until(() => got.some((r) => parseIcmpv6Message(r.bytes).ok && (parseIcmpv6Message(r.bytes) as { value: { kind: string } }).value.kind === 'echo-reply'));
      const reply = got.find((r) => (parseIcmpv6Message(r.bytes) as { ok: boolean; value?: { kind: string } }).value?.kind === 'echo-reply')!;
      expect(reply.source).toBe('::1');
      // The kernel's reply leaves with the loopback's hop limit, and arrives with it (no router between).
      expect(reply.hopLimit).toBe(Number(readFileSync('/proc/sys/net/ipv6/conf/lo/hop_limit', 'utf8').trim()));
    } finally {
      channel.close();
    }
  });

  it("rejects a packet too large, an address of the other family, and any send after close, each with its code", () => {
    const channel = openNativeChannel(addon!, 4, 'icmp', 0, collector().handlers);
    expect(codeOf(() => channel.send(new Uint8Array(70_000), '127.0.0.1', () => {}))).toBe('ERR_PACKET_TOO_LARGE');
    expect(codeOf(() => channel.send(new Uint8Array(40), '::1', () => {}))).toBe('ERR_FAMILY_MISMATCH');
    expect(codeOf(() => channel.send(new Uint8Array(40), 'localhost', () => {}))).toBe('ERR_INVALID_TARGET');
    channel.close();
    channel.close();
    expect(codeOf(() => channel.send(new Uint8Array(40), '127.0.0.1', () => {}))).toBe('ERR_RAW_SOCKET_CLOSED');
    const v6 = openNativeChannel(addon!, 6, 'icmp', 0, collector().handlers);
    expect(codeOf(() => v6.send(new Uint8Array(8), '127.0.0.1', () => {}))).toBe('ERR_FAMILY_MISMATCH');
    v6.close();
  });

  it('holds packets while the kernel has no room, fails with ERR_SEND_QUEUE_FULL past its bound, and fails the rest on close', async () => {
    // The kernel's refusal is simulated: the addon reports EAGAIN for every batch.
    let attempts = 0;
    const full = withSendBatch((_h, _p, _l, _a, _f, _c, done) => setImmediate(() => done((attempts++, -11))), () => (attempts++, -11));
    const channel = openNativeChannel(full, 4, 'icmp', 0, collector().handlers);
    const packet = new Uint8Array(60_000);
    packet[0] = 0x45;
    const results: (string | null)[] = [];
    const sends = Math.ceil(MAX_QUEUED_BYTES / packet.length) + 5;
    for (let i = 0; i < sends; i++) channel.send(packet, '127.0.0.1', (error) => results.push(error ? ((error as { code?: string }).code ?? 'no code') : null));
    await until(() => attempts >= 3);
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((code) => code === 'ERR_SEND_QUEUE_FULL')).toBe(true);
    const refused = results.length;
    channel.close();
    expect(results.length).toBe(sends);
    expect(results.slice(refused).every((code) => code === 'ERR_RAW_SOCKET_CLOSED')).toBe(true);
  });

  it('closing with batches still on the thread pool settles every packet once and leaks nothing', async () => {
    const { handlers } = collector();
    const channel = openNativeChannel(addon!, 4, 'icmp', 0, handlers);
    const settled = new Map<number, number>();
    for (let sequence = 0; sequence < 500; sequence++) {
      const echo = buildIcmpv4Message({ kind: 'echo-request', identifier: ECHO_ID, sequence, data: new Uint8Array(8) });
      channel.send(buildIpv4Packet({ source: '127.0.0.1', destination: '127.0.0.1', protocol: 1, ttl: 64 }, echo), '127.0.0.1', () =>
        settled.set(sequence, (settled.get(sequence) ?? 0) + 1),
      );
    }
    await Promise.resolve();
    channel.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled.size).toBe(500);
    expect([...settled.values()].every((times) => times === 1)).toBe(true);
  });

  it('a packet the kernel refuses fails alone; the rest of its batch leaves', async () => {
    let calls = 0;
    const partial = withSendBatch((handle, packets, layout, addresses, families, count, done) =>
      calls++ === 0 ? setImmediate(() => done(-1)) : addon!.sendBatchAsync(handle, packets, layout, addresses, families, count, done),
    );
    const channel = openNativeChannel(partial, 4, 'icmp', 0, collector().handlers);
    try {
      const results: (string | null)[] = [];
      for (let sequence = 0; sequence < 3; sequence++) {
        const echo = buildIcmpv4Message({ kind: 'echo-request', identifier: ECHO_ID, sequence, data: new Uint8Array(0) });
        channel.send(buildIpv4Packet({ source: '127.0.0.1', destination: '127.0.0.1', protocol: 1, ttl: 64 }, echo), '127.0.0.1', (error) =>
          results.push(error ? ((error as { code?: string; cause?: { code?: string } }).code ?? '') + '/' + ((error as { cause?: { code?: string } }).cause?.code ?? '') : null),
        );
      }
      await until(() => results.length === 3);
      expect(results).toEqual(['ERR_SEND_FAILED/EPERM', null, null]);
    } finally {
      channel.close();
    }
  });

  it("answers every misuse of the addon's own functions with a coded error", () => {
    const io = addon!;
    const handle = io.open(4, 1, 0, true);
    const packets = new Uint8Array(64);
    const layout = new Int32Array([0, 28]);
    const addresses = new Uint8Array(16);
    addresses.set([127, 0, 0, 1]);
    const families = new Uint8Array([4]);
    expect(codeOf(() => io.open(5 as 4, 1, 0, true))).toBe('ERR_NATIVE_BAD_ARGUMENT');
    expect(codeOf(() => io.open(4, 300, 0, true))).toBe('ERR_NATIVE_BAD_ARGUMENT');
    expect(codeOf(() => io.sendBatch({} as never, packets, layout, addresses, families, 1))).toBe('ERR_NATIVE_BAD_HANDLE');
    expect(codeOf(() => io.sendBatch(handle, 'x' as never, layout, addresses, families, 1))).toBe('ERR_NATIVE_BAD_ARGUMENT');
    expect(codeOf(() => io.sendBatch(handle, packets, new Int32Array([0, 70_000]), addresses, families, 1))).toBe('ERR_NATIVE_PACKET_TOO_LARGE');
    expect(codeOf(() => io.sendBatch(handle, packets, new Int32Array([60, 28]), addresses, families, 1))).toBe('ERR_NATIVE_BAD_ARGUMENT');
    expect(codeOf(() => io.sendBatch(handle, packets, layout, addresses, new Uint8Array([6]), 1))).toBe('ERR_NATIVE_FAMILY_MISMATCH');
    expect(codeOf(() => io.sendBatch(handle, packets, layout, addresses, families, 2))).toBe('ERR_NATIVE_BATCH_TOO_LARGE');
    expect(codeOf(() => io.sendBatch(handle, packets, layout, addresses, families, 1000))).toBe('ERR_NATIVE_BATCH_TOO_LARGE');
    expect(codeOf(() => io.recvBatch(handle, new Uint8Array(100), 4096, 1, new Int32Array(3), new Uint8Array(16)))).toBe('ERR_NATIVE_BATCH_TOO_LARGE');
    expect(codeOf(() => io.watch(handle, 42 as never))).toBe('ERR_NATIVE_BAD_ARGUMENT');
    io.close(handle);
    io.close(handle);
    expect(codeOf(() => io.sendBatch(handle, packets, layout, addresses, families, 1))).toBe('ERR_NATIVE_CLOSED');
    expect(codeOf(() => io.recvBatch(handle, new Uint8Array(4096), 4096, 1, new Int32Array(3), new Uint8Array(16)))).toBe('ERR_NATIVE_CLOSED');
    expect(codeOf(() => io.watch(handle, () => {}))).toBe('ERR_NATIVE_CLOSED');
  });
});

/** The addon with its sendBatchAsync replaced (its exports are read-only and not enumerable: no spread); a backlog behind the batches out is sent with sendBatch. */
function withSendBatch(sendBatchAsync: NativeRawIo['sendBatchAsync'], sendBatch: NativeRawIo['sendBatch'] = addon!.sendBatch): NativeRawIo {
  return Object.create(addon!, { sendBatchAsync: { value: sendBatchAsync }, sendBatch: { value: sendBatch } }) as NativeRawIo;
}

function replyOf(received: Received): { kind: string; sequence?: number } | undefined {
  const ip = readIpv4Envelope(received.bytes);
  if (!ip.ok) return undefined;
  const icmp = parseIcmpv4Message(received.bytes.subarray(ip.value.headerLength, ip.value.totalLength));
  if (!icmp.ok || icmp.value.kind !== 'echo-reply') return icmp.ok ? { kind: icmp.value.kind } : undefined;
  return { kind: 'echo-reply', sequence: icmp.value.sequence };
}

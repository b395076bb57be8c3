/**
 * The packet listener's sweep socket (issue 14): IPv4 packets of modules
 * that send a handful per host leave on one send-only raw socket with a
 * large send buffer, shared by the leases that use it; everything else, and
 * everything when that socket cannot open, leaves on the protocol sockets.
 * The raw channels are fakes here (no root, no packets).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RawChannel, RawChannelHandlers, RawChannelProtocol } from '../../src/transport/raw-channel.js';

interface FakeChannel {
  family: 4 | 6;
  protocol: RawChannelProtocol;
  sendBufferBytes: number;
  sent: string[];
  closed: boolean;
  handlers: RawChannelHandlers;
}

const opened: FakeChannel[] = [];
let refuseSweep = false;

vi.mock('../../src/transport/open-raw-channel.js', () => ({
  openRawChannel: (family: 4 | 6, protocol: RawChannelProtocol, _receive: number, handlers: RawChannelHandlers, sendBufferBytes = 0): RawChannel => {
    if (protocol === 'ip' && refuseSweep) throw Object.assign(new Error('socket: Too many open files'), { code: 'EMFILE' });
    const fake: FakeChannel = { family, protocol, sendBufferBytes, sent: [], closed: false, handlers };
    opened.push(fake);
    return {
      kind: 'native',
      send: (_packet, address, done) => {
        fake.sent.push(address);
        done(null);
      },
      setReading: () => {},
      close: () => {
        fake.closed = true;
      },
    };
  },
}));
vi.mock('../../src/transport/privileges.js', async (original) => ({ ...(await original<object>()), checkRawPermission: () => {} }));

const { acquireListener, SWEEP_SEND_BUFFER_BYTES } = await import('../../src/transport/packet-listener.js');

const PACKET = new Uint8Array(28);
const noop = (): void => {};
const lease = () => acquireListener(['icmp', 'tcp'], { onReply: noop });
const sweeps = (): FakeChannel[] => opened.filter((c) => c.protocol === 'ip');
const channel = (family: 4 | 6, protocol: RawChannelProtocol): FakeChannel | undefined => opened.find((c) => c.family === family && c.protocol === protocol && !c.closed);

beforeEach(() => {
  opened.length = 0;
  refuseSweep = false;
});
afterEach(() => {
  // Every test releases its leases: nothing may stay open.
  expect(opened.filter((c) => !c.closed)).toEqual([]);
});

describe('the sweep socket', () => {
  it('carries the few-per-host IPv4 packets, with its large send buffer; the rest leave on the protocol sockets', () => {
    const a = lease();
    a.send(4, 'icmp', PACKET, '198.18.1.7', noop, true);
    a.send(4, 'tcp', PACKET, '198.18.1.8', noop, true);
    a.send(4, 'tcp', PACKET, '198.18.1.9', noop);
    a.send(6, 'icmp', PACKET, 'fd00::7', noop, true);
    expect(sweeps()).toHaveLength(1);
    expect(sweeps()[0]).toMatchObject({ family: 4, sendBufferBytes: SWEEP_SEND_BUFFER_BYTES, sent: ['198.18.1.7', '198.18.1.8'] });
    expect(channel(4, 'tcp')?.sent).toEqual(['198.18.1.9']);
    expect(channel(4, 'tcp')?.sendBufferBytes).toBe(0);
    expect(channel(4, 'icmp')?.sent).toEqual([]);
    // IPv6 packets go without their header, on their protocol's socket.
    expect(channel(6, 'icmp')?.sent).toEqual(['fd00::7']);
    a.release();
  });

  it('is shared by the leases that use it and closes with the last of them', () => {
    const a = lease();
    const b = lease();
    a.send(4, 'icmp', PACKET, '198.18.1.7', noop, true);
    b.send(4, 'icmp', PACKET, '198.18.1.8', noop, true);
    expect(sweeps()).toHaveLength(1);
    a.release();
    expect(sweeps()[0]?.closed).toBe(false);
    b.release();
    expect(sweeps()[0]?.closed).toBe(true);
    // A later lease opens a new one.
    const c = lease();
    c.send(4, 'icmp', PACKET, '198.18.1.9', noop, true);
    expect(sweeps()).toHaveLength(2);
    c.release();
  });

  it('when it cannot open, the packets leave on the protocol sockets, and the next lease tries again', () => {
    refuseSweep = true;
    const a = lease();
    a.send(4, 'icmp', PACKET, '198.18.1.7', noop, true);
    expect(sweeps()).toHaveLength(0);
    expect(channel(4, 'icmp')?.sent).toEqual(['198.18.1.7']);
    a.release();
    refuseSweep = false;
    const b = lease();
    b.send(4, 'icmp', PACKET, '198.18.1.8', noop, true);
    expect(sweeps()[0]?.sent).toEqual(['198.18.1.8']);
    b.release();
  });

  it('after a receive error closed it, its leases fall back to the protocol sockets, and releasing them leaves a new one open', () => {
    const a = lease();
    a.send(4, 'icmp', PACKET, '198.18.1.7', noop, true);
    const first = sweeps()[0] as FakeChannel;
    first.handlers.onError(new Error('gone'));
    first.closed = true;
    a.send(4, 'icmp', PACKET, '198.18.1.8', noop, true);
    expect(channel(4, 'icmp')?.sent).toEqual(['198.18.1.8']);
    const b = lease();
    b.send(4, 'icmp', PACKET, '198.18.1.9', noop, true);
    const second = sweeps()[1] as FakeChannel;
    expect(second.sent).toEqual(['198.18.1.9']);
    a.release();
    expect(second.closed).toBe(false);
    b.release();
    expect(second.closed).toBe(true);
  });
});

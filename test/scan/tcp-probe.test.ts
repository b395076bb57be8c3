/** Stateless validation of TCP replies: the acknowledgment a reply must carry for each kind of probe. */
import { probeKey } from '../../src/scan/probe-module.js';
import { describe, expect, it } from 'vitest';
import { replyMatchesProbe } from '../../src/scan/tcp-probe.js';
import { TcpFlags } from '../../src/wire/index.js';

const S = 0xfffffffe; // wraps: S + 2 is 0
const { SYN, ACK, RST, FIN, PSH, URG } = TcpFlags;

describe('replyMatchesProbe', () => {
  const cases: [string, number, { flags: number; sequence?: number; acknowledgment: number }, boolean][] = [
    ['SYN probe, SYN-ACK acking S+1', SYN, { flags: SYN | ACK, acknowledgment: S + 1 }, true],
    ['SYN probe, SYN-ACK acking S', SYN, { flags: SYN | ACK, acknowledgment: S }, false],
    ['SYN probe, SYN-ACK acking S+2', SYN, { flags: SYN | ACK, acknowledgment: 0 }, false],
    ['SYN probe, RST/ACK acking S+1', SYN, { flags: RST | ACK, acknowledgment: S + 1 }, true],
    ['SYN probe, RST/ACK acking S', SYN, { flags: RST | ACK, acknowledgment: S }, true],
    ['SYN probe, RST/ACK acking S+2', SYN, { flags: RST | ACK, acknowledgment: 0 }, false],
    ['SYN probe, RST without ACK', SYN, { flags: RST, acknowledgment: S + 1 }, false],
    ['FIN probe, RST/ACK acking S+1', FIN, { flags: RST | ACK, acknowledgment: S + 1 }, true],
    ['Xmas probe, RST/ACK acking S+1', FIN | PSH | URG, { flags: RST | ACK, acknowledgment: S + 1 }, true],
    ['NULL probe, RST/ACK acking S', 0, { flags: RST | ACK, acknowledgment: S }, true],
    ['NULL probe, RST/ACK acking S+1', 0, { flags: RST | ACK, acknowledgment: S + 1 }, false],
    ['SYN+FIN probe, SYN-ACK acking S+2', SYN | FIN, { flags: SYN | ACK, acknowledgment: 0 }, true],
    ['ACK probe, RST with sequence S', ACK, { flags: RST, sequence: S, acknowledgment: 0 }, true],
    ['ACK probe, RST with sequence S+1', ACK, { flags: RST, sequence: S + 1, acknowledgment: 0 }, false],
    ['Maimon probe (FIN/ACK), RST with sequence S', FIN | ACK, { flags: RST, sequence: S, acknowledgment: 0 }, true],
    ['FIN probe, RST with sequence S but no ACK', FIN, { flags: RST, sequence: S, acknowledgment: 0 }, false],
  ];
  for (const [name, probe, reply, valid] of cases) {
    it(`${name}: ${valid ? 'valid' : 'invalid'}`, () => {
      expect(replyMatchesProbe({ sequence: 12345, ...reply }, S, probe)).toBe(valid);
    });
  }
});

describe('probeKey', () => {
  it('is the same for an IPv4 address given as text or as bytes, and differs by address and port', () => {
    const bytes = new Uint8Array([198, 18, 1, 10]);
    expect(probeKey(4, '198.18.1.10', 80)).toBe(probeKey(4, '198.18.1.10', 80, bytes));
    expect(probeKey(4, '198.18.1.10', 80)).not.toBe(probeKey(4, '198.18.1.10', 81));
    expect(probeKey(4, '198.18.1.10', 80)).not.toBe(probeKey(4, '198.18.1.11', 80));
    // The highest address and port stay exact (below 2^53).
    expect(probeKey(4, '255.255.255.255', 65535)).toBe(0xffffffff * 65536 + 65535);
    expect(probeKey(4, '0.0.0.1', 0)).not.toBe(probeKey(4, '0.0.0.0', 65535));
  });

  it('is address/port text for IPv6', () => {
    expect(probeKey(6, 'fd00::10', 443)).toBe('fd00::10/443');
  });
});

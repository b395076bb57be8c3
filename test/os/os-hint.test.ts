/**
 * Passive OS hints: one test per rule of the table in src/os/os-hint.ts,
 * and how the rules combine into a family and a confidence.
 */
import { describe, expect, it } from 'vitest';
import { notePassiveEvidence, osEvidence, passiveOsHint, type PassiveOsEvidence } from '../../src/os/index.js';

const families = (seen: PassiveOsEvidence): string[][] => osEvidence(seen).map((e) => [e.source, ...e.families]);

describe('each rule', () => {
  it('reads the initial TTL: 64 Linux or BSD/macOS, 128 Windows, 255 network device, 32 nothing', () => {
    expect(families({ ttl: 57 })).toEqual([['ttl', 'Linux', 'BSD/macOS']]);
    expect(families({ ttl: 121 })).toEqual([['ttl', 'Windows']]);
    expect(families({ ttl: 250 })).toEqual([['ttl', 'network device']]);
    expect(families({ ttl: 30 })).toEqual([]);
  });

  it("reads the SYN/ACK's option order", () => {
    expect(families({ tcpOptions: 'M5B4ST11NW7' })).toEqual([['tcp-options', 'Linux']]); // measured in the lab (Linux 6.1)
    expect(families({ tcpOptions: 'M5B4NW8NNS' })).toEqual([['tcp-options', 'Windows']]);
    expect(families({ tcpOptions: 'M5B4NW6ST11' })).toEqual([['tcp-options', 'BSD/macOS']]); // FreeBSD
    expect(families({ tcpOptions: 'M5B4NW6NNT11SLL' })).toEqual([['tcp-options', 'BSD/macOS']]); // macOS
    expect(families({ tcpOptions: 'M5B4' })).toEqual([]);
  });

  it("reads the SYN/ACK's window", () => {
    expect(families({ window: 65160 })).toEqual([['window', 'Linux']]);
    expect(families({ window: 8192 })).toEqual([['window', 'Windows']]);
    expect(families({ window: 65535 })).toEqual([]);
  });

  it("reads service detection's OS types, OS CPEs and device types", () => {
    expect(families({ services: [{ osType: 'Linux' }] })).toEqual([['service', 'Linux']]);
    expect(families({ services: [{ osType: 'Windows' }] })).toEqual([['service', 'Windows']]);
    expect(families({ services: [{ osType: 'FreeBSD' }, { osType: 'iOS' }] })).toEqual([['service', 'BSD/macOS'], ['service', 'BSD/macOS']]);
    expect(families({ services: [{ osType: 'IOS' }] })).toEqual([['service', 'network device']]); // Cisco's
    expect(families({ services: [{ cpe: ['cpe:/a:openbsd:openssh:9.2p1', 'cpe:/o:linux:linux_kernel'] }] })).toEqual([['service', 'Linux']]);
    expect(families({ services: [{ cpe: ['cpe:/o:microsoft:windows'] }] })).toEqual([['service', 'Windows']]);
    expect(families({ services: [{ deviceType: 'broadband router' }] })).toEqual([['service', 'network device']]);
  });
});

describe('the hint', () => {
  it('names the family with the most weight; a lone TTL is a weak hint', () => {
    // 64 (1, split between two) + options (2) + window (1): Linux 3.5 of 4.
    const linux = passiveOsHint({ ttl: 64, window: 65160, tcpOptions: 'M5B4ST11NW7' });
    expect(linux).toMatchObject({ family: 'Linux', confidence: 0.88 });
    // TTL 128 alone: Windows, weight 2 of the 4 that make a full hint.
    expect(passiveOsHint({ ttl: 128 })).toMatchObject({ family: 'Windows', confidence: 0.5 });
    // Evidence that disagrees lowers the confidence: Windows TTL (2) against Linux options (2) and an OS type (3).
    expect(passiveOsHint({ ttl: 128, tcpOptions: 'M5B4ST11NW7', services: [{ osType: 'Linux' }] })).toMatchObject({ family: 'Linux', confidence: 0.71 });
    expect(passiveOsHint({})).toBeUndefined();
  });

  it("gathers a stream's evidence per host: the first TTL, the first SYN/ACK's window and options, the services", () => {
    const seen = new Map<string, PassiveOsEvidence>();
    const port = { type: 'port', family: 4, address: '127.0.0.1', protocol: 'tcp', state: 'open', reason: 'syn-ack', method: 'syn' } as const;
    notePassiveEvidence(seen, { ...port, port: 22, ttl: 64, window: 65483, tcpOptions: 'M5B4ST11NW7' });
    notePassiveEvidence(seen, { ...port, port: 80, ttl: 63, window: 1 });
    notePassiveEvidence(seen, { type: 'service', address: '127.0.0.1', osType: 'Linux', cpe: ['cpe:/o:linux:linux_kernel'] });
    expect(seen.get('127.0.0.1')).toEqual({ ttl: 64, window: 65483, tcpOptions: 'M5B4ST11NW7', services: [{ osType: 'Linux', cpe: ['cpe:/o:linux:linux_kernel'] }] });
    expect(passiveOsHint(seen.get('127.0.0.1')!)?.family).toBe('Linux');
  });
});

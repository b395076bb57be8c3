/**
 * Every option is checked before the first packet, with messages that say
 * what was given and how to fix it; unknown names are errors (plain
 * JavaScript has no type check), with a "did you mean" hint.
 */
import { describe, expect, it } from 'vitest';
import { discoverHosts, scan, tcpConnectScan, tcpFlagScan, tcpSynScan, udpScan, type ScanEvent } from '../../src/index.js';
import { closestName, describeValue } from '../../src/scan/option-check.js';
import { runScan } from '../../src/scan/scan.js';
import { createFakeNetwork } from './fake-network.js';

const LOOPBACK = '127.0.0.1';

/** The first read of a scan made from loose (untyped) options, as plain JavaScript would pass them. */
const scanners: Record<string, (options: Record<string, unknown>) => AsyncGenerator<ScanEvent>> = {
  discoverHosts: (options) => discoverHosts({ targets: LOOPBACK, ...options } as never),
  tcpConnectScan: (options) => tcpConnectScan({ targets: LOOPBACK, ports: '1', ...options } as never),
  tcpSynScan: (options) => tcpSynScan({ targets: LOOPBACK, ports: '1', ...options } as never),
  tcpFlagScan: (options) => tcpFlagScan({ targets: LOOPBACK, ports: '1', scan: 'fin', ...options } as never),
  udpScan: (options) => udpScan({ targets: LOOPBACK, ports: '53', ...options } as never),
  'scan(syn)': (options) => scan({ technique: 'syn', targets: LOOPBACK, ports: '1', ...options } as never),
};

async function firstRead(name: string, options: Record<string, unknown>): Promise<unknown> {
  let run: AsyncGenerator<ScanEvent>;
  try {
    run = scanners[name]!(options);
  } catch (error) {
    // Checked at the call: the scan never existed.
    return error;
  }
  try {
    await run.next();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await run.return(undefined);
  }
}

describe('option checks, on every scanner', () => {
  for (const name of Object.keys(scanners)) {
    it(`${name}: rate 0, rate '100' and rate Infinity are errors that say what was given`, async () => {
      expect(await firstRead(name, { rate: 0 })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: 'Option rate must be a finite number > 0 (packets per second); got 0.' });
      expect(await firstRead(name, { rate: '100' })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('got the string "100"') });
      expect(await firstRead(name, { rate: Number.POSITIVE_INFINITY })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('got Infinity') });
      expect(await firstRead(name, { maxInFlight: 1.5 })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('whole number') });
    });

    it(`${name}: an unknown option name is an error with a "did you mean" hint`, async () => {
      const wrong = name === 'discoverHosts' ? { probe: { icmpEcho: true } } : { port: '8000' };
      const error = await firstRead(name, wrong);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect((error as Error).message).toContain(name === 'discoverHosts' ? 'did you mean "probes"?' : 'did you mean "ports"?');
    });
  }

  it("an option of another technique is unknown to this one (ports on discovery, flags on a SYN scan)", async () => {
    expect(await firstRead('discoverHosts', { ports: '80' })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('Unknown option "ports"') });
    expect(await firstRead('tcpSynScan', { flags: 2 })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('Unknown option "flags"') });
  });

  it('ttl and workers are whole numbers in range', async () => {
    expect(await firstRead('tcpSynScan', { ttl: 300 })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('Option ttl must be a whole number >= 1 and <= 255') });
    expect(await firstRead('tcpConnectScan', { workers: -1 })).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('Option workers') });
  });

  it('an unknown technique names the known ones', () => {
    expect(() => scan({ technique: 'stealth', targets: LOOPBACK } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('use one of connect, syn, ack') }));
  });

  it('the faults of the misuse issue throw at the call, before the scan exists and before any packet', () => {
    const network = createFakeNetwork({ ports: {} });
    const bad: [string, Record<string, unknown>, string][] = [
      ['UDP ports to a SYN scan', { technique: 'syn', targets: '198.18.1.10', ports: 'U:53' }, 'ERR_INVALID_PORTS'],
      ['ttl 300', { technique: 'syn', targets: '198.18.1.10', ports: '22', ttl: 300 }, 'ERR_INVALID_OPTION'],
      ['shard index 2 of 2', { technique: 'syn', targets: '198.18.1.10', ports: '22', shard: { index: 2, count: 2 } }, 'ERR_INVALID_OPTION'],
      ['a target that is not one', { technique: 'syn', targets: ['198.18.1.10', '198.18.1.300/33'], ports: '22' }, 'ERR_INVALID_TARGET'],
      ['a bad order', { technique: 'udp', targets: '198.18.1.10', ports: '53', order: 'shuffled' }, 'ERR_INVALID_OPTION'],
      ['a blocklist line that is not a block', { technique: 'syn', targets: '198.18.1.10', ports: '22', blocklist: '10.0.0.0/33' }, 'ERR_INVALID_OPTION'],
      ['no options at all', undefined as never, 'ERR_INVALID_OPTION'],
    ];
    for (const [what, request, code] of bad) {
      expect(() => runScan(request as never, { acquire: network.acquire, sources: { cached: () => '198.18.0.1', resolve: async () => '198.18.0.1' } }), what).toThrow(expect.objectContaining({ code }));
    }
    expect(network.acquired).toBe(0);
    expect(network.sent).toHaveLength(0);
  });
});

describe('message helpers', () => {
  it('describeValue names strings as strings', () => {
    expect(describeValue('100')).toBe('the string "100"');
    expect(describeValue(100)).toBe('100');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('an array');
  });

  it('closestName finds likely typos and nothing for unrelated names', () => {
    expect(closestName('port', ['ports', 'targets'])).toBe('ports');
    expect(closestName('Targets', ['ports', 'targets'])).toBe('targets');
    expect(closestName('maxinflight', ['maxInFlight', 'rate'])).toBe('maxInFlight');
    expect(closestName('banana', ['ports', 'targets'])).toBeUndefined();
  });
});

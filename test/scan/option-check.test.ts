/**
 * Every option is checked before the first packet, with messages that say
 * what was given and how to fix it; unknown names are errors (plain
 * JavaScript has no type check), with a "did you mean" hint.
 */
import { describe, expect, it } from 'vitest';
import { discoverHosts, scan, tcpConnectScan, tcpFlagScan, tcpSynScan, udpScan, type ScanEvent } from '../../src/index.js';
import { closestName, describeValue } from '../../src/scan/option-check.js';

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
  const run = scanners[name]!(options);
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

  it('an unknown technique names the known ones', async () => {
    const run = scan({ technique: 'stealth', targets: LOOPBACK } as never);
    await expect(run.next()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('use one of connect, syn, ack') });
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

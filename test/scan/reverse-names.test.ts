/**
 * Reverse names on a scan's events, without a network: the lookups go to
 * loopback DNS "servers" that refuse (a closed port) or never answer (a socket
 * that reads and drops); only the DNS query for the PTR name is sent, to
 * loopback. Host addresses are not in /etc/hosts (which c-ares reads first).
 * The lab test checks real names against dnsmasq.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../src/index.js';
import { withReverseNames } from '../../src/scan/reverse-names.js';

const up = (address: string): ScanEvent => ({ type: 'host', family: 4, address, status: 'up', reason: 'echo-reply', method: 'icmp-echo' });
const port = (n: number): ScanEvent => ({ type: 'port', family: 4, address: '127.0.0.1', protocol: 'tcp', port: n, state: 'open', reason: 'syn-ack', method: 'syn' });

async function* scripted(events: ScanEvent[], finished: { value: boolean }): AsyncGenerator<ScanEvent, void, undefined> {
  try {
    for (const event of events) yield event;
  } finally {
    finished.value = true;
  }
}

describe('withReverseNames', () => {
  let silent: Socket;
  let silentPort = 0;
  let closedPort = 0;
  beforeAll(async () => {
    silent = createSocket('udp4');
    silent.on('message', () => {}); // reads and never answers
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    silentPort = silent.address().port;
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    closedPort = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(() => silent.close());

  it('without reverseDns hands back the scan itself', () => {
    const scan = scripted([up('127.0.0.1')], { value: false });
    expect(withReverseNames(scan, { targets: '127.0.0.1' })).toBe(scan);
  });

  it('keeps every event and their order when lookups fail, and ends the scan', async () => {
    const finished = { value: false };
    const events = [up('198.18.0.98'), port(22), up('198.18.0.99'), port(80), { type: 'done', stats: {} } as unknown as ScanEvent];
    const named = withReverseNames(scripted(events, finished), {
      targets: '127.0.0.1',
      reverseDns: true,
      dnsServers: [`127.0.0.1:${closedPort}`],
      reverseDnsTimeout: 3000,
    });
    const out: ScanEvent[] = [];
    for await (const event of named) out.push(event);
    expect(out).toEqual(events);
    expect(finished.value).toBe(true);
  });

  it('an abort ends the wait for a lookup at once', async () => {
    const controller = new AbortController();
    const finished = { value: false };
    const named = withReverseNames(scripted([up('198.18.0.99'), port(22)], finished), {
      targets: '127.0.0.1',
      reverseDns: true,
      dnsServers: [`127.0.0.1:${silentPort}`],
      reverseDnsTimeout: 10_000,
      signal: controller.signal,
    });
    const started = performance.now();
    setTimeout(() => controller.abort(), 200);
    await expect(named.next()).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(finished.value).toBe(true);
  });
});

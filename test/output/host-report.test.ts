/**
 * The fold (reportHosts): when a host is written, nmap's extraports rules,
 * names and reasons; the writers: streaming, aborts, sinks and their
 * back-pressure and failures, option checks.
 */
process.env.TZ = 'UTC';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createGrepableFormatter,
  createNmapXmlFormatter,
  createNormalFormatter,
  foldExtraPorts,
  parseNmapServices,
  portRanges,
  PORTSCOUT_VERSION,
  reportHosts,
  writeGrepableOutput,
  writeNmapXml,
  writeNormalOutput,
  writeReports,
  xmlEscape,
  type DetectionEvent,
  type PortReport,
  type ReportEvent,
} from '../../src/index.js';
import { twoSignificant } from '../../src/output/host-report.js';
import { childrenNamed, parseXml } from '../lab/xml.js';
import { labLikeSynScan } from './fixtures/hand-written.js';
import { GOLDEN_SERVICES } from './fixtures/services.js';
import { collector, fakeClock, HERE, readFixture, streamOf } from './support.js';

const START = { type: 'start', technique: 'syn', protocols: ['tcp'], ports: { tcp: '1-3', udp: '' }, hosts: 2, pairs: 6, discovery: false, order: 'sequential', shard: { index: 0, count: 1 }, fingerprint: 'f', timing: {}, startedAt: 1_796_000_000_000 } as const;
const DONE = { type: 'done', stats: { sent: 6, received: 6, retransmitted: 0, invalid: 0, malformed: 0, duplicates: 0, sendErrors: 0, kernelDrops: 0, durationMs: 10, hostsUp: 0, portsReported: 6 } } as const;
const p = (address: string, port: number, state: 'open' | 'closed' = 'closed'): DetectionEvent => ({ type: 'port', family: 4, address, protocol: 'tcp', port, state, reason: state === 'open' ? 'syn-ack' : 'reset', ttl: 64, method: 'syn' });
const svc = (address: string, port: number): DetectionEvent => ({ type: 'service', family: 4, address, protocol: 'tcp', port, name: 'ssh', cpe: [], method: 'probed', confidence: 10, soft: false });

/** A stream the test feeds by hand, one event at a time, and that says when its consumer asked for the next. */
function manualStream(): { stream: AsyncIterable<DetectionEvent> & { returned: boolean }; push(event: DetectionEvent): Promise<void>; fail(error: unknown): Promise<void>; end(): Promise<void> } {
  const queue: ({ event: DetectionEvent } | { error: unknown } | { end: true })[] = [];
  let waiting: (() => void) | undefined;
  let asked: (() => void) | undefined;
  const state = { returned: false };
  const stream = {
    get returned() {
      return state.returned;
    },
    [Symbol.asyncIterator]() {
      return {
        async next(): Promise<IteratorResult<DetectionEvent>> {
          asked?.();
          while (queue.length === 0) await new Promise<void>((r) => (waiting = r));
          const item = queue.shift()!;
          if ('error' in item) throw item.error;
          if ('end' in item) return { done: true, value: undefined };
          return { done: false, value: item.event };
        },
        async return(): Promise<IteratorResult<DetectionEvent>> {
          state.returned = true;
          asked?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
  // Resolves once the consumer has processed the item and asked for the next one.
  const feed = (item: (typeof queue)[number]): Promise<void> =>
    new Promise<void>((resolve) => {
      asked = () => {
        asked = undefined;
        resolve();
      };
      queue.push(item);
      waiting?.();
    });
  return { stream, push: (event) => feed({ event }), fail: (error) => feed({ error }), end: () => feed({ end: true }) };
}

describe('when a host is written', () => {
  it('as soon as its last port is in (before done, before other hosts finish): the pipeline sees it while the scan runs', async () => {
    const feed = manualStream();
    const out = collector();
    const written = writeNmapXml(feed.stream, out.sink);
    await feed.push(START);
    await feed.push(p('10.0.0.1', 1));
    await feed.push(p('10.0.0.2', 1));
    await feed.push(p('10.0.0.1', 3, 'open'));
    expect(out.text()).not.toContain('<host');
    await feed.push(p('10.0.0.1', 2));
    expect(out.text()).toContain('<address addr="10.0.0.1"');
    expect(out.text()).not.toContain('10.0.0.2');
    await feed.push(p('10.0.0.2', 2));
    await feed.push(p('10.0.0.2', 3));
    expect(out.text()).toContain('<address addr="10.0.0.2"');
    expect(out.text()).not.toContain('<runstats>');
    await feed.push(DONE);
    await written;
    expect(out.text()).toMatch(/<\/nmaprun>\n$/);
    expect(feed.stream.returned).toBe(true); // nothing is read after done
  });

  it('with serviceDetection, only when each open port has its service event', async () => {
    const feed = manualStream();
    const out = collector();
    const written = writeNormalOutput(feed.stream, out.sink, { serviceDetection: true });
    await feed.push(START);
    for (const n of [1, 2]) await feed.push(p('10.0.0.1', n, 'open'));
    await feed.push(p('10.0.0.1', 3));
    await feed.push(svc('10.0.0.1', 2));
    expect(out.text()).not.toContain('Nmap scan report');
    await feed.push(svc('10.0.0.1', 1));
    expect(out.text()).toContain('Nmap scan report for 10.0.0.1');
    await feed.push(DONE);
    await written;
  });

  it('a host found down is written at once (with verbose); a discovery-only scan writes each host at its host event', async () => {
    const feed = manualStream();
    const out = collector();
    const written = writeGrepableOutput(feed.stream, out.sink, { verbose: 1 });
    await feed.push({ ...START, technique: 'ping', protocols: ['host'], ports: { tcp: '', udp: '' }, discovery: true });
    await feed.push({ type: 'host', family: 4, address: '10.0.0.1', status: 'up', reason: 'echo-reply', ttl: 64, method: 'icmp-echo' });
    expect(out.text()).toContain('Host: 10.0.0.1 ()\tStatus: Up\n');
    await feed.push({ type: 'host', family: 4, address: '10.0.0.2', status: 'down', reason: 'no-response', method: 'icmp-echo' });
    expect(out.text()).toContain('Host: 10.0.0.2 ()\tStatus: Down\n');
    await feed.push(DONE);
    await written;
    expect(out.text()).toMatch(/-- 2 IP addresses \(1 host up\) scanned in/);
  });

  it('a sharded or resumed scan (fewer ports than the lists) and a timed-out host are written at the end', async () => {
    const events = [START, p('10.0.0.1', 1), p('10.0.0.1', 2), p('10.0.0.2', 1), { type: 'warning', code: 'HOST_TIMEOUT', message: 'x', target: '10.0.0.2' }, DONE] as DetectionEvent[];
    const seen: string[] = [];
    for await (const event of reportHosts(streamOf(events))) seen.push(event.type === 'host' ? `host ${event.host.address} complete=${event.host.complete} timedOut=${event.host.timedOut}` : event.type);
    expect(seen).toEqual(['begin', 'warning', 'host 10.0.0.1 complete=false timedOut=false', 'host 10.0.0.2 complete=false timedOut=true', 'end']);
  });

  it('without serviceDetection, services that come after their host was written: every host still written, later hosts wait for theirs, the report ends in ERR_INVALID_OPTION', async () => {
    const events = [START, p('10.0.0.1', 1, 'open'), p('10.0.0.1', 2), p('10.0.0.1', 3), p('10.0.0.2', 1, 'open'), p('10.0.0.2', 2), p('10.0.0.2', 3), svc('10.0.0.1', 1), svc('10.0.0.2', 1), DONE] as DetectionEvent[];
    const out = collector();
    await expect(writeNmapXml(streamOf(events), out.sink)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('pass serviceDetection: true') });
    const root = parseXml(out.text());
    const hosts = childrenNamed(root, 'host');
    expect(hosts).toHaveLength(2);
    // 10.0.0.2 was complete before the first late service event arrived: its service is lost too.
    expect(out.text()).toMatch(/exit="error" errormsg="2 service events \(10\.0\.0\.1 tcp\/1, 10\.0\.0\.2 tcp\/1\) came after their hosts were written/);
    // A later host waits for its services once the fold has seen one come late.
    const later = [START, p('10.0.0.1', 1, 'open'), p('10.0.0.1', 2), p('10.0.0.1', 3), svc('10.0.0.1', 1), p('10.0.0.2', 1, 'open'), p('10.0.0.2', 2), p('10.0.0.2', 3), svc('10.0.0.2', 1), DONE] as DetectionEvent[];
    const out2 = collector();
    await expect(writeNmapXml(streamOf(later), out2.sink)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(out2.text()).toMatch(/<address addr="10\.0\.0\.2"[^]*<service name="ssh" method="probed"/);
  });

  it('leaving the report early lets go of the scan (its return() is called)', async () => {
    const feed = manualStream();
    void feed.push(START);
    void feed.push(p('10.0.0.1', 1));
    for await (const event of reportHosts(feed.stream)) if (event.type === 'begin') break;
    expect(feed.stream.returned).toBe(true);
  });
});

describe('aborted and unfinished scans still give complete documents', () => {
  const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

  it('the stream throws (AbortError): hosts gathered so far, runstats exit="error", well-formed; then the promise rejects with the same error', async () => {
    const out = collector();
    const error = await writeNmapXml(streamOf([START, p('10.0.0.1', 1, 'open')], { throwAfter: 2, error: abort }), out.sink).catch((e: unknown) => e);
    expect(error).toBe(abort);
    const root = parseXml(out.text());
    expect(childrenNamed(root, 'host')).toHaveLength(1);
    expect(childrenNamed(childrenNamed(root, 'runstats')[0]!, 'finished')[0]?.attrs).toMatchObject({ exit: 'error', errormsg: 'scan aborted' });
  });

  it('the stream throws before its first event (a permission error): a document all the same', async () => {
    const out = collector();
    const failure = new Error('no raw socket permission');
    await expect(writeNmapXml(streamOf([], { throwAfter: 0, error: failure }), out.sink, { clock: () => 1_796_000_000_000 })).rejects.toBe(failure);
    const root = parseXml(out.text());
    expect(root.attrs).toMatchObject({ scanner: 'portscout', start: '1796000000' });
    expect(out.text()).toContain('errormsg="no raw socket permission"');
  });

  it('the stream ends without done: exit="error", and the promise resolves', async () => {
    const out = collector();
    const summary = await writeNmapXml(streamOf([START, p('10.0.0.1', 1)]), out.sink);
    expect(summary).toMatchObject({ exit: 'error', errorMessage: 'the event stream ended without a done event', hosts: { up: 1, down: 0, total: 1 } });
    expect(() => parseXml(out.text())).not.toThrow();
  });

  it('normal and grepable outputs end with a "stopped" line', async () => {
    for (const write of [writeNormalOutput, writeGrepableOutput]) {
      const out = collector();
      await expect(write(streamOf([START, p('10.0.0.1', 1)], { throwAfter: 2, error: abort }), out.sink)).rejects.toBe(abort);
      expect(out.text()).toMatch(/\n# portscout stopped at .* \(scan aborted\) -- 1 IP address \(1 host up\) scanned in [\d.]+ seconds\n$/);
    }
  });
});

describe("nmap's extraports rules (PortList::isIgnoredState)", () => {
  const ports = (state: PortReport['state'], n: number, from = 1, protocol: 'tcp' | 'udp' = 'tcp', reason = 'reset'): PortReport[] =>
    Array.from({ length: n }, (_, i) => ({ protocol, port: from + i, state, reason, reasonTtl: 0 }));
  const summary = (list: PortReport[], options = {}): string[] => foldExtraPorts(list, options).extraPorts.map((e) => `${e.state} ${e.count}`);

  it('a state folds when more than 25 ports have it, counted over every protocol', () => {
    expect(summary(ports('closed', 25))).toEqual([]);
    expect(summary(ports('closed', 26))).toEqual(['closed 26']);
    expect(summary([...ports('closed', 13), ...ports('closed', 13, 1, 'udp')])).toEqual(['closed 26']);
  });

  it('open and unknown never fold; open|filtered folds unless verbose > 2', () => {
    expect(summary(ports('open', 100))).toEqual([]);
    expect(summary(ports('unknown', 100))).toEqual([]);
    expect(summary(ports('open|filtered', 100))).toEqual(['open|filtered 100']);
    expect(summary(ports('open|filtered', 100), { verbose: 3 })).toEqual([]);
  });

  it('verbose raises the limit to 25 times (verbose + 1)', () => {
    expect(summary(ports('closed', 50), { verbose: 1 })).toEqual([]);
    expect(summary(ports('closed', 51), { verbose: 1 })).toEqual(['closed 51']);
    expect(summary(ports('filtered', 76), { verbose: 2 })).toEqual(['filtered 76']);
  });

  it('openOnly folds every state that cannot be open, however few', () => {
    expect(summary([...ports('closed', 1), ...ports('filtered', 2, 10), ...ports('unfiltered', 3, 20), ...ports('open', 1, 30)], { openOnly: true })).toEqual(['filtered 2', 'closed 1']);
  });

  it('groups come most ports first, ties in nmap state order (closed, filtered, unfiltered, open|filtered); reasons by count', () => {
    const list = [...ports('filtered', 30, 1000, 'tcp', 'no-response'), ...ports('closed', 30, 2000), ...ports('open|filtered', 40, 3000, 'udp', 'no-response'), ...ports('unfiltered', 30, 4000)];
    expect(summary(list)).toEqual(['open|filtered 40', 'closed 30', 'filtered 30', 'unfiltered 30']);
    const mixed = [...ports('filtered', 20, 1, 'tcp', 'no-response'), ...ports('filtered', 10, 100, 'tcp', 'admin-prohibited')];
    expect(foldExtraPorts(mixed).extraPorts[0]?.reasons.map((r) => `${r.reason} ${r.count} ${portRanges(r.ports)}`)).toEqual(['no-response 20 1-20', 'admin-prohibited 10 100-109']);
    expect(foldExtraPorts(mixed).listed).toEqual([]);
  });

  it('portRanges writes runs as ranges', () => {
    expect(portRanges([1, 2, 3, 5, 7, 8, 65535])).toBe('1-3,5,7-8,65535');
    expect(portRanges([])).toBe('');
  });
});

describe('reports', () => {
  it('names: the user\'s and the PTR; status from the host event, user-set without one; reasons with ttl and the router', async () => {
    const reports: Extract<ReportEvent, { type: 'host' }>['host'][] = [];
    for await (const e of reportHosts(streamOf(labLikeSynScan()), { serviceDetection: true, serviceTable: GOLDEN_SERVICES })) if (e.type === 'host') reports.push(e.host);
    const t1 = reports.find((h) => h.address === '198.18.1.10')!;
    expect(t1).toMatchObject({ status: 'up', reason: 'echo-reply', reasonTtl: 64, hostnames: [{ name: 't1.example', type: 'user' }, { name: 't1.lab.test', type: 'PTR' }], shown: true, complete: true });
    expect(t1.ports.find((x) => x.port === 8085)).toMatchObject({ state: 'filtered', reason: 'host-unreach', reasonTtl: 64, reasonIp: '198.18.1.1' });
    expect(t1.ports.find((x) => x.port === 443)?.service).toMatchObject({ name: 'http', tunnel: 'ssl', method: 'probed' });
    expect(t1.ports.find((x) => x.port === 8081)?.service).toEqual({ name: 'http-alt', method: 'table', confidence: 3, cpe: [] });
    expect(reports.find((h) => h.address === '198.18.1.11')).toMatchObject({ status: 'down', shown: false });
    const noHostEvent: DetectionEvent[] = [START, p('10.0.0.9', 1), p('10.0.0.9', 2), p('10.0.0.9', 3), DONE];
    for await (const e of reportHosts(streamOf(noHostEvent))) if (e.type === 'host') expect(e.host).toMatchObject({ status: 'up', reason: 'user-set', reasonTtl: 0 });
  });

  it('latency prints with two significant digits, as nmap (0.0000040s, 0.0038s, 0.00s)', () => {
    expect(twoSignificant(0.000004)).toBe('0.0000040');
    expect(twoSignificant(0.0038)).toBe('0.0038');
    expect(twoSignificant(0.0000527)).toBe('0.000053');
    expect(twoSignificant(0)).toBe('0.00');
    expect(twoSignificant(1.234)).toBe('1.2');
    expect(twoSignificant(12.6)).toBe('13');
  });

  it('XML escapes markup and keeps characters XML forbids out of the document', () => {
    expect(xmlEscape(`a<b>&"c"'\n\t\u0001\ud800`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;&#10;&#9;\\x01\\uD800');
    expect(xmlEscape('😀 ü')).toBe('😀 ü');
  });

  it('PORTSCOUT_VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(HERE, '../../package.json'), 'utf8')) as { version: string };
    expect(PORTSCOUT_VERSION).toBe(pkg.version);
  });
});

describe("nmap's layout, line for line (as nmap 7.93 wrote it for the same results)", () => {
  // nmap -n -sS -p 47300-47340 127.0.0.1, every port closed: -oN and -oG.
  const allClosed: DetectionEvent[] = [
    { ...START, ports: { tcp: '47300-47340', udp: '' }, hosts: 1 },
    ...Array.from({ length: 41 }, (_, i) => ({ ...(p('127.0.0.1', 47300 + i) as object), rttMs: 0.004 }) as DetectionEvent),
    DONE,
  ];

  it('-oN: "All 41 scanned ports ... are in ignored states.", "Not shown", a blank line', async () => {
    const out = collector();
    await writeNormalOutput(streamOf(allClosed), out.sink);
    expect(out.text().split('\n').slice(1, -2)).toEqual(['Nmap scan report for 127.0.0.1', 'Host is up (0.0000040s latency).', 'All 41 scanned ports on 127.0.0.1 are in ignored states.', 'Not shown: 41 closed tcp ports (reset)', '']);
  });

  it('-oG: an empty Ports field and the one ignored state', async () => {
    const out = collector();
    await writeGrepableOutput(streamOf(allClosed), out.sink);
    expect(out.text().split('\n').slice(1, -2)).toEqual(['Host: 127.0.0.1 ()\tStatus: Up', 'Host: 127.0.0.1 ()\tPorts: \tIgnored State: closed (41)']);
  });

  it('-oX: no <?xml-stylesheet?> unless asked for; then one, before the comment', async () => {
    const plain = collector();
    await writeNmapXml(streamOf(allClosed), plain.sink);
    expect(plain.text()).not.toContain('xml-stylesheet');
    expect(plain.text().split('\n').slice(0, 2)).toEqual(['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE nmaprun>']);
    const styled = collector();
    await writeNmapXml(streamOf(allClosed), styled.sink, { stylesheet: 'file:///usr/share/nmap/nmap.xsl' });
    expect(styled.text().split('\n')[2]).toBe('<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>');
  });
});

describe('writing', () => {
  it('writeReports folds once and writes every format from the same reports (nmap -oA)', async () => {
    const events = readFixture('loopback-syn-sv.jsonl');
    const [xml, normal, grep] = [collector(), collector(), collector()];
    const summary = await writeReports(
      streamOf(events),
      [
        { formatter: createNmapXmlFormatter(), sink: xml.sink },
        { formatter: createNormalFormatter(), sink: normal.sink },
        { formatter: createGrepableFormatter(), sink: grep.sink },
      ],
      { serviceDetection: true, clock: fakeClock(events), serviceTable: GOLDEN_SERVICES },
    );
    expect(summary).toMatchObject({ exit: 'success', hosts: { up: 2, down: 0, total: 2 } });
    expect(xml.text()).toBe(readFileSync(join(HERE, 'golden', 'loopback-syn-sv.xml'), 'utf8'));
    expect(normal.text()).toBe(readFileSync(join(HERE, 'golden', 'loopback-syn-sv.nmap'), 'utf8'));
    expect(grep.text()).toBe(readFileSync(join(HERE, 'golden', 'loopback-syn-sv.gnmap'), 'utf8'));
  });

  it('a Writable with back-pressure gets every chunk in order; the scan is not read while it is full', async () => {
    const chunks: string[] = [];
    let pending = 0;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        pending++;
        setTimeout(() => {
          chunks.push(chunk.toString());
          pending--;
          done();
        }, 2);
      },
    });
    const events = labLikeSynScan();
    let readAhead = 0;
    async function* watched(): AsyncGenerator<DetectionEvent> {
      for (const e of events) {
        readAhead = Math.max(readAhead, pending);
        yield e;
      }
    }
    await writeNmapXml(watched(), slow, { serviceDetection: true, end: true, clock: fakeClock(events), serviceTable: GOLDEN_SERVICES });
    expect(slow.writableFinished).toBe(true);
    expect(chunks.join('')).toBe(readFileSync(join(HERE, 'golden', 'lab-syn-sv.xml'), 'utf8').replace(/ args="[^"]*"/, ' args="portscout -sS -sV -p 1-30,80,443,8081-8085"').replace(/as: [^>]*? -->/, 'as: portscout -sS -sV -p 1-30,80,443,8081-8085 -->'));
    expect(readAhead).toBeLessThanOrEqual(1);
  });

  it('a stream that fails or closes: the promise rejects (ERR_OUTPUT_CLOSED, or the stream\'s error) and the scan is let go', async () => {
    const feed = manualStream();
    const sink = new PassThrough();
    const written = writeNmapXml(feed.stream, sink);
    await feed.push(START);
    sink.destroy();
    void feed.push(p('10.0.0.1', 1));
    void feed.push(p('10.0.0.1', 2));
    void feed.push(p('10.0.0.1', 3));
    void feed.push(DONE);
    await expect(written).rejects.toMatchObject({ code: 'ERR_OUTPUT_CLOSED' });
    expect(feed.stream.returned).toBe(true);

    const broken = new Writable({ write: (_c, _e, done) => done(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })) });
    await expect(writeNormalOutput(streamOf([START, p('10.0.0.1', 1), p('10.0.0.1', 2), p('10.0.0.1', 3), DONE]), broken)).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('an async function sink is awaited, chunk by chunk', async () => {
    const seen: string[] = [];
    await writeGrepableOutput(
      streamOf([START, p('10.0.0.1', 1), p('10.0.0.1', 2), p('10.0.0.1', 3), DONE]),
      async (chunk) => {
        await new Promise((r) => setTimeout(r, 1));
        seen.push(chunk);
      },
      { serviceTable: parseNmapServices('tcpmux\t1/tcp\t0.001\n') },
    );
    expect(seen).toHaveLength(3);
    expect(seen[1]).toBe('Host: 10.0.0.1 ()\tStatus: Up\nHost: 10.0.0.1 ()\tPorts: 1/closed/tcp//tcpmux///, 2/closed/tcp/////, 3/closed/tcp/////\n');
  });
});

describe('options are checked at the call', () => {
  const events = streamOf([]);
  const sink = (): void => {};
  it.each([
    ['an unknown name, with a hint', () => writeNmapXml(events, sink, { stylesheets: 'x' } as never), /Unknown option "stylesheets".*did you mean "stylesheet"/],
    ['verbose out of range', () => writeNormalOutput(events, sink, { verbose: 11 }), /verbose must be a whole number/],
    ['a family other than 4 or 6', () => writeNmapXml(events, sink, { family: 5 as never }), /family must be 4 or 6/],
    ['a layout', () => writeNormalOutput(events, sink, { layout: 'wide' as never }), /layout must be 'file' or 'terminal'/],
    ['a services table', () => writeGrepableOutput(events, sink, { serviceTable: {} as never }), /serviceTable must be a ServiceTable/],
    ['a sink', () => writeNmapXml(events, 'out.xml' as never), /needs a sink/],
    ['events', () => writeNmapXml([] as never, sink), /needs an async iterable/],
    ['outputs', () => writeReports(events, []), /non-empty array/],
    ['a formatter option', () => createNormalFormatter({ reason: 'yes' as never }), /reason must be true or false/],
    ['report options', () => reportHosts(events, { openOnly: 1 as never }), /openOnly must be true or false/],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });
});

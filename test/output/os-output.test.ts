/**
 * OS detection in the formatters: with `osDetection`, a host waits for its
 * `os` event; nmap's XML carries `<os>` (ports used, the guesses nmap shows
 * with their classes and CPEs, the fingerprint) and `<distance>`, valid
 * against nmap's DTD; normal output has nmap's OS lines; grepable output
 * names the OS for an exact match only; an `os` event for a host already
 * written without the option is reported as lost.
 */
process.env.TZ = 'UTC';

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGrepableOutput, writeNmapXml, writeNormalOutput, type OsEvent, type ReportInputEvent } from '../../src/index.js';
import { labLikeSynScan } from './fixtures/hand-written.js';
import { collector, has, missing, SCANNER_COMPLAINT, xmllintComplaints } from './support.js';

const T1 = '198.18.1.10';
const linux = { vendor: 'Linux', family: 'Linux', generation: '5.X', deviceType: 'general purpose', cpe: ['cpe:/o:linux:linux_kernel:5'] };

function osEvent(address: string, perfect: boolean): OsEvent {
  const matches = perfect
    ? [{ name: 'Linux 5.3 - 5.4', accuracy: 100, score: 1, line: 81234, classes: [linux] }]
    : [
        { name: 'Linux 5.3 - 5.4', accuracy: 96, score: 0.9637, line: 81234, classes: [linux] },
        { name: 'Linux 3.2', accuracy: 95, score: 0.951, line: 65432, classes: [{ ...linux, generation: '3.X', cpe: ['cpe:/o:linux:linux_kernel:3.2'] }] },
        { name: 'Far Away OS', accuracy: 85, score: 0.85, line: 1000, classes: [] }, // more than 10 points below the best: not shown
      ];
  return {
    type: 'os',
    family: 4,
    address,
    ports: { open: 22, closed: 1, closedUdp: 40125 },
    fingerprint: 'SCAN(V=portscout%E=4%D=12/7%OT=22%CT=1%CU=40125%PV=N%DS=1%DC=I%G=Y%TM=6B16D189%P=portscout)\nSEQ(SP=101%GCD=1%ISR=10C%TI=Z%CI=Z%II=I%TS=22)\nIE(R=Y%DFI=N%T=40%CD=S)',
    matches,
    perfect,
    distance: 1,
    reasons: [],
    probesSent: 22,
    dropped: 0,
    elapsedMs: 910,
  };
}

/** The lab-like SYN scan with an os event per host that is up, before `done`. */
function withOs(perfect: boolean): ReportInputEvent[] {
  const events: ReportInputEvent[] = labLikeSynScan();
  const done = events.findIndex((e) => e.type === 'done');
  const up = [...new Set(events.filter((e) => e.type === 'host' && e.status === 'up').map((e) => (e as { address: string }).address))];
  events.splice(done, 0, ...up.map((address) => osEvent(address, perfect && address === T1)));
  return events;
}

async function* stream(events: readonly ReportInputEvent[]): AsyncGenerator<ReportInputEvent> {
  for (const event of events) yield event;
}

describe('OS detection in the formatters', () => {
  it.skipIf(missing('xmllint and nmap.dtd', has('xmllint')))('writes <os> and <distance> in nmap XML, valid against nmap DTD', async () => {
    const out = collector();
    const summary = await writeNmapXml(stream(withOs(false)), out.sink, { osDetection: true });
    expect(summary.exit).toBe('success');
    const xml = out.text();
    expect(xml).toContain('<portused state="open" proto="tcp" portid="22"/>');
    expect(xml).toContain('<osmatch name="Linux 5.3 - 5.4" accuracy="96" line="81234">');
    expect(xml).toContain('<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="96"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass>');
    expect(xml).not.toContain('Far Away OS');
    expect(xml).toMatch(/<osfingerprint fingerprint="OS:SCAN\(V=portscout[^"]*&#10;OS:/);
    expect(xml).toContain('<distance value="1"/>');
    const file = join(mkdtempSync(join(tmpdir(), 'portscout-os-xml-')), 'scan.xml');
    writeFileSync(file, xml);
    const check = xmllintComplaints(file);
    expect(check.complaints.filter((line) => !SCANNER_COMPLAINT.test(line))).toEqual([]);
  });

  it("writes nmap's OS lines in normal output, and the OS of an exact match in grepable output", async () => {
    const normal = collector();
    await writeNormalOutput(stream(withOs(false)), normal.sink, { osDetection: true });
    const text = normal.text();
    expect(text).toContain('Aggressive OS guesses: Linux 5.3 - 5.4 (96%), Linux 3.2 (95%)\n');
    expect(text).toContain('No exact OS matches for host');
    expect(text).toMatch(/TCP\/IP fingerprint:\nOS:SCAN\(V=portscout.{56}\nOS:/);
    expect(text).toContain('Network Distance: 1 hop\n');
    expect(text).toContain('OS detection performed.');
    const exact = collector();
    await writeNormalOutput(stream(withOs(true)), exact.sink, { osDetection: true });
    expect(exact.text()).toContain('Device type: general purpose\nOS details: Linux 5.3 - 5.4\n');
    const grepable = collector();
    await writeGrepableOutput(stream(withOs(true)), grepable.sink, { osDetection: true });
    expect(grepable.text()).toMatch(new RegExp(`Host: ${T1.replace(/\./g, '\\.')} .*\\tPorts: .*\\tOS: Linux 5\\.3 - 5\\.4\\n`));
  });

  it('without osDetection, an os event for a host already written is reported as lost', async () => {
    const out = collector();
    await expect(writeNormalOutput(stream(withOs(false)), out.sink)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('osDetection: true') });
  });
});

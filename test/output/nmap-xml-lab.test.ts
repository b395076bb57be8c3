/**
 * portscout's nmap XML against nmap's, in the namespace lab (root; see
 * test/lab/README.md): a SYN scan of t1 by each, over IPv4 and IPv6, with
 * the same ports and retries, compared by ndiff (Debian's ndiff package),
 * which must report no difference in hosts or ports: only the banner line
 * (who scanned, when) differs. Port names on both sides come from nmap's
 * services file. When nmap writes t1's MAC address (a second <address>, if
 * it learnt it on the veth link), it is taken out of nmap's document first:
 * portscout does not report MAC addresses.
 * portscout's document also passes xmllint with nmap's DTD but for
 * scanner="portscout".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../lab/lab.js';
import { tsxArgv } from '../lab/exec.js';
import { declaredPorts } from '../lab/ground-truth.js';
import { skipLab } from '../lab/support.js';
import { childrenNamed, parseXml } from '../lab/xml.js';
import { has, missing, SCANNER_COMPLAINT, xmllintComplaints } from './support.js';

describe.skipIf(skipLab('nmap XML against nmap in the lab'))('nmap XML against nmap in the namespace lab', () => {
  let lab: Lab;
  const dir = mkdtempSync(join(tmpdir(), 'portscout-lab-xml-'));

  beforeAll(async () => {
    lab = await createLab();
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  for (const family of ['ipv4', 'ipv6'] as const) {
    it.skipIf(missing('ndiff', has('ndiff')))(`ndiff finds no difference between nmap's and portscout's SYN scan of t1 over ${family}`, async () => {
      const address = family === 'ipv4' ? lab.t1.ipv4[0] : lab.t1.ipv6[0];
      // 1-1024 (closed ones fold), and every port t1's firewall rules or services declare (filtered ones are listed).
      const declared = declaredPorts(lab.groundTruth, address, 'tcp').filter((p) => p > 1024);
      const ports = `1-1024,${declared.join(',')}`;
      const ours = await lab.spawnInScanner(tsxArgv('test/output/fixtures/xml-scan-child.ts', [JSON.stringify({ technique: 'syn', options: { targets: address, ports, skipDiscovery: true, timing: 'T4', maxRetries: 2 } })]), { timeoutMs: 120_000 });
      expect(ours.code, ours.stderr).toBe(0);
      const nmap = await lab.spawnInScanner(['nmap', '-oX', '-', '-n', '-sS', '-Pn', '-T4', '--max-retries', '2', ...(family === 'ipv6' ? ['-6'] : []), '-p', ports, address], { timeoutMs: 120_000 });
      expect(nmap.code, nmap.stderr).toBe(0);
      const nmapFile = join(dir, `nmap-${family}.xml`);
      const oursFile = join(dir, `portscout-${family}.xml`);
      writeFileSync(nmapFile, nmap.stdout.replace(/<address addr="[^"]*" addrtype="mac"[^>]*\/>\n/g, ''));
      writeFileSync(oursFile, ours.stdout);
      // The comparison is not vacuous: both list t1's open and filtered ports and fold its closed ones.
      const host = childrenNamed(parseXml(ours.stdout), 'host')[0]!;
      const listed = childrenNamed(childrenNamed(host, 'ports')[0]!, 'port').map((p) => `${p.attrs.portid} ${childrenNamed(p, 'state')[0]?.attrs.state}`);
      expect(listed).toEqual(expect.arrayContaining(['22 open', '80 open', '443 open', '8081 filtered', '8082 filtered']));
      expect(childrenNamed(childrenNamed(host, 'ports')[0]!, 'extraports')[0]?.attrs.state).toBe('closed');
      const diff = spawnSync('ndiff', [nmapFile, oursFile], { encoding: 'utf8' });
      const differences = diff.stdout.split('\n').filter((l) => l !== '' && !/^-Nmap 7\.\d+ scan initiated/.test(l) && !/^\+portscout \S+ scan initiated/.test(l));
      expect(differences, diff.stdout).toEqual([]);
      expect(diff.status, diff.stdout + diff.stderr).toBe(0);
      if (has('xmllint')) expect(xmllintComplaints(oursFile).complaints).toEqual([expect.stringMatching(SCANNER_COMPLAINT)]);
    }, 240_000);
  }
});

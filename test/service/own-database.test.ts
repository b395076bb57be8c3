/**
 * Issue 10: portscout's own probe database, proven against real servers.
 * The servers of test/support/lab-extra-services.ts (Debian packages, in the
 * lab's t1) are identified from the scanner namespace by detectServices with
 * the default database; each must give the service name, the product, the
 * installed package's upstream version where the server reveals it, and the
 * CPE (test/support/own-database-expectations.ts). The answers the servers
 * give to the matching probes are recorded at run time into test vectors
 * (written next to the results file, OWN_RESULTS_FILE) and matched again
 * offline. nmap -sV with its own file scans the same ports in the same run;
 * where it differs from ours the test prints it, with the installed version
 * as the ground truth.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServiceProbes } from '../../src/service/default-probes.js';
import { matchServiceResponse } from '../../src/service/match-response.js';
import { tsxArgv } from '../lab/exec.js';
import { createLab, type Lab } from '../lab/lab.js';
import { skipLab } from '../lab/support.js';
import { EXTRA_SERVICES, extraServicesUnavailable, startExtraLabServices, type ExtraLabServices } from '../support/lab-extra-services.js';
import { NOT_IN_LAB, OWN_EXPECTATIONS, OWN_RESULTS_FILE, upstreamVersion } from '../support/own-database-expectations.js';
import { detectInLab, nmapServices, type DetectInLabResult, type ServiceMap } from '../support/service-oracle.js';

const WHAT = "portscout's own database against real servers";

function skipMissing(): boolean {
  const missing = extraServicesUnavailable();
  if (Object.keys(missing).length === 0) {
    for (const [id, why] of Object.entries(NOT_IN_LAB)) console.log(`[lab] SKIPPED ${WHAT} for ${id}: ${why}`);
    return false;
  }
  if (process.env.CI) {
    console.error(`[lab] ${WHAT}: services missing under CI, failing instead of skipping: ${JSON.stringify(missing)}`);
    return false;
  }
  // Services whose package is missing are skipped one by one (with a line each), the rest run.
  for (const [id, why] of Object.entries(NOT_IN_LAB)) console.log(`[lab] SKIPPED ${WHAT} for ${id}: ${why}`);
  for (const [id, why] of Object.entries(missing)) console.log(`[lab] SKIPPED ${WHAT} for ${id}: ${why}`);
  return Object.keys(missing).length === EXTRA_SERVICES.length;
}

interface Vector {
  protocol: 'tcp' | 'udp';
  port: number;
  probe: string;
  end: string;
  hex: string;
}

describe.skipIf(skipLab(WHAT) || skipMissing())("portscout's own database identifies real servers in the lab", () => {
  let lab: Lab | undefined;
  let extra: ExtraLabServices | undefined;
  let ours: DetectInLabResult;
  let nmap: ServiceMap;
  let vectors: Vector[] = [];
  const timings: string[] = [];
  const keyOf = (id: string): string => {
    const s = EXTRA_SERVICES.find((x) => x.id === id)!;
    return `${s.protocol}/${s.port}`;
  };

  beforeAll(async () => {
    const started = performance.now();
    lab = await createLab({ loss: 0 });
    extra = await startExtraLabServices(lab);
    timings.push(`lab and services up in ${Math.round(performance.now() - started)} ms (services ${Math.round(extra.startMs)} ms)`);
    const target = lab.t1.ipv4[0];
    const tcpPorts = extra.services.filter((s) => s.protocol === 'tcp').map((s) => s.port).join(',');
    const udpPorts = extra.services.filter((s) => s.protocol === 'udp').map((s) => s.port).join(',');
    // Ours and nmap's TCP and UDP runs at once: the test checks what each names, not how fast
    // (bench/service times them apart). One connection per port at once (hostConcurrency): the
    // default of 8 per host would queue these ports behind one another's NULL-probe waits.
    const t0 = performance.now();
    const nmapTcp = nmapServices(lab, ['-sV', '-Pn', '-p', tcpPorts, target], 150_000);
    const nmapUdp = nmapServices(lab, ['-sU', '-sV', '-Pn', '-p', udpPorts, target], 150_000);
    const hostConcurrency = extra.services.filter((s) => s.protocol === 'tcp').length;
    // The UDP scan's retry of a silent port (SNMP on 1161, BIND on 5300, chrony on 11123 do not
    // answer its empty datagrams) only decides open|filtered, which detection probes anyway; the
    // lab loses nothing (loss 0): no retry, which saves the scan's ~50 s wait for it.
    ours = await detectInLab(lab, { target, tcpPorts, udpPorts, timeoutMs: 110_000, options: { hostConcurrency }, udpScanOptions: { maxRetries: 0 } });
    timings.push(`portscout (our database, hostConcurrency ${hostConcurrency}): detect ${Math.round(ours.detectMs)} ms (TCP and UDP at once)`);
    const slowest = [...ours.events].sort((a, b) => b.atMs - a.atMs).slice(0, 3);
    timings.push(`slowest: ${slowest.map((e) => `${e.protocol}/${e.port} ${Math.round(e.atMs)} ms`).join(', ')}`);
    const [tcp, udp] = await Promise.all([nmapTcp, nmapUdp]);
    nmap = new Map([...tcp.services, ...udp.services]);
    timings.push(`nmap -sV ${tcp.elapsedSeconds} s (TCP) + -sU -sV ${udp.elapsedSeconds} s (UDP); all three in parallel ${Math.round(performance.now() - t0)} ms`);

    // Test vectors: each matching probe sent again, the answer recorded as the server gave it.
    const items = ours.events.filter((e) => e.probe !== undefined).map((e) => ({ protocol: e.protocol, port: e.port, probe: e.probe! }));
    const rec = await lab.spawnInScanner(tsxArgv('test/support/record-responses-child.ts', [JSON.stringify({ address: target, items })]), { timeoutMs: 30_000 });
    vectors = rec.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Vector);
  }, 300_000);

  afterAll(async () => {
    console.log(`[own database lab] ${timings.join('; ')}`);
    await extra?.stop();
    await lab?.destroy();
  });

  it('names the service, product, installed version and CPE of every server', () => {
    const results: Record<string, unknown>[] = [];
    const problems: string[] = [];
    for (const e of OWN_EXPECTATIONS) {
      const service = EXTRA_SERVICES.find((s) => s.id === e.id)!;
      if (!extra!.services.includes(service)) continue;
      const key = keyOf(e.id);
      const event = ours.events.find((x) => `${x.protocol}/${x.port}` === key);
      const version = upstreamVersion(extra!.installed[service.package] ?? '');
      const want = {
        name: e.name,
        product: e.product,
        version: e.version ? version : undefined,
        cpe: e.cpe === undefined ? undefined : e.version ? `${e.cpe}:${version}` : e.cpe,
        soft: e.soft,
        probe: e.probe,
      };
      const got = event && { name: event.name, product: event.product, version: event.version, cpe: event.cpe[0], soft: event.soft, probe: event.probe };
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${e.id} (${key}): want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      const n = nmap.get(key);
      results.push({ id: e.id, key, package: service.package, installed: extra!.installed[service.package], ...want, verified: JSON.stringify(got) === JSON.stringify(want), nmap: n ?? null, rule: event?.rule });
      const nmapSays = n ? `${n.name} / ${n.product ?? '-'} / ${n.version ?? '-'}` : 'nothing';
      const oursSays = `${got?.name} / ${got?.product ?? '-'} / ${got?.version ?? '-'}`;
      if (!n || n.name !== got?.name || n.product !== got?.product || n.version !== got?.version) {
        const right = e.version ? (got?.version === version ? 'ours (the installed version)' : n?.version === version ? 'nmap' : 'neither') : 'the server hides its version; neither may name one';
        console.log(`[own database lab] ${key} ${e.id}: nmap ${nmapSays}; ours ${oursSays}; installed ${extra!.installed[service.package]}: right: ${right}`);
      }
    }
    mkdirSync(dirname(OWN_RESULTS_FILE), { recursive: true });
    writeFileSync(OWN_RESULTS_FILE, `${JSON.stringify({ at: new Date().toISOString(), skipped: extra!.skipped, results }, null, 2)}\n`);
    writeFileSync(join(dirname(OWN_RESULTS_FILE), 'vectors.json'), `${JSON.stringify(vectors, null, 2)}\n`);
    console.log(`[own database lab] results in ${OWN_RESULTS_FILE}, ${vectors.length} vectors next to it`);
    expect(problems).toEqual([]);
  });

  it('and the recorded answers match the same rules offline', async () => {
    const db = defaultServiceProbes();
    expect(vectors.length).toBe(ours.events.filter((e) => e.probe !== undefined).length);
    const diffs: string[] = [];
    for (const v of vectors) {
      const event = ours.events.find((e) => e.protocol === v.protocol && e.port === v.port)!;
      const m = await matchServiceResponse(db, v.probe, Buffer.from(v.hex, 'hex'), { protocol: v.protocol });
      if (m?.line !== event.rule?.line || m?.version !== event.version) diffs.push(`${v.protocol}/${v.port} ${v.probe}: live line ${event.rule?.line}, vector line ${m?.line} (${v.end}, ${v.hex.length / 2} bytes)`);
    }
    expect(diffs).toEqual([]);
  });
});

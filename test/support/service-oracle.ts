/**
 * Service detection in the lab, side by side: `nmap -sV` run in the scanner
 * namespace (its `<service>` elements), and portscout's detectServices run
 * there too in a child process (test/support/detect-services-child.ts), with
 * nmap's probe file or with portscout's default database. Used by
 * test/service/lab-services.test.ts and bench/service.ts.
 */
import { tsxArgv } from '../lab/exec.js';
import type { Lab } from '../lab/lab.js';
import { runNmap } from '../lab/nmap.js';
import { childNamed, childrenNamed, parseXml } from '../lab/xml.js';
import type { ServiceEvent } from '../../src/service/service-event.js';

/**
 * nmap's probe file, read at run time (never copied into the repository).
 *
 * @example
 * ```ts
 * await detectInLab(lab, { probeFile: NMAP_SERVICE_PROBES, ... });
 * ```
 */
export const NMAP_SERVICE_PROBES = '/usr/share/nmap/nmap-service-probes';

/**
 * The fields of one port's service that nmap and portscout are compared on.
 *
 * @example
 * ```ts
 * const s: ServiceFields = { name: 'ssh', product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u10' };
 * ```
 */
export interface ServiceFields {
  name: string;
  product?: string;
  version?: string;
  extraInfo?: string;
  hostname?: string;
  osType?: string;
  tunnel?: string;
  /** `probed` or `table`. */
  method?: string;
}

/** Services by `tcp/22`, `udp/53`. */
export type ServiceMap = Map<string, ServiceFields>;

/**
 * Runs `nmap -oX - -n <args>` in the scanner namespace; returns its services and its own elapsed time.
 *
 * @example
 * ```ts
 * const { services } = await nmapServices(lab, ['-sV', '-Pn', '-p', '22', lab.t1.ipv4[0]]);
 * ```
 */
export async function nmapServices(lab: Lab, args: readonly string[], timeoutMs = 120_000): Promise<{ services: ServiceMap; elapsedSeconds: number; wallMs: number }> {
  const started = performance.now();
  const run = await runNmap(lab, args, { timeoutMs });
  const wallMs = performance.now() - started;
  const services: ServiceMap = new Map();
  const root = parseXml(run.xml);
  for (const host of childrenNamed(root, 'host')) {
    const ports = childNamed(host, 'ports');
    if (!ports) continue;
    for (const port of childrenNamed(ports, 'port')) {
      const state = childNamed(port, 'state')?.attrs.state ?? '';
      if (state !== 'open' && state !== 'open|filtered') continue;
      const service = childNamed(port, 'service');
      if (!service) continue;
      const a = service.attrs;
      const fields: ServiceFields = { name: a.name ?? '' };
      if (a.product !== undefined) fields.product = a.product;
      if (a.version !== undefined) fields.version = a.version;
      if (a.extrainfo !== undefined) fields.extraInfo = a.extrainfo;
      if (a.hostname !== undefined) fields.hostname = a.hostname;
      if (a.ostype !== undefined) fields.osType = a.ostype;
      if (a.tunnel !== undefined) fields.tunnel = a.tunnel;
      if (a.method !== undefined) fields.method = a.method;
      services.set(`${port.attrs.protocol}/${port.attrs.portid}`, fields);
    }
  }
  return { services, elapsedSeconds: run.elapsedSeconds, wallMs };
}

/**
 * Options of {@link detectInLab}.
 *
 * @example
 * ```ts
 * const o: DetectInLabOptions = { target: '198.18.1.10', tcpPorts: '22,80' };
 * ```
 */
export interface DetectInLabOptions {
  readonly target: string;
  readonly tcpPorts?: string;
  readonly udpPorts?: string;
  /** A probe file to load with loadServiceProbes; default: portscout's own database. */
  readonly probeFile?: string;
  /** Load the built package (dist/) instead of src/ (benchmarks). */
  readonly dist?: boolean;
  /** More options of detectServices (hostConcurrency, intensity, ...). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** More options of the UDP scan that feeds detection (maxRetries, ...). */
  readonly udpScanOptions?: Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
}

/**
 * What one portscout run in the lab found.
 *
 * @example
 * ```ts
 * const { services, detectMs } = await detectInLab(lab, { target, tcpPorts: '22' });
 * ```
 */
export interface DetectInLabResult {
  readonly services: ServiceMap;
  /** The service events as the child printed them, each with its time since detection started. */
  readonly events: (ServiceEvent & { atMs: number })[];
  /** Loading the probe database (parsing and translating nmap's file, or the default one). */
  readonly loadMs: number;
  /** detectServices from the call to its last event. */
  readonly detectMs: number;
  /** Wall time of the child, start-up included. */
  readonly wallMs: number;
  /** Diagnostics of the probe file. */
  readonly diagnostics: number;
}

/**
 * Converts a service event to the compared fields.
 *
 * @example
 * ```ts
 * fieldsOf(event).name; // 'ssh'
 * ```
 */
export function fieldsOf(e: ServiceEvent): ServiceFields {
  const fields: ServiceFields = { name: e.name };
  if (e.product !== undefined) fields.product = e.product;
  if (e.version !== undefined) fields.version = e.version;
  if (e.extraInfo !== undefined) fields.extraInfo = e.extraInfo;
  if (e.hostname !== undefined) fields.hostname = e.hostname;
  if (e.osType !== undefined) fields.osType = e.osType;
  if (e.tunnel !== undefined) fields.tunnel = e.tunnel;
  fields.method = e.method;
  return fields;
}

/**
 * Runs portscout's detectServices in the scanner namespace (a child process) and collects its services.
 *
 * @example
 * ```ts
 * const ours = await detectInLab(lab, { target: lab.t1.ipv4[0], tcpPorts: '21,22', probeFile: NMAP_SERVICE_PROBES });
 * ```
 */
export async function detectInLab(lab: Lab, opts: DetectInLabOptions): Promise<DetectInLabResult> {
  const started = performance.now();
  const request = { targets: opts.target, tcpPorts: opts.tcpPorts, udpPorts: opts.udpPorts, probeFile: opts.probeFile, dist: opts.dist, options: opts.options, udpScanOptions: opts.udpScanOptions };
  const run = await lab.spawnInScanner(tsxArgv('test/support/detect-services-child.ts', [JSON.stringify(request)]), { timeoutMs: opts.timeoutMs ?? 120_000 });
  const wallMs = performance.now() - started;
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
  const failure = lines.find((l) => l.type === 'error');
  const timing = lines.find((l) => l.type === 'timing') as { loadMs: number; detectMs: number; diagnostics: number } | undefined;
  if (failure || !timing || run.code !== 0) {
    throw new Error(`detect-services child failed (exit ${run.code ?? run.signal}${run.timedOut ? ', timed out' : ''}): ${JSON.stringify(failure ?? {})}\n${run.stderr.slice(-3000)}`);
  }
  const events = lines.filter((l) => l.type === 'service') as unknown as (ServiceEvent & { atMs: number })[];
  const services: ServiceMap = new Map(events.map((e) => [`${e.protocol}/${e.port}`, fieldsOf(e)]));
  return { services, events, loadMs: timing.loadMs, detectMs: timing.detectMs, wallMs, diagnostics: timing.diagnostics };
}

/**
 * The fields compared for "identical to nmap": name, product, version and tunnel.
 *
 * @example
 * ```ts
 * expect(core(ours.get('tcp/22')!)).toEqual(core(nmap.get('tcp/22')!));
 * ```
 */
export function core(s: ServiceFields | undefined): Pick<ServiceFields, 'name' | 'product' | 'version' | 'tunnel'> | undefined {
  if (s === undefined) return undefined;
  const out: Pick<ServiceFields, 'name' | 'product' | 'version' | 'tunnel'> = { name: s.name };
  if (s.product !== undefined) out.product = s.product;
  if (s.version !== undefined) out.version = s.version;
  if (s.tunnel !== undefined) out.tunnel = s.tunnel;
  return out;
}

/**
 * Differences between two service maps on the given fields, one line per port and field.
 *
 * @example
 * ```ts
 * expect(serviceDiffs(nmap, ours, ['name', 'product', 'version', 'tunnel'])).toEqual([]);
 * ```
 */
export function serviceDiffs(expected: ServiceMap, actual: ServiceMap, fields: readonly (keyof ServiceFields)[]): string[] {
  const out: string[] = [];
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const key of keys) {
    const e = expected.get(key);
    const a = actual.get(key);
    if (!e || !a) {
      out.push(`${key}: ${e ? 'missing in portscout' : 'not reported by nmap'} (${JSON.stringify(e ?? a)})`);
      continue;
    }
    for (const f of fields) if (e[f] !== a[f]) out.push(`${key} ${f}: nmap ${JSON.stringify(e[f])}, portscout ${JSON.stringify(a[f])}`);
  }
  return out;
}

/**
 * Runs service detection through the public API and prints one JSON line per
 * `service` event (with `atMs`, its time since detection started), then a
 * `timing` line. Lab tests and bench/service start it inside the scanner's
 * network namespace:
 *   ip netns exec <ns> node --import tsx test/support/detect-services-child.ts '<json>'
 * where json is { "targets": "198.18.1.10", "tcpPorts"?: "21,22", "udpPorts"?: "53",
 * "probeFile"?: "/usr/share/nmap/nmap-service-probes", "dist"?: true, "options"?: { ... } }
 * (options: more options of detectServices, such as hostConcurrency; "udpScanOptions"?: more
 * options of the UDP scan, such as maxRetries).
 * Without probeFile the default database (portscout's own) is used; a probe
 * file is read at run time with loadServiceProbes (never copied), and its
 * promise is given to detectServices, which probes while the patterns are
 * translated ("wholeLoad": true awaits the load first). TCP ports
 * go through detectServices' own connect scan; UDP ports through a UDP scan
 * given as `from`. Both run at once, as in one `nmap -sS -sU -sV` run.
 * A failure ends in an { type: 'error', code, message } line and exit code 1.
 * The timing line: { type: 'timing', loadMs, detectMs, loadedAtMs, diagnostics } (loadMs:
 * loading before detection began, about 0 when it overlaps; detectMs from the first
 * detectServices call to the last event of both streams; loadedAtMs: when the load ended).
 */
import type * as Portscout from '../../src/index.js';

const request = JSON.parse(process.argv[2] ?? '{}') as {
  targets: string;
  tcpPorts?: string;
  udpPorts?: string;
  probeFile?: string;
  dist?: boolean;
  /** More options of detectServices (hostConcurrency, intensity, ...), for experiments. */
  options?: Record<string, unknown>;
  /** More options of the UDP scan (maxRetries, ...). */
  udpScanOptions?: Record<string, unknown>;
  /** Load the probe file completely before detection starts (default: detection is given the load and probes meanwhile). */
  wholeLoad?: boolean;
};
if (request.dist) process.setSourceMapsEnabled(false);
const portscout = (await import(request.dist ? '../../dist/index.js' : '../../src/index.js')) as typeof Portscout;

const write = (line: unknown): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

try {
  // With a probe file, detection is given the load itself: it probes while the patterns are
  // translated (request.wholeLoad: await the load first, as before).
  const started = performance.now();
  let probes: Portscout.ServiceProbeDatabase | Promise<Portscout.ParsedServiceProbes>;
  let loaded: Promise<{ diagnostics: number; atMs: number }>;
  let loadMs = 0;
  if (request.probeFile !== undefined) {
    const load = portscout.loadServiceProbes(request.probeFile);
    loaded = load.then((l) => ({ diagnostics: l.diagnostics.length, atMs: performance.now() - started }));
    if (request.wholeLoad) {
      probes = (await load).database;
      loadMs = performance.now() - started;
    } else probes = load;
  } else {
    probes = portscout.defaultServiceProbes();
    loadMs = performance.now() - started;
    loaded = Promise.resolve({ diagnostics: 0, atMs: loadMs });
  }
  const detectStarted = performance.now();
  const runs: Promise<void>[] = [];
  const drain = async (stream: AsyncIterable<Portscout.DetectionEvent>): Promise<void> => {
    for await (const event of stream) if (event.type === 'service') write({ ...event, atMs: performance.now() - detectStarted });
  };
  if (request.tcpPorts !== undefined) {
    runs.push(drain(portscout.detectServices({ ...request.options, targets: request.targets, ports: request.tcpPorts, skipDiscovery: true, probes })));
  }
  if (request.udpPorts !== undefined) {
    const from = portscout.udpScan({ ...request.udpScanOptions, targets: request.targets, ports: request.udpPorts, skipDiscovery: true });
    runs.push(drain(portscout.detectServices({ ...request.options, from, probes })));
  }
  await Promise.all(runs);
  const { diagnostics, atMs } = await loaded;
  write({ type: 'timing', loadMs, detectMs: performance.now() - detectStarted, loadedAtMs: atMs, diagnostics });
} catch (error) {
  const e = error as { code?: string; message?: string };
  write({ type: 'error', code: e.code, message: e.message });
  process.exitCode = 1;
}

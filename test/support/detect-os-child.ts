/**
 * Runs OS detection through the public API and prints one JSON line per
 * `os` event, then a `timing` line. Lab tests and bench/os start it inside
 * the scanner's network namespace:
 *   ip netns exec <ns> node --import tsx test/support/detect-os-child.ts '<json>'
 * where json is { "targets": "198.18.1.10", "ports": "1,22", "dbFile"?: "/usr/share/nmap/nmap-os-db",
 * "dist"?: true, "options"?: { ... } } (options: more options of detectOs).
 * The database is read at run time with loadOsDatabase (never copied).
 * A failure ends in an { type: 'error', code, message } line and exit code 1.
 * The timing line: { type: 'timing', loadMs, detectMs, entries }.
 */
import type * as Portscout from '../../src/index.js';

const request = JSON.parse(process.argv[2] ?? '{}') as { targets: string; ports: string; dbFile?: string; dist?: boolean; options?: Record<string, unknown> };
if (request.dist) process.setSourceMapsEnabled(false);
const portscout = (await import(request.dist ? '../../dist/index.js' : '../../src/index.js')) as typeof Portscout;
const write = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

try {
  const loadStarted = performance.now();
  const database = request.dbFile === undefined ? undefined : (await portscout.loadOsDatabase(request.dbFile)).database;
  const loadMs = performance.now() - loadStarted;
  const started = performance.now();
  for await (const event of portscout.detectOs({ targets: request.targets, ports: request.ports, skipDiscovery: true, timing: 'T4', ...(database ? { database } : {}), ...request.options })) {
    if (event.type === 'os') write(event);
  }
  write({ type: 'timing', loadMs, detectMs: performance.now() - started, entries: database?.entries.length ?? 0 });
} catch (error) {
  const e = error as { code?: string; message?: string };
  write({ type: 'error', code: e.code, message: e.message });
  process.exitCode = 1;
}

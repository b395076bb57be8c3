/**
 * A table of services: port and protocol to a service name, with a
 * frequency that ranks ports for "top N" selection. portscout ships a small
 * hand-written table (`builtinServices`); {@link loadNmapServices} reads
 * the `nmap-services` file of the user's own nmap install instead.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { PortscoutError } from '../errors.js';

/**
 * The transport protocol of a port.
 *
 * @example
 * ```ts
 * const protocol: PortProtocol = 'udp';
 * ```
 */
export type PortProtocol = 'tcp' | 'udp';

/**
 * One service: its name, port, protocol and how often the port is found open
 * (any non-negative scale; only the order matters).
 *
 * @example
 * ```ts
 * const ssh: ServiceEntry = { name: 'ssh', port: 22, protocol: 'tcp', frequency: 0.18 };
 * ```
 */
export interface ServiceEntry {
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly frequency: number;
}

/**
 * Services indexed by port and by name, ranked by frequency.
 *
 * @example
 * ```ts
 * const table = new ServiceTable([{ name: 'ssh', port: 22, protocol: 'tcp', frequency: 1 }]);
 * table.nameOf(22, 'tcp'); // 'ssh'
 * table.portsNamed('ssh', 'tcp'); // [22]
 * table.top(10, 'tcp'); // [22]
 * ```
 */
export class ServiceTable {
  private readonly byPort = new Map<string, ServiceEntry>();
  private readonly ranked: { tcp: ServiceEntry[]; udp: ServiceEntry[] } = { tcp: [], udp: [] };

  constructor(entries: Iterable<ServiceEntry>) {
    for (const entry of entries) {
      const key = `${entry.protocol}/${entry.port}`;
      const known = this.byPort.get(key);
      if (!known || entry.frequency > known.frequency) this.byPort.set(key, entry);
    }
    for (const entry of this.byPort.values()) this.ranked[entry.protocol].push(entry);
    for (const list of [this.ranked.tcp, this.ranked.udp]) list.sort((a, b) => b.frequency - a.frequency || a.port - b.port);
  }

  /** Number of (port, protocol) entries. */
  get size(): number {
    return this.byPort.size;
  }

  /** Every entry of a protocol, most frequent first. */
  entries(protocol: PortProtocol): readonly ServiceEntry[] {
    return this.ranked[protocol];
  }

  /** The service name of a port, if the table knows it. */
  nameOf(port: number, protocol: PortProtocol): string | undefined {
    return this.byPort.get(`${protocol}/${port}`)?.name;
  }

  /** The ports of a service name (case-insensitive), ascending; empty when unknown. */
  portsNamed(name: string, protocol: PortProtocol): number[] {
    const lower = name.toLowerCase();
    return this.ranked[protocol]
      .filter((entry) => entry.name.toLowerCase() === lower)
      .map((entry) => entry.port)
      .sort((a, b) => a - b);
  }

  /** The `n` most frequent ports of a protocol, most frequent first (fewer if the table has fewer). */
  top(n: number, protocol: PortProtocol): number[] {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new PortscoutError('ERR_INVALID_PORTS', `Invalid top-ports count ${String(n)}: expected a whole number >= 0.`);
    }
    return this.ranked[protocol].slice(0, n).map((entry) => entry.port);
  }
}

/**
 * Parses the text of an nmap `nmap-services` file (`name port/proto frequency`
 * per line, `#` comments). Protocols other than TCP and UDP are skipped.
 * Throws `ERR_INVALID_SERVICES` naming the first malformed line.
 *
 * @example
 * ```ts
 * const table = parseNmapServices('http\t80/tcp\t0.48\t# World Wide Web HTTP\n');
 * table.top(1, 'tcp'); // [80]
 * ```
 */
export function parseNmapServices(text: string, source = 'nmap-services'): ServiceTable {
  const entries: ServiceEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const match = /^(\d+)\/([a-z]+)$/i.exec(fields[1] ?? '');
    const frequency = fields[2] === undefined ? 0 : Number(fields[2]);
    const port = match ? Number(match[1]) : NaN;
    if (!match || port > 65535 || !Number.isFinite(frequency) || frequency < 0) {
      throw new PortscoutError(
        'ERR_INVALID_SERVICES',
        `${source} line ${i + 1} is not "name port/protocol frequency": ${JSON.stringify(lines[i])}`,
      );
    }
    const protocol = match[2]!.toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp') continue;
    entries.push({ name: fields[0]!, port, protocol, frequency });
  }
  return new ServiceTable(entries);
}

/**
 * Reads the `nmap-services` file of the user's own nmap install (for example
 * `/usr/share/nmap/nmap-services`); its open frequencies then rank top-N
 * selections and its names resolve service names in port specifications.
 *
 * @example
 * ```ts
 * const services = await loadNmapServices('/usr/share/nmap/nmap-services');
 * parsePortSpec('top:100', { services });
 * ```
 */
export async function loadNmapServices(path: string): Promise<ServiceTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PortscoutError('ERR_INVALID_SERVICES', `Cannot read services file ${JSON.stringify(path)}: ${(error as Error).message}`, { cause: error });
  }
  return parseNmapServices(text, path);
}

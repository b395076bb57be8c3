/**
 * Port specifications in nmap's syntax, parsed into a {@link PortSet}: sorted,
 * unique TCP and UDP port lists.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { builtinServices } from './builtin-services.js';
import type { PortProtocol, ServiceTable } from './service-table.js';

/**
 * The ports to probe per protocol, each list ascending and unique.
 *
 * @example
 * ```ts
 * const ports: PortSet = { tcp: [22, 80, 443], udp: [53] };
 * ```
 */
export interface PortSet {
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
}

/**
 * Which protocol ports without a `T:`/`U:` prefix belong to (`'both'`: each, as nmap does when scanning TCP and UDP).
 *
 * @example
 * ```ts
 * parsePortSpec('53', { defaultProtocol: 'both' }); // { tcp: [53], udp: [53] }
 * ```
 */
export type DefaultPortProtocol = PortProtocol | 'both';

/**
 * Options of {@link parsePortSpec}.
 *
 * @example
 * ```ts
 * const options: PortSpecOptions = { defaultProtocol: 'udp', services: await loadNmapServices('/usr/share/nmap/nmap-services') };
 * ```
 */
export interface PortSpecOptions {
  /** Protocol of ports before any `T:`/`U:` prefix. Default `'tcp'`. */
  readonly defaultProtocol?: DefaultPortProtocol;
  /** Table for service names and `top`. Default: `builtinServices`, the hand-written table. */
  readonly services?: ServiceTable;
}

/**
 * What every port syntax looks like, quoted in error messages.
 *
 * @example
 * ```ts
 * console.log(PORT_SYNTAX_HELP);
 * ```
 */
export const PORT_SYNTAX_HELP =
  'Allowed: comma-separated ports 0-65535 and ranges (22, 1-1024, -100 for 1-100, 60000- for 60000-65535, - for 1-65535), ' +
  'T: and U: prefixes for TCP and UDP that apply to the items after them (T:22,80,U:53), service names (http, ssh), ' +
  'and top or top:N for the most common ports of the services table.';

function invalid(text: string, reason: string): PortscoutError {
  return new PortscoutError('ERR_INVALID_PORTS', `Invalid ports ${JSON.stringify(text)}: ${reason}. ${PORT_SYNTAX_HELP}`);
}

function portNumber(text: string, value: string): number {
  const port = Number(value);
  if (port > 65535) throw invalid(text, `port ${value} is out of range 0-65535`);
  return port;
}

/**
 * Parses an nmap port specification. Throws `ERR_INVALID_PORTS` quoting the
 * text and the allowed syntax (`1-70000`, `80-22`, `T:`, an empty list, an
 * unknown service name).
 *
 * @example
 * ```ts
 * parsePortSpec('22,80,8000-8002'); // { tcp: [22, 80, 8000, 8001, 8002], udp: [] }
 * parsePortSpec('T:80,U:53,161'); // { tcp: [80], udp: [53, 161] }
 * parsePortSpec('ssh,https'); // { tcp: [22, 443], udp: [] }
 * ```
 */
export function parsePortSpec(text: string, options: PortSpecOptions = {}): PortSet {
  const services = options.services ?? builtinServices;
  const defaultProtocols: readonly PortProtocol[] =
    options.defaultProtocol === 'both' ? ['tcp', 'udp'] : [options.defaultProtocol ?? 'tcp'];
  if (options.defaultProtocol !== undefined && !['tcp', 'udp', 'both'].includes(options.defaultProtocol)) {
    throw new PortscoutError('ERR_INVALID_PORTS', `Invalid default protocol ${JSON.stringify(options.defaultProtocol)}: expected tcp, udp or both.`);
  }
  const spec = text.replace(/\s+/g, '');
  if (spec === '') throw invalid(text, 'the list is empty');
  const present = { tcp: new Uint8Array(65536), udp: new Uint8Array(65536) };
  let protocols = defaultProtocols;
  for (let item of spec.split(',')) {
    const prefix = /^([A-Za-z]):(.*)$/.exec(item);
    if (prefix) {
      const letter = prefix[1]!.toUpperCase();
      if (letter !== 'T' && letter !== 'U') throw invalid(text, `protocol prefix ${letter}: is not supported, only T: (TCP) and U: (UDP)`);
      protocols = [letter === 'T' ? 'tcp' : 'udp'];
      item = prefix[2]!;
      if (item === '') throw invalid(text, `the prefix ${letter}: is not followed by a port`);
    }
    if (item === '') throw invalid(text, 'an item between commas is empty');
    const add = (low: number, high: number): void => {
      for (const protocol of protocols) present[protocol].fill(1, low, high + 1);
    };
    const range = /^(\d*)-(\d*)$/.exec(item);
    const top = /^top(?::(\d+))?$/i.exec(item);
    if (/^\d+$/.test(item)) {
      const port = portNumber(text, item);
      add(port, port);
    } else if (range) {
      const low = range[1] === '' ? 1 : portNumber(text, range[1]!);
      const high = range[2] === '' ? 65535 : portNumber(text, range[2]!);
      if (low > high) throw invalid(text, `the range ${item} ends before it starts`);
      add(low, high);
    } else if (top) {
      for (const protocol of protocols) {
        const ports = top[1] === undefined ? services.entries(protocol).map((entry) => entry.port) : services.top(Number(top[1]), protocol);
        for (const port of ports) present[protocol][port] = 1;
      }
    } else if (/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(item)) {
      let found = false;
      for (const protocol of protocols) {
        for (const port of services.portsNamed(item, protocol)) {
          present[protocol][port] = 1;
          found = true;
        }
      }
      if (!found) throw invalid(text, `${JSON.stringify(item)} is not a port number, a range, or a ${protocols.join('/')} service name of the services table`);
    } else {
      throw invalid(text, `${JSON.stringify(item)} is not a port, a range or a service name`);
    }
  }
  const collect = (flags: Uint8Array): number[] => {
    // Counted first, then filled: an array grown by push leaves a copy per doubling behind.
    let count = 0;
    for (let port = 0; port < 65536; port++) count += flags[port] as number;
    const ports = new Array<number>(count);
    let at = 0;
    for (let port = 0; port < 65536; port++) if (flags[port]) ports[at++] = port;
    return ports;
  };
  return { tcp: collect(present.tcp), udp: collect(present.udp) };
}

/**
 * Checks a port set built in code and returns it normalised (ascending,
 * unique); throws `ERR_INVALID_PORTS` for a value that is not a whole number 0-65535.
 *
 * @example
 * ```ts
 * normalizePortSet({ tcp: [443, 80, 80], udp: [] }); // { tcp: [80, 443], udp: [] }
 * normalizePortSet({ tcp: topPorts(100, 'tcp'), udp: [] });
 * ```
 */
export function normalizePortSet(ports: PortSet): PortSet {
  const normalize = (list: readonly number[] | undefined, protocol: PortProtocol): number[] => {
    for (const port of list ?? []) {
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new PortscoutError('ERR_INVALID_PORTS', `Invalid ${protocol} port ${String(port)}: expected a whole number 0-65535.`);
      }
    }
    return [...new Set(list ?? [])].sort((a, b) => a - b);
  };
  return { tcp: normalize(ports.tcp, 'tcp'), udp: normalize(ports.udp, 'udp') };
}

/**
 * Formats a port set back into nmap syntax, ranges collapsed (`T:22,80-82,U:53`).
 *
 * @example
 * ```ts
 * formatPortSet({ tcp: [22, 80, 81, 82], udp: [53] }); // 'T:22,80-82,U:53'
 * ```
 */
export function formatPortSet(ports: PortSet): string {
  const runs = (list: readonly number[]): string[] => {
    const out: string[] = [];
    for (let i = 0; i < list.length; ) {
      let j = i;
      while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
      out.push(i === j ? String(list[i]) : `${list[i]}-${list[j]}`);
      i = j + 1;
    }
    return out;
  };
  const parts: string[] = [];
  if (ports.tcp.length > 0) parts.push(`T:${runs(ports.tcp).join(',')}`);
  if (ports.udp.length > 0) parts.push(`U:${runs(ports.udp).join(',')}`);
  return parts.join(',');
}

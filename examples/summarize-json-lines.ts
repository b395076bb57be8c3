/**
 * Reads portscout's JSON Lines back (`parseJsonLines`) and prints a table
 * per host: the other end of a pipeline, for results saved on another
 * machine or by another run.
 *
 * Input: the file given as the first argument, or stdin. A stream that has
 * no `done` line was cut short (an aborted or killed scan): the summary says
 * so, and a last line cut in the middle is skipped.
 *
 * Sends nothing on the network. Run with
 * `npx tsx examples/service-inventory.ts | npx tsx examples/summarize-json-lines.ts`.
 */
import { createReadStream } from 'node:fs';
import { PortscoutError, parseJsonLines, type JsonLinesEvent } from '../src/index.js';

type PortLine = Extract<JsonLinesEvent, { type: 'port' }>;
type ServiceLine = Extract<JsonLinesEvent, { type: 'service' }>;

interface Host {
  status?: string;
  readonly ports: Map<string, PortLine>;
  readonly services: Map<string, ServiceLine>;
}

const hosts = new Map<string, Host>();
const hostOf = (address: string): Host => {
  let host = hosts.get(address);
  if (!host) hosts.set(address, (host = { ports: new Map(), services: new Map() }));
  return host;
};

const input = process.argv[2] === undefined ? process.stdin : createReadStream(process.argv[2]);
let scans = 0;
let finished = 0;
const warnings: string[] = [];

try {
  for await (const event of parseJsonLines(input, { ignoreIncompleteLastLine: true })) {
    switch (event.type) {
      case 'start':
        scans += 1;
        break;
      case 'done':
        finished += 1;
        break;
      case 'host':
        hostOf(event.address).status = event.status;
        break;
      case 'port':
        hostOf(event.address).ports.set(`${event.port}/${event.protocol}`, event);
        break;
      case 'service':
        hostOf(event.address).services.set(`${event.port}/${event.protocol}`, event);
        break;
      case 'warning':
        warnings.push(`${event.code}: ${event.message}`);
        break;
      default:
        break;
    }
  }
} catch (error) {
  console.error(error instanceof PortscoutError ? `${error.code}: ${error.message}` : error);
  process.exit(1);
}

for (const [address, host] of hosts) {
  console.log(`${address}${host.status ? ` (${host.status})` : ''}`);
  console.log('PORT       STATE          SERVICE      VERSION');
  const keys = [...host.ports.keys()].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const key of keys) {
    const port = host.ports.get(key)!;
    const service = host.services.get(key);
    const version = [service?.product, service?.version, service?.extraInfo ? `(${service.extraInfo})` : undefined].filter(Boolean).join(' ');
    console.log(`${key.padEnd(10)} ${port.state.padEnd(14)} ${(service?.name ?? '').padEnd(12)} ${version}`.trimEnd());
  }
  console.log('');
}
for (const warning of warnings) console.log(`warning ${warning}`);
console.log(`${scans} scan(s), ${finished} finished${finished < scans ? ': the input was cut short' : ''}; ${hosts.size} host(s).`);

/**
 * A ping sweep that feeds a SYN scan: find which hosts are up, then SYN-scan
 * only those, as nmap does by default (and as a pipeline does when the sweep
 * and the port scan are separate steps).
 *
 * The "network" is this machine's loopback: 127.0.0.1, and ::1 where IPv6
 * is on. The script starts a TCP server on each and finds a port nothing
 * listens on, so each host has an open and a closed port.
 *
 * The sweep (ICMP echo, TCP SYN to 443, TCP ACK to 80) and the SYN scan need
 * raw sockets: root, or CAP_NET_RAW. Without them the script says so and
 * runs what the library allows instead: a SYN scan with `fallback: 'connect'`,
 * which becomes a connect scan whose discovery connects to ports 80 and 443.
 *
 * Traffic goes to 127.0.0.1 and ::1 only. Run with
 * `sudo npx tsx examples/ping-sweep-syn.ts` (or without sudo for the fallback).
 */
import { createServer, type Server } from 'node:net';
import { PortscoutError, discoverHosts, hasRawPermission, tcpSynScan, type ScanEvent } from '../src/index.js';

function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

const servers: Server[] = [];
async function serve(host: string): Promise<number | undefined> {
  const server = createServer((socket) => socket.destroy());
  try {
    const port = await listen(server, host);
    servers.push(server);
    return port;
  } catch {
    return undefined; // no IPv6 on this machine
  }
}

const open4 = (await serve('127.0.0.1'))!;
const open6 = await serve('::1');
const spare = createServer();
const closed = await listen(spare, '127.0.0.1');
await new Promise<void>((resolve) => spare.close(() => resolve()));

const targets = open6 === undefined ? ['127.0.0.1'] : ['127.0.0.1', '::1'];
const ports = [open4, ...(open6 === undefined ? [] : [open6]), closed].join(',');
const signal = AbortSignal.timeout(60_000);

function show(event: ScanEvent): void {
  if (event.type === 'host') {
    const how = [event.reason, event.ttl === undefined ? '' : `ttl ${event.ttl}`, event.rttMs === undefined ? '' : `${event.rttMs.toFixed(2)} ms`].filter(Boolean).join(', ');
    console.log(`  host ${event.address} is ${event.status} (${how}; ${event.method})`);
  } else if (event.type === 'port') {
    console.log(`  ${event.address} ${event.port}/${event.protocol} ${event.state} (${event.reason}; ${event.method})`);
  } else if (event.type === 'warning') {
    console.log(`  warning ${event.code}: ${event.message}`);
  }
}

try {
  const raw = hasRawPermission(4) && (open6 === undefined || hasRawPermission(6));
  if (raw) {
    console.log(`1. Ping sweep of ${targets.join(', ')}`);
    const up: string[] = [];
    for await (const event of discoverHosts({ targets, signal })) {
      show(event);
      if (event.type === 'host' && event.status === 'up') up.push(event.address);
    }
    console.log(`2. SYN scan of the ${up.length} host(s) up, ports ${ports}`);
    if (up.length > 0) {
      // The sweep already said these hosts are up: skip the scan's own discovery.
      for await (const event of tcpSynScan({ targets: up, ports, skipDiscovery: true, rate: 2000, signal })) show(event);
    }
  } else {
    console.log('Not root (no CAP_NET_RAW, or no raw-socket addon): the ICMP ping sweep and the SYN scan need raw sockets.');
    console.log(`Falling back to a connect scan of ${targets.join(', ')}, ports ${ports}; its discovery connects to ports 80 and 443.`);
    for await (const event of tcpSynScan({ targets, ports, fallback: 'connect', signal })) show(event);
  }
} catch (error) {
  console.error(error instanceof PortscoutError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}

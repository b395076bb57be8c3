/**
 * A custom scan script: the library finds the open ports, the script does
 * what it wants with them.
 *
 * It starts three small services on 127.0.0.1 that speak first (banners) and
 * finds a port nothing listens on, then:
 * 1. scans them with a connect scan (no root needed) under a host name that a
 *    resolver of its own maps to 127.0.0.1 (no DNS query leaves the machine),
 *    in a seeded random order, at most 500 connections a second, with
 *    progress events, and a deadline (an AbortSignal);
 * 2. stops after the first two results and keeps the scan's resume cursor
 *    (a pipeline would save it in a file), then resumes from it: every port
 *    is reported exactly once over the two runs;
 * 3. reads the banner of every open port itself, with `node:net`, and prints
 *    a table.
 *
 * Traffic goes to 127.0.0.1 only. Run with `npx tsx examples/custom-scan.ts`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { PortscoutError, tcpConnectScan, type ConnectScanOptions, type HostResolver, type PortEvent, type ScanCursor } from '../src/index.js';

const LOOPBACK = '127.0.0.1';
const BANNERS = ['SSH-2.0-demo_1.0 custom-scan example', '220 custom-scan.example ESMTP demo', '* OK [CAPABILITY IMAP4rev1] demo ready'];

const sockets = new Set<Socket>();
function banner(text: string): Server {
  return createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.end(`${text}\r\n`);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as { port: number }).port));
  });
}

/** A port nothing listens on: bound once by the kernel's choice, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Reads what a service says first, for at most `ms`. */
function readBanner(port: number, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: LOOPBACK, port });
    const done = (): void => {
      socket.destroy();
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    socket.setTimeout(ms, done);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) done();
    });
    socket.on('end', done);
    socket.on('error', done);
  });
}

const servers = BANNERS.map(banner);
const ports = await Promise.all(servers.map(listen));
const closed = await freePort();
const names = new Map(ports.map((port, i) => [port, BANNERS[i]!]));

// Only our lab name resolves; everything else is "not found" (a warning event, not a DNS query).
const labResolver: HostResolver = async (name) => {
  if (name === 'lab.example') return [LOOPBACK];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

const options: ConnectScanOptions = {
  targets: 'lab.example',
  resolve: labResolver,
  ports: [...ports, closed].join(','),
  skipDiscovery: true,
  order: { random: true, seed: 'custom-scan' },
  rate: 500,
  progressInterval: 50,
  signal: AbortSignal.timeout(30_000),
};

const results = new Map<number, PortEvent>();
const seen: number[] = [];
function take(event: PortEvent): void {
  seen.push(event.port);
  results.set(event.port, event);
  console.log(`  ${event.hostname ?? event.address}:${event.port} ${event.state} (${event.reason}, ${event.rttMs?.toFixed(2) ?? '-'} ms)`);
}

try {
  console.log(`Scanning lab.example (${LOOPBACK}) ports ${options.ports} in a random order (seed "custom-scan")`);
  console.log('Run 1: stop after two results');
  const first = tcpConnectScan(options);
  for await (const event of first) {
    if (event.type === 'progress') process.stderr.write(`  progress ${(event.fraction * 100).toFixed(0)}%\n`);
    if (event.type !== 'port') continue;
    take(event);
    if (results.size === 2) break; // leaving the loop stops the scan and releases its sockets
  }
  const cursor: ScanCursor | undefined = first.cursor();
  console.log(`  cursor: ${JSON.stringify(cursor)}`);

  console.log('Run 2: resume from the cursor');
  for await (const event of tcpConnectScan({ ...options, resume: cursor })) {
    if (event.type === 'port') take(event);
    if (event.type === 'done') console.log(`  done: ${event.stats.sent} connections in ${event.stats.durationMs.toFixed(0)} ms`);
  }

  const once = seen.length === ports.length + 1 && new Set(seen).size === seen.length;
  console.log(`Every port reported exactly once: ${once ? 'yes' : 'no'}`);

  console.log('\nPORT       STATE   BANNER');
  for (const port of [...results.keys()].sort((a, b) => a - b)) {
    const event = results.get(port)!;
    const text = event.state === 'open' ? await readBanner(port) : '';
    console.log(`${`${port}/tcp`.padEnd(10)} ${event.state.padEnd(7)} ${text}`);
    if (event.state === 'open' && text !== names.get(port)) throw new Error(`port ${port} said ${JSON.stringify(text)}`);
  }
  if (!once) process.exitCode = 1;
} catch (error) {
  console.error(error instanceof PortscoutError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}

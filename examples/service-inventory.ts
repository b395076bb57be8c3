/**
 * A service inventory as JSON Lines: service and version detection
 * (`detectServices`, nmap's `-sV`) of servers this script starts on
 * 127.0.0.1, every event written as one JSON document per line, as it
 * arrives, for `jq` or a log pipeline.
 *
 * The servers: Node's HTTP server, an SMTP-like and an FTP-like banner
 * (imitations of Postfix's and vsftpd's greetings, which the built-in probe
 * database names), a server that closes every connection at once
 * (`tcpwrapped`), and a port nothing listens on. No root needed.
 *
 * The lines go to stdout, or to the file given as the first argument; a
 * summary goes to stderr. The lines follow the package's JSON Schema,
 * `portscout/schema/portscout-events.schema.json`.
 *
 * Traffic goes to 127.0.0.1 only. Run with
 * `npx tsx examples/service-inventory.ts | jq -c 'select(.type == "service") | {port, name, product, version}'`.
 */
import { createWriteStream } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { PortscoutError, detectServices, writeJsonLines, type JsonLinesEvent } from '../src/index.js';

const LOOPBACK = '127.0.0.1';
const sockets = new Set<Socket>();
const servers: Server[] = [];

function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as { port: number }).port));
  });
}

const greeting = (text: string): Server => createServer((socket) => socket.write(`${text}\r\n`));

const http = await listen(
  createHttpServer((_request, response) => {
    response.setHeader('Content-Type', 'text/plain');
    response.end('inventory example\n');
  }) as unknown as Server,
);
const smtp = await listen(greeting('220 inventory.example ESMTP Postfix'));
const ftp = await listen(greeting('220 (vsFTPd 3.0.5)'));
const wrapped = await listen(createServer((socket) => socket.destroy()));
const spare = createServer();
spare.listen(0, LOOPBACK);
await new Promise((resolve) => spare.once('listening', resolve));
const closed = (spare.address() as { port: number }).port;
await new Promise<void>((resolve) => spare.close(() => resolve()));

const file = process.argv[2];
const sink = file === undefined ? process.stdout : createWriteStream(file);
const services: Extract<JsonLinesEvent, { type: 'service' }>[] = [];

try {
  const events = detectServices({
    targets: LOOPBACK,
    ports: [http, smtp, ftp, wrapped, closed].join(','),
    skipDiscovery: true,
    signal: AbortSignal.timeout(60_000),
  });
  // Keep the services for the summary while every event goes to the sink.
  async function* noting(source: AsyncIterable<JsonLinesEvent>): AsyncGenerator<JsonLinesEvent> {
    for await (const event of source) {
      if (event.type === 'service') services.push(event);
      yield event;
    }
  }
  const lines = await writeJsonLines(noting(events), sink, { end: file !== undefined });
  console.error(`${lines} JSON Lines written to ${file ?? 'stdout'}; services:`);
  for (const s of services.sort((a, b) => a.port - b.port)) {
    console.error(`  ${s.port}/${s.protocol} ${s.name}${s.product ? ` ${s.product}` : ''}${s.version ? ` ${s.version}` : ''}${s.soft ? ' (softmatch)' : ''}`);
  }
} catch (error) {
  console.error(error instanceof PortscoutError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}

/**
 * `npm start`: a real scan with version detection of a demonstration target
 * that this script starts on 127.0.0.1, printed as nmap's normal output.
 * No root needed (a connect scan), nothing leaves the machine.
 *
 * The target: Node's own HTTP and HTTPS servers, an SMTP-like and an
 * FTP-like banner, a port that refuses connections and one that accepts and
 * never speaks. The HTTPS server uses the public demonstration certificate in
 * `examples/demo-tls/`.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detectServices, writeNormalOutput } from '../src/index.js';

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

const sockets = new Set<Socket>();
const track = (socket: Socket): void => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
};

const http = createHttpServer((_request, response) => response.end('portscout demo\n')) as unknown as Server;
const https = createHttpsServer({ key: readFileSync(here('./demo-tls/key.pem')), cert: readFileSync(here('./demo-tls/cert.pem')) }, (_request, response) => response.end('portscout demo over TLS\n')) as unknown as Server;
https.on('tlsClientError', () => {});
const smtp = createTcpServer((socket) => {
  track(socket);
  socket.write('220 demo.localhost ESMTP Postfix (Debian/GNU)\r\n');
  socket.on('data', () => socket.write('502 5.5.2 Error: command not recognized\r\n'));
});
const ftp = createTcpServer((socket) => {
  track(socket);
  socket.write('220 (vsFTPd 3.0.3)\r\n');
  socket.on('data', () => socket.write('530 Please login with USER and PASS.\r\n'));
});
const silent = createTcpServer(track);
for (const server of [http, https]) server.on('connection', track);

const servers = [http, https, smtp, ftp, silent];
const ports = [];
for (const server of servers) ports.push(await listen(server));
// A refused port: one we listened on and closed again.
const probe = createTcpServer();
const refused = await listen(probe);
await new Promise((resolve) => probe.close(resolve));
ports.push(refused);

process.stderr.write(`portscout demo: servers on 127.0.0.1 ports ${ports.join(', ')} (HTTP, HTTPS, SMTP, FTP, silent, refused)\n`);
try {
  const events = detectServices({ targets: '127.0.0.1', ports: ports.join(','), skipDiscovery: true });
  await writeNormalOutput(events, process.stdout, { serviceDetection: true, args: `portscout -sV -Pn -p ${ports.join(',')} 127.0.0.1` });
} finally {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
}

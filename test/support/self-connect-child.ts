/**
 * One connection attempt to 127.0.0.1:<port> made the way <mode> says, in a
 * network namespace whose only ephemeral port is <port> (the test sets that
 * up), so the kernel can only self-connect:
 *   node --import tsx test/support/self-connect-child.ts <mode> <port>
 * Modes: thread (net.Socket on this thread), handle (a worker with Node's TCP
 * handle), socket (a worker with net.Socket), scan (a whole connect scan).
 * Prints one JSON line: what the attempt read, and the local port the kernel offers.
 */
import { ConnectWorkerPool, connectAttempt } from '../../src/transport/connect-attempts.js';
import { tcpConnectScan } from '../../src/index.js';

const mode = process.argv[2] ?? 'thread';
const port = Number(process.argv[3]);
const target = { family: 4 as const, address: '127.0.0.1', port };
let reading: unknown;
if (mode === 'thread') {
  reading = await connectAttempt(target, 2000, new Set());
} else if (mode === 'handle' || mode === 'socket') {
  const pool = new ConnectWorkerPool(1, (error) => console.error(error), { netSockets: mode === 'socket' });
  reading = await pool.attempt(target, 2000);
  await pool.close();
} else {
  const events = [];
  for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: String(port), skipDiscovery: true, maxRetries: 0 })) {
    if (event.type === 'port' || event.type === 'warning') events.push({ type: event.type, state: (event as { state?: string }).state, message: (event as { message?: string }).message });
  }
  reading = events;
}
console.log(JSON.stringify({ mode, reading }));

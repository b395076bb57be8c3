/**
 * A connect scan of 127.0.0.1 (all ports, on worker threads) that stops early:
 *   node --import tsx test/support/connect-scan-child.ts break|abort
 * prints one JSON line and then returns; the process must exit by itself.
 */
import { tcpConnectScan } from '../../src/index.js';

const how = process.argv[2] === 'abort' ? 'abort' : 'break';
const controller = new AbortController();
let ports = 0;
let outcome = 'finished';
try {
  for await (const event of tcpConnectScan({ targets: '127.0.0.1', ports: '1-65535', skipDiscovery: true, workers: 2, signal: controller.signal })) {
    if (event.type !== 'port') continue;
    ports++;
    if (ports === 5 && how === 'break') {
      outcome = 'left';
      break;
    }
    if (ports === 5) controller.abort();
  }
} catch (error) {
  outcome = (error as Error).name;
}
console.log(JSON.stringify({ how, outcome, ports }));

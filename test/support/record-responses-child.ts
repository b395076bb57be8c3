/**
 * Records what real servers answer to probes of portscout's own database,
 * run in the scanner namespace by test/service/own-database.test.ts:
 *   node --import tsx test/support/record-responses-child.ts '<json>'
 * where json is { "address": "198.18.1.10", "items": [{ "protocol": "tcp", "port": 6379, "probe": "RedisInfoServer" }] }.
 * Prints one JSON line per item: { protocol, port, probe, end, hex }.
 */
import { defaultServiceProbes } from '../../src/service/default-probes.js';
import { exchange } from '../../src/service/probe-exchange.js';

const request = JSON.parse(process.argv[2] ?? '{}') as { address: string; items: { protocol: 'tcp' | 'udp'; port: number; probe: string }[] };
const db = defaultServiceProbes();
await Promise.all(
  request.items.map(async (item) => {
    const probe = db.probes.find((p) => p.name === item.probe && p.protocol === item.protocol);
    if (!probe) {
      process.stdout.write(`${JSON.stringify({ ...item, end: 'no such probe', hex: '' })}\n`);
      return;
    }
    const r = await exchange({ address: request.address, family: 4, port: item.port }, { protocol: item.protocol, payload: probe.payload, waitMs: 2_000 });
    process.stdout.write(`${JSON.stringify({ ...item, end: r.end, hex: Buffer.from(r.bytes).toString('hex') })}\n`);
  }),
);

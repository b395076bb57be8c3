// temporary: keep a lab up for experiments (bounded: 40 min), tear down on signal
import { createLab } from './test/lab/lab.js';
import { writeFileSync } from 'node:fs';
const lab = await createLab({ loss: 0 });
writeFileSync('/tmp/exp/lab.json', JSON.stringify({ scan: lab.scanner.ns, t1: lab.t1.ns, t2: lab.t2.ns, t1ip: lab.t1.ipv4[0] }));
console.log('up', lab.scanner.ns);
const end = async () => { await lab.destroy(); console.log('down'); process.exit(0); };
process.on('SIGTERM', end); process.on('SIGINT', end);
setTimeout(end, 40 * 60_000);

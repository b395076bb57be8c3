/**
 * bench/engine: the JavaScript cost of the raw scan path per probe, without
 * syscalls or a network. A SYN scan of 65535 ports runs through the real
 * listener demultiplexer (`dispatch`), the TCP probe module, the probe engine
 * and its event queue; the "network" answers every probe with an RST+ACK built
 * into one reused buffer (as raw-socket reuses its receive buffer), delivered
 * on the next turn of the event loop as a batch, as the kernel's replies are.
 *
 * Nothing is sent and no root is needed:
 *   npx tsx bench/engine.ts   (or npm run bench:engine)
 *
 * What it tells: microseconds of main-thread JavaScript per probe (send side
 * plus reply side plus the event). In the lab the kernel adds about 9 us per
 * send and 2 us per read on top (see bench/scan), so this is the part
 * portscout controls. No target is set; the figure guides the SYN scan target.
 */
import { acquireListener, dispatch, type ListenProtocol, type ListenerLease, type RawReply } from '../src/transport/packet-listener.js';
import { ScanEngine } from '../src/scan/scan-engine.js';
import type { ProbeTarget } from '../src/scan/probe-module.js';
import { createRawProber } from '../src/scan/raw-prober.js';
import { STEADY_POLICY } from '../src/scan/retry-policy.js';
import { createTcpProbeModule } from '../src/scan/tcp-probe.js';
import { portEvent } from '../src/scan/event-builders.js';
import { toProbeTarget } from '../src/scan/probe-targets.js';
import { resolveTiming } from '../src/transport/timing.js';
import { planScan } from '../src/targets/index.js';
import { IPV4_HEADER_LENGTH, Ipv4Field, TcpField, TcpFlags, internetChecksum, pseudoHeaderSum } from '../src/wire/index.js';

const SOURCE = '198.18.1.1';
const TARGET = '198.18.1.10';
const PORTS = 65535;

/** A lease that registers with the real listener but answers sends itself, on the next turn. */
function loopbackAcquire(protocols: readonly ListenProtocol[], sink: { onReply(reply: RawReply): void }): ListenerLease {
  const real = acquireListener(protocols, sink);
  const pending: number[] = [];
  let scheduled = false;
  const reply = new Uint8Array(40);
  const flush = (): void => {
    scheduled = false;
    for (let i = 0; i < pending.length; i += 3) {
      const sourcePort = pending[i] as number;
      const port = pending[i + 1] as number;
      const sequence = pending[i + 2] as number;
      // IPv4 header (no options), target -> scanner; the TCP header follows it.
      reply.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 18, 1, 10, 198, 18, 1, 1]);
      const view = new DataView(reply.buffer);
      const tcp = IPV4_HEADER_LENGTH;
      view.setUint16(tcp + TcpField.SOURCE_PORT.start, port);
      view.setUint16(tcp + TcpField.DESTINATION_PORT.start, sourcePort);
      view.setUint32(tcp + TcpField.SEQUENCE.start, 0);
      view.setUint32(tcp + TcpField.ACKNOWLEDGMENT.start, (sequence + 1) >>> 0);
      view.setUint8(tcp + TcpField.DATA_OFFSET_FLAGS.start, 0x50);
      view.setUint8(tcp + TcpField.DATA_OFFSET_FLAGS.start + 1, TcpFlags.RST | TcpFlags.ACK);
      view.setUint16(tcp + TcpField.WINDOW.start, 0);
      // A real checksum: the scan drops replies whose checksum is wrong.
      view.setUint16(tcp + TcpField.CHECKSUM.start, 0);
      view.setUint16(tcp + TcpField.CHECKSUM.start, internetChecksum(reply, tcp, reply.length, pseudoHeaderSum(reply.subarray(Ipv4Field.SOURCE.start, Ipv4Field.SOURCE.end), reply.subarray(Ipv4Field.DESTINATION.start, Ipv4Field.DESTINATION.end), 6, reply.length - tcp)));
      dispatch(4, 'tcp', reply, TARGET);
    }
    pending.length = 0;
  };
  return {
    portBase: real.portBase,
    portCount: real.portCount,
    icmpIdBase: real.icmpIdBase,
    icmpIdCount: real.icmpIdCount,
    counters: real.counters,
    send(_family, _protocol, packet, _address, done) {
      // An IPv4 SYN probe: a 20-byte IP header, then the TCP header.
      const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
      const tcp = IPV4_HEADER_LENGTH;
      pending.push(view.getUint16(tcp + TcpField.SOURCE_PORT.start), view.getUint16(tcp + TcpField.DESTINATION_PORT.start), view.getUint32(tcp + TcpField.SEQUENCE.start));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      done(null);
    },
    release: () => real.release(),
  };
}

async function once(): Promise<{ ms: number; events: number; closed: number }> {
  const plan = await planScan({ targets: TARGET, ports: `1-${PORTS}` });
  function* targets(): Generator<ProbeTarget> {
    let bytes: Uint8Array | undefined;
    for (const pair of plan.pairs()) {
      const target = toProbeTarget(pair, 'tcp', pair.port, pair.position, bytes);
      bytes = target.addressBytes;
      yield target;
    }
  }
  const engine = new ScanEngine(
    createRawProber(createTcpProbeModule('syn'), { acquire: loopbackAcquire, sources: { cached: () => SOURCE, resolve: async () => SOURCE } }),
    { timing: resolveTiming({ timing: 'T4' }), rate: Infinity, maxInFlight: 4096, queueCapacity: 1024, policy: STEADY_POLICY, phase: 'ports', total: PORTS },
    (target, outcome, rttMs) => portEvent(target, outcome, rttMs, 'syn'),
  );
  const start = performance.now();
  let events = 0;
  let closed = 0;
  for await (const event of engine.run(targets())) {
    events++;
    if (event.type === 'port' && event.state === 'closed') closed++;
  }
  return { ms: performance.now() - start, events, closed };
}

async function main(): Promise<void> {
  await once(); // warm up the JIT
  const runs: number[] = [];
  let last = { ms: 0, events: 0, closed: 0 };
  for (let i = 0; i < 5; i++) {
    last = await once();
    runs.push(last.ms);
  }
  if (last.closed !== PORTS) throw new Error(`expected ${PORTS} closed ports, got ${last.closed} of ${last.events} events`);
  runs.sort((a, b) => a - b);
  const best = runs[0] as number;
  const median = runs[2] as number;
  console.log(`SYN scan of ${PORTS} ports through listener, module, engine and events, no syscalls:`);
  console.log(`  best ${best.toFixed(0)} ms, median ${median.toFixed(0)} ms: ${((best * 1000) / PORTS).toFixed(2)} us per probe (best), ${((PORTS / best) * 1000).toFixed(0)} probes/s`);
}

await main();

/**
 * Port-by-port comparison of a scanner's results with nmap's view of the same host.
 *
 * @module
 */
import type { NmapHost } from './nmap.js';

/**
 * A port result to compare with nmap (any scanner's event fits).
 *
 * @example
 * ```ts
 * const ours: ComparablePort[] = [{ protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack' }];
 * ```
 */
export interface ComparablePort {
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** Port number. */
  readonly port: number;
  /** State in nmap's words (`open`, `closed`, `filtered`, `unfiltered`, `open|filtered`, `closed|filtered`). */
  readonly state: string;
  /** Reason in nmap's words; compared only when given. */
  readonly reason?: string;
}

/**
 * The ports that were scanned, per protocol.
 *
 * @example
 * ```ts
 * const scanned: ScannedPorts = { tcp: [22, 80], udp: [53] };
 * ```
 */
export interface ScannedPorts {
  /** Scanned TCP ports. */
  readonly tcp?: readonly number[];
  /** Scanned UDP ports. */
  readonly udp?: readonly number[];
}

/**
 * Options of {@link comparePortStates}.
 *
 * @example
 * ```ts
 * comparePortStates(host, ours, scanned, { reasons: false } satisfies ComparePortOptions);
 * ```
 */
export interface ComparePortOptions {
  /** Compare reasons as well as states (only where `ours` gives a reason). Default `true`. */
  readonly reasons?: boolean;
}

const key = (protocol: string, port: number): string => `${protocol}/${port}`;

/**
 * Compares `ours` with what nmap reported for one host and returns the differences
 * as human-readable lines (empty array = identical).
 *
 * Ports nmap listed one by one must have exactly the same state (and reason, when
 * `ours` gives one). Ports nmap folded into `<extraports>` must, taken together,
 * have the same states with the same counts (and per-reason counts, where both
 * sides give reasons). Every scanned port must appear in `ours` exactly once, and
 * `ours` must not report ports that were not scanned.
 *
 * @example
 * ```ts
 * const diffs = comparePortStates(nmapHost, events, { tcp: [22, 80, 8081] });
 * expect(diffs).toEqual([]);
 * ```
 */
export function comparePortStates(
  nmapHost: NmapHost,
  ours: readonly ComparablePort[],
  scannedPorts: ScannedPorts,
  opts: ComparePortOptions = {},
): string[] {
  const withReasons = opts.reasons ?? true;
  const diffs: string[] = [];
  const host = nmapHost.address;

  const scanned = new Map<string, { protocol: 'tcp' | 'udp'; port: number }>();
  for (const port of scannedPorts.tcp ?? []) scanned.set(key('tcp', port), { protocol: 'tcp', port });
  for (const port of scannedPorts.udp ?? []) scanned.set(key('udp', port), { protocol: 'udp', port });

  const mine = new Map<string, ComparablePort>();
  for (const p of ours) {
    const k = key(p.protocol, p.port);
    if (mine.has(k)) diffs.push(`${host} ${k}: reported more than once by us`);
    else mine.set(k, p);
    if (!scanned.has(k)) diffs.push(`${host} ${k}: reported by us but not scanned`);
  }

  const listed = new Set<string>();
  for (const np of nmapHost.ports) {
    const k = key(np.protocol, np.port);
    listed.add(k);
    if (!scanned.has(k)) {
      diffs.push(`${host} ${k}: listed by nmap (${np.state} ${np.reason}) but not in the scanned ports`);
      continue;
    }
    const p = mine.get(k);
    if (p === undefined) {
      diffs.push(`${host} ${k}: missing from our results; nmap says ${np.state} (${np.reason})`);
    } else if (p.state !== np.state) {
      diffs.push(`${host} ${k}: state ${p.state}${p.reason ? ` (${p.reason})` : ''}, nmap says ${np.state} (${np.reason})`);
    } else if (withReasons && p.reason !== undefined && p.reason !== np.reason) {
      diffs.push(`${host} ${k}: ${p.state} with reason ${p.reason}, nmap's reason is ${np.reason}`);
    }
  }

  // Scanned ports nmap folded into <extraports>: compare per state and per reason.
  const extraStates = new Map(nmapHost.extraPorts.map((e) => [e.state, e]));
  const byState = new Map<string, ComparablePort[]>();
  for (const [k] of scanned) {
    if (listed.has(k)) continue;
    const p = mine.get(k);
    if (p === undefined) {
      diffs.push(`${host} ${k}: missing from our results; nmap folded it into ${describeExtra(nmapHost)}`);
      continue;
    }
    if (!extraStates.has(p.state)) {
      diffs.push(`${host} ${k}: state ${p.state}${p.reason ? ` (${p.reason})` : ''}, but nmap did not list it and has no "${p.state}" extraports (${describeExtra(nmapHost)})`);
      continue;
    }
    const list = byState.get(p.state) ?? [];
    list.push(p);
    byState.set(p.state, list);
  }
  for (const extra of nmapHost.extraPorts) {
    const group = byState.get(extra.state) ?? [];
    if (group.length !== extra.count) {
      diffs.push(`${host} extraports ${extra.state}: nmap ${extra.count} ports, ours ${group.length}`);
      continue;
    }
    if (!withReasons || extra.reasons.length === 0 || group.some((p) => p.reason === undefined)) continue;
    const theirs = new Map<string, number>();
    const protocolAware = extra.reasons.every((r) => r.protocol !== undefined);
    for (const r of extra.reasons) {
      const rk = protocolAware ? `${r.protocol}:${r.reason}` : r.reason;
      theirs.set(rk, (theirs.get(rk) ?? 0) + r.count);
    }
    const counted = new Map<string, number>();
    for (const p of group) {
      const rk = protocolAware ? `${p.protocol}:${p.reason}` : (p.reason ?? '');
      counted.set(rk, (counted.get(rk) ?? 0) + 1);
    }
    for (const rk of new Set([...theirs.keys(), ...counted.keys()])) {
      const a = counted.get(rk) ?? 0;
      const b = theirs.get(rk) ?? 0;
      if (a !== b) diffs.push(`${host} extraports ${extra.state} reason ${rk}: nmap ${b} ports, ours ${a}`);
    }
  }
  return diffs;
}

function describeExtra(h: NmapHost): string {
  if (h.extraPorts.length === 0) return 'no extraports';
  return h.extraPorts.map((e) => `${e.count} ${e.state} [${e.reasons.map((r) => `${r.count} ${r.reason}`).join(', ')}]`).join('; ');
}

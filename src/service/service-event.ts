/**
 * The `service` event: what service detection learned about one port.
 *
 * @module
 */
import type { ScanEvent } from '../scan/index.js';
import type { VersionFields } from './match-response.js';

/**
 * A port's service, as service detection found it (nmap's `-sV` fields).
 *
 * @example
 * ```ts
 * const event: ServiceEvent = { type: 'service', address: '127.0.0.1', family: 4, protocol: 'tcp', port: 22, name: 'ssh', product: 'OpenSSH', cpe: [], method: 'probed', confidence: 10, soft: false };
 * ```
 */
export interface ServiceEvent extends VersionFields {
  readonly type: 'service';
  readonly address: string;
  readonly family: 4 | 6;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  /** The service name (`ssh`, `http`, `tcpwrapped`, or the services table's name for `method: 'table'`). */
  readonly name: string;
  /** `ssl` when the service was found through TLS. */
  readonly tunnel?: 'ssl';
  /** `probed`: a rule matched an answer (confidence 10); `table`: the port's usual service (confidence 3). */
  readonly method: 'probed' | 'table';
  readonly confidence: 10 | 3;
  /** The probe whose answer matched. */
  readonly probe?: string;
  /** Whether the name came from a softmatch (no version). */
  readonly soft: boolean;
  /** The file and line of the rule that matched. */
  readonly rule?: { readonly source: string; readonly line: number };
  /**
   * Rules that ran past the matching budget (`matchBudgetMs`) on this port's
   * answers and counted as no match: a hostile or unusual answer. Absent when none did.
   */
  readonly overBudget?: readonly { readonly source: string; readonly line: number }[];
  /**
   * nmap's submission fingerprint (`SF-Port…` lines, joined with `\n`) of a
   * port that answered but got no hard match, at intensity 7 or more, so the
   * service can be reported and a rule written for it.
   */
  readonly fingerprint?: string;
}

/** What `detectServices` yields: the scan's events, unchanged, and `service` events. */
export type DetectionEvent = ScanEvent | ServiceEvent;

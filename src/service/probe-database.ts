/**
 * The shapes of a service probe database (the `nmap-service-probes`
 * format, parsed by `probe-file.ts`): probes, each with its match rules in
 * file order, and where every rule came from.
 *
 * @module
 */
import type { TranslatedPattern } from './pcre-pattern.js';

/** Inclusive port ranges, sorted as written. */
export type PortRanges = readonly (readonly [number, number])[];

/** The version fields of a match rule, as templates (`$1`, `$P(2)`, ...). */
export interface VersionTemplates {
  /** `p/.../`: the product name. */
  readonly product?: string;
  /** `v/.../` */
  readonly version?: string;
  /** `i/.../`: extra information. */
  readonly info?: string;
  /** `h/.../` */
  readonly hostname?: string;
  /** `o/.../`: the operating system. */
  readonly osType?: string;
  /** `d/.../`: the device type. */
  readonly deviceType?: string;
  /** `cpe:/.../` (the `a` suffix is dropped; each is a template). */
  readonly cpe: readonly string[];
}

/** One `match` or `softmatch` line. */
export interface MatchRule {
  /** The service name (`ssh`, `http`, `ssl/http`). */
  readonly service: string;
  /** Whether it is a `softmatch` (the service, not the version, and later probes narrowed to it). */
  readonly soft: boolean;
  /** The pattern as written (PCRE syntax). */
  readonly pattern: string;
  /** nmap's `i` and `s` options. */
  readonly caseless: boolean;
  readonly dotAll: boolean;
  /** The pattern translated to a JavaScript regular expression with PCRE's semantics. */
  readonly compiled: TranslatedPattern;
  readonly templates: VersionTemplates;
  /** The file and line it came from. */
  readonly source: string;
  readonly line: number;
}

/** One `Probe` with its directives and match rules. */
export interface ServiceProbe {
  readonly protocol: 'tcp' | 'udp';
  readonly name: string;
  /** What the probe sends (empty for the NULL probe, which only listens). */
  readonly payload: Uint8Array;
  /** `no-payload`: the probe is for matching only (nmap's UDP probes that the payload file sends). */
  readonly noPayload: boolean;
  /** `ports`: the ports the probe is tried first on. */
  readonly ports: PortRanges;
  /** `sslports`: the ports it is tried first on through TLS. */
  readonly sslPorts: PortRanges;
  /** `totalwaitms`: how long to wait for the answer; undefined for nmap's default (5 s). */
  readonly totalWaitMs: number | undefined;
  /** `tcpwrappedms`: a connection closed by the service within this time is `tcpwrapped` (NULL probe). */
  readonly tcpWrappedMs: number | undefined;
  /** `rarity` 1-9: probes above the scan's intensity are not sent (except on their ports). */
  readonly rarity: number;
  /** `fallback`: the probes whose rules also apply to this probe's answer, in order. */
  readonly fallback: readonly string[];
  readonly matches: readonly MatchRule[];
  readonly source: string;
  readonly line: number;
}

/** A parsed database. */
export interface ServiceProbeDatabase {
  readonly probes: readonly ServiceProbe[];
  /** `Exclude`: ports no probe is sent to. */
  readonly exclude: { readonly tcp: PortRanges; readonly udp: PortRanges };
  /** Where it came from (a path, or a name). */
  readonly source: string;
}

/** A problem found in a probe file: the line is skipped (or the rule dropped) and parsing goes on. */
export interface ProbeFileDiagnostic {
  readonly source: string;
  readonly line: number;
  readonly message: string;
}

/** Whether `port` is in `ranges`. */
export function inPortRanges(ranges: PortRanges, port: number): boolean {
  for (const [low, high] of ranges) if (port >= low && port <= high) return true;
  return false;
}

/**
 * Matching a response against a probe database, in nmap's order: the rules
 * of the probe that got the response, in file order, then those of its
 * `fallback` probes left to right, then (TCP) those of the NULL probe. The
 * first hard match wins; otherwise the first softmatch is the answer. It is
 * pure: it runs on any bytes, banners captured elsewhere too.
 *
 * @module
 */
import type { MatchRule, ServiceProbe, ServiceProbeDatabase } from './probe-database.js';
import { cleanField, fillTemplate, type MatchGroups } from './version-template.js';

/** The version fields nmap reports for a service (its rule's `p v i h o d` and `cpe:` filled). */
export interface VersionFields {
  readonly product?: string;
  readonly version?: string;
  readonly extraInfo?: string;
  readonly hostname?: string;
  readonly osType?: string;
  readonly deviceType?: string;
  /** CPE names (`cpe:/a:openbsd:openssh:9.2p1`), lowercased, substituted values escaped. */
  readonly cpe: readonly string[];
}

/** What a response matched. */
export interface ServiceMatch extends VersionFields {
  /** The service name (`ssh`, `http`). */
  readonly name: string;
  /** Whether it came from a softmatch (the service, no version). */
  readonly soft: boolean;
  /** The probe whose rule matched (a fallback's or the NULL probe's name when the rule came from there). */
  readonly probe: string;
  /** The file and line of the rule. */
  readonly source: string;
  readonly line: number;
}

/**
 * Bytes of a response matched at most, as nmap reads at most this much of
 * one (longer responses are cut, so no pattern runs over more).
 */
export const MAX_MATCHED_BYTES = 64 * 1024;

/** The probes whose rules apply to a response to `probe`, in nmap's order. */
export function matchingChain(database: ServiceProbeDatabase, probe: ServiceProbe): ServiceProbe[] {
  const byName = (name: string): ServiceProbe | undefined => database.probes.find((p) => p.name === name && p.protocol === probe.protocol) ?? database.probes.find((p) => p.name === name);
  const chain: ServiceProbe[] = [probe];
  for (const name of probe.fallback) {
    const fallback = byName(name);
    if (fallback && !chain.includes(fallback)) chain.push(fallback);
  }
  if (probe.protocol === 'tcp') {
    const nullProbe = database.probes.find((p) => p.protocol === 'tcp' && p.name === 'NULL');
    if (nullProbe && !chain.includes(nullProbe)) chain.push(nullProbe);
  }
  return chain;
}

/** The groups of a rule's match, by PCRE group number. */
function groupsOf(rule: MatchRule, result: RegExpExecArray): MatchGroups {
  const groups: (string | undefined)[] = [result[0]];
  const map = rule.compiled.groupMap;
  for (let n = 1; n < map.length; n++) groups.push(result[map[n] as number]);
  return groups;
}

/** A rule's fields filled from its match. */
function filled(rule: MatchRule, probe: string, groups: MatchGroups): ServiceMatch {
  const t = rule.templates;
  const field = (template: string | undefined): string | undefined => (template === undefined ? undefined : cleanField(fillTemplate(template, groups)));
  const match: { -readonly [K in keyof ServiceMatch]: ServiceMatch[K] } = {
    name: rule.service,
    soft: rule.soft,
    cpe: t.cpe.map((template) => `cpe:/${fillTemplate(template, groups, { cpe: true }).toLowerCase()}`),
    probe,
    source: rule.source,
    line: rule.line,
  };
  const set = (key: 'product' | 'version' | 'extraInfo' | 'hostname' | 'osType' | 'deviceType', value: string | undefined): void => {
    if (value !== undefined) match[key] = value;
  };
  set('product', field(t.product));
  set('version', field(t.version));
  set('extraInfo', field(t.info));
  set('hostname', field(t.hostname));
  set('osType', field(t.osType));
  set('deviceType', field(t.deviceType));
  return match;
}

/**
 * Matches a response to the probe `probeName` (of `protocol`, TCP by
 * default) against the database: the first hard match in nmap's order, or
 * the first softmatch, or undefined. The bytes are read as latin1, at most
 * {@link MAX_MATCHED_BYTES} of them.
 *
 * @example
 * ```ts
 * const { database } = parseServiceProbes('Probe TCP NULL q||\nmatch ssh m|^SSH-([\\d.]+)-| p/SSH/ i/protocol $1/\n');
 * matchServiceResponse(database, 'NULL', Buffer.from('SSH-2.0-Example\r\n'));
 * // { name: 'ssh', soft: false, product: 'SSH', extraInfo: 'protocol 2.0', ... }
 * ```
 */
export function matchServiceResponse(
  database: ServiceProbeDatabase,
  probeName: string,
  bytes: Uint8Array,
  options: { readonly protocol?: 'tcp' | 'udp' } = {},
): ServiceMatch | undefined {
  const protocol = options.protocol ?? 'tcp';
  const probe = database.probes.find((p) => p.name === probeName && p.protocol === protocol);
  if (!probe) return undefined;
  const length = Math.min(bytes.length, MAX_MATCHED_BYTES);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
  let soft: ServiceMatch | undefined;
  for (const from of matchingChain(database, probe)) {
    for (const rule of from.matches) {
      if (rule.soft && soft) continue;
      const regex = rule.compiled.regex;
      regex.lastIndex = 0;
      const result = regex.exec(text);
      if (!result) continue;
      const match = filled(rule, from.name, groupsOf(rule, result));
      if (!rule.soft) return match;
      soft = match;
    }
  }
  return soft;
}

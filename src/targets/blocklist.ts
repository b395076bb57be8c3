/**
 * Blocklists: address blocks removed from a target list before anything is
 * sent, in zmap's blocklist format (one address, range or CIDR block per
 * line; `#` starts a comment). See `default-blocklist.ts` for the default
 * and when it applies.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { ALWAYS_BLOCKED, BLOCKLIST_THRESHOLD, DEFAULT_BLOCKLIST } from './default-blocklist.js';
import { parseTargetList, TargetSetBuilder, type TargetSet } from './target-set.js';

/**
 * A blocklist in zmap's format, as a set of addresses. Host names are not
 * allowed (a blocklist must not depend on DNS).
 *
 * Throws `ERR_INVALID_OPTION` naming the line that cannot be read.
 *
 * @example
 * ```ts
 * const blocked = parseBlocklist('10.0.0.0/8  # private\n192.0.2.1\n');
 * blocked.has('10.1.2.3'); // true
 * ```
 */
export function parseBlocklist(text: string, source = 'blocklist'): TargetSet {
  const builder = new TargetSetBuilder();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const fail = (why: string): never => {
      throw new PortscoutError('ERR_INVALID_OPTION', `${source} line ${index + 1} ${JSON.stringify(raw.trim())}: ${why}. Expected one address, range or CIDR block per line, # for comments (zmap's format).`);
    };
    let specs;
    try {
      specs = parseTargetList(line);
    } catch (error) {
      return fail(error instanceof Error ? error.message : String(error));
    }
    for (const spec of specs) {
      if (spec.kind === 'hostname') fail('host names are not allowed in a blocklist');
      else builder.addSpec(spec);
    }
  });
  return builder.build();
}

let defaultSet: TargetSet | undefined;
let alwaysSet: TargetSet | undefined;

/**
 * The blocks to remove from a target list of `count` addresses, under the
 * `blocklist` option: the default (undefined) is the whole default list for
 * lists of more than 2^24 addresses and multicast and broadcast for every
 * list; a string is the user's list (zmap format) for every list, plus
 * multicast and broadcast; `false` removes nothing.
 *
 * @example
 * ```ts
 * blocklistFor(undefined, 2n ** 32n); // the default list
 * ```
 */
export function blocklistFor(option: string | false | undefined, count: bigint): { set: TargetSet; what: string } | undefined {
  if (option === false) return undefined;
  if (typeof option === 'string') return { set: parseBlocklist(`${option}\n${ALWAYS_BLOCKED.join('\n')}`), what: 'the given blocklist (with multicast and broadcast)' };
  if (count > BLOCKLIST_THRESHOLD) return { set: (defaultSet ??= parseBlocklist(DEFAULT_BLOCKLIST, 'default blocklist')), what: 'the default blocklist (IANA special-purpose ranges, multicast, broadcast)' };
  return { set: (alwaysSet ??= parseBlocklist(ALWAYS_BLOCKED.join('\n'), 'default blocklist')), what: 'the multicast and broadcast blocks' };
}

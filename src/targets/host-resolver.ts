/**
 * Host-name resolution for target lists: the signature planScan() accepts and
 * the default, which asks the operating system (`node:dns` lookup: /etc/hosts,
 * then DNS).
 *
 * @module
 */
import { lookup } from 'node:dns/promises';

/**
 * Which address family a host name is resolved to: A records (4), AAAA (6), or both.
 *
 * @example
 * ```ts
 * const family: ResolveFamily = 'any';
 * ```
 */
export type ResolveFamily = 4 | 6 | 'any';

/**
 * Resolves a host name to addresses (text) of the asked family, first
 * preferred; rejects when the name does not resolve.
 *
 * @example
 * ```ts
 * const fixed: HostResolver = async (name) => (name === 'lab-host' ? ['198.18.0.7'] : Promise.reject(new Error('ENOTFOUND')));
 * ```
 */
export type HostResolver = (name: string, family: ResolveFamily) => Promise<string[]>;

/**
 * The default resolver: `dns.lookup(name, { all: true })` with the family
 * asked (A records for 4, AAAA for 6, both for `'any'`), in the order the
 * system returns them.
 *
 * @example
 * ```ts
 * await systemResolver('localhost', 4); // ['127.0.0.1']
 * ```
 */
export const systemResolver: HostResolver = async (name, family) => {
  const answers = await lookup(name, { all: true, family: family === 'any' ? 0 : family });
  return answers.map((answer) => answer.address);
};

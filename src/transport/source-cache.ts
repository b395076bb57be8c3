/**
 * A cache of the kernel's source address choice per destination network.
 *
 * Raw probes carry their source address (it is part of the TCP and UDP
 * checksums), so the scanner asks the kernel which local address it would use
 * ({@link pickSourceAddress}) once per destination /24 (IPv4) or /64 (IPv6)
 * and reuses the answer for the rest of that network. A route more specific
 * than those prefixes, towards a different interface, is not seen.
 *
 * @module
 */
import { PortscoutError } from '../errors.js';
import { pickSourceAddress } from './source-address.js';

/** What the cache needs to know of a destination. */
export interface SourceLookupTarget {
  readonly family: 4 | 6;
  readonly address: string;
  /** 4 or 16 bytes. */
  readonly addressBytes: Uint8Array;
}

function prefixKey(target: SourceLookupTarget): number | string {
  const b = target.addressBytes;
  // IPv4: the /24 as a number (no string per lookup: a scan asks once per probe).
  if (target.family === 4) return ((b[0] as number) << 16) | ((b[1] as number) << 8) | (b[2] as number);
  let key = '6:';
  for (let i = 0; i < 8; i++) key += (b[i] as number).toString(16).padStart(2, '0');
  return key;
}

/**
 * Source address per destination network, looked up once.
 *
 * @example
 * ```ts
 * const cache = new SourceAddressCache((prefix, err) => console.warn(err.message));
 * const source = cache.cached(target) ?? (await cache.resolve(target));
 * ```
 */
export class SourceAddressCache {
  private readonly known = new Map<number | string, string | null>();
  /** The last lookup (consecutive probes usually go to one host, whose address bytes are one array). */
  private lastBytes: Uint8Array | undefined;
  private lastSource: string | undefined;

  /**
   * @param onNoRoute called once per destination network without a route
   * @param pick the lookup (injectable for tests)
   */
  constructor(
    private readonly onNoRoute: (target: SourceLookupTarget, error: PortscoutError) => void = () => {},
    private readonly pick: (destination: string, family: 4 | 6) => Promise<string> = pickSourceAddress,
  ) {}

  /** The cached source for the target's network; undefined when unknown or unroutable. */
  cached(target: SourceLookupTarget): string | undefined {
    if (target.addressBytes === this.lastBytes) return this.lastSource;
    const source = this.known.get(prefixKey(target)) ?? undefined;
    if (source !== undefined) {
      this.lastBytes = target.addressBytes;
      this.lastSource = source;
    }
    return source;
  }

  /** Asks the kernel; resolves undefined (after reporting it once) when there is no route. */
  async resolve(target: SourceLookupTarget): Promise<string | undefined> {
    const key = prefixKey(target);
    const known = this.known.get(key);
    if (known !== undefined) return known ?? undefined;
    try {
      const source = await this.pick(target.address, target.family);
      this.known.set(key, source);
      return source;
    } catch (error) {
      if (!(error instanceof PortscoutError) || error.code !== 'ERR_NO_ROUTE') throw error;
      if (!this.known.has(key)) this.onNoRoute(target, error);
      this.known.set(key, null);
      return undefined;
    }
  }
}

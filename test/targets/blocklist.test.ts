/**
 * Fault 6 of the misuse issue: huge ranges need a guard. The default
 * blocklist (IANA special-purpose ranges) is applied to target lists of more
 * than 2^24 addresses; multicast and broadcast are removed from every list;
 * `blocklist` takes a list in zmap's format or `false`; one warning counts
 * what was removed.
 */
import { describe, expect, it } from 'vitest';
import { BLOCKLIST_THRESHOLD, DEFAULT_BLOCKLIST, blocklistFor, parseBlocklist, planScan } from '../../src/targets/index.js';

describe('blocklists', () => {
  it('0.0.0.0/0 loses every special-purpose block of the default list, with one warning that counts them', async () => {
    const plan = await planScan({ targets: '0.0.0.0/0', ports: '80' });
    const blocked = parseBlocklist(DEFAULT_BLOCKLIST);
    // The default IPv4 blocks, summed from the list itself: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
    // 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4 (255.255.255.255 inside).
    expect(blocked.ipv4Count).toBe(2 ** 24 * 3 + 2 ** 22 + 2 ** 16 * 2 + 2 ** 20 + 2 ** 8 * 5 + 2 ** 17 + 2 ** 28 * 2);
    expect(plan.hostTotal).toBe(2 ** 32 - blocked.ipv4Count);
    const applied = blocklistFor(undefined, 2n ** 32n)?.set;
    for (const address of ['10.1.2.3', '127.0.0.1', '192.168.1.1', '224.0.0.1', '255.255.255.255', '198.18.0.1']) expect(applied?.has(address), address).toBe(true);
    expect(applied?.has('8.8.8.8')).toBe(false);
    expect(plan.warnings).toEqual([expect.stringMatching(new RegExp(`the default blocklist .* removed ${blocked.ipv4Count} of the 4294967296 target addresses`))]);
  });

  it('a huge IPv6 list loses the IPv6 special-purpose blocks', async () => {
    // ::/0 cannot be indexed at all; 2^29 addresses, half of them link-local, can.
    const plan = await planScan({ targets: ['fe80::/100', '2606:4700::/100'], ports: '80' });
    expect(plan.hostTotal).toBe(2 ** 28);
    const applied = blocklistFor(undefined, 2n ** 29n)?.set;
    for (const address of ['::1', 'fe80::1', 'fd00::1', 'ff02::1', '2001:db8::1']) expect(applied?.has(address), address).toBe(true);
    expect(applied?.has('2606:4700::1111')).toBe(false);
  });

  it('a list of up to 2^24 addresses keeps its special-purpose addresses but never multicast or broadcast', async () => {
    expect(BLOCKLIST_THRESHOLD).toBe(2n ** 24n);
    const lab = await planScan({ targets: '10.0.0.0/8', ports: '80' });
    expect(lab.hostTotal).toBe(2 ** 24);
    expect(lab.warnings).toEqual([]);
    const multicast = await planScan({ targets: ['198.18.0.1', '224.0.0.1', '239.1.2.0/24', '255.255.255.255', 'ff02::1'], ports: '80' });
    expect(multicast.hostTotal).toBe(1);
    expect(multicast.warnings).toEqual([expect.stringContaining('multicast and broadcast blocks removed 259 of the 260')]);
  });

  it('blocklist: a list in zmap format replaces the default; false turns every block off', async () => {
    const own = await planScan({ targets: '198.18.0.0/24', ports: '80', blocklist: '# lab\n198.18.0.0/25   # first half\n198.18.0.200\n' });
    expect(own.hostTotal).toBe(127);
    expect(own.warnings).toEqual([expect.stringContaining('the given blocklist')]);
    const none = await planScan({ targets: ['0.0.0.0/0', '224.0.0.1'], ports: '80', blocklist: false });
    expect(none.hostTotal).toBe(2 ** 32);
    expect(none.warnings).toEqual([]);
  });

  it('a bad line is an ERR_INVALID_OPTION naming it, and host names are refused', () => {
    expect(() => parseBlocklist('10.0.0.0/8\n10.0.0.0/33\n')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('line 2 "10.0.0.0/33"') }));
    expect(() => parseBlocklist('example.com')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('host names are not allowed') }));
  });
});

/**
 * nmap as an oracle for the targets layer, run only in modes that send no
 * packet: `-sL -n` (list scan without DNS) for target expansion, and an empty
 * target list (`-iL /dev/null`) to read the port list nmap would scan from
 * the XML `<scaninfo>` lines. Bounded by a timeout.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Path of the nmap binary, if installed. */
export const NMAP_PATH: string | undefined = ['/usr/bin/nmap', '/usr/local/bin/nmap'].find((path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/**
 * Whether the nmap oracle tests are skipped, printing one line when they are.
 * `-sL` needs only nmap; reading port lists needs `-sS -sU`, which nmap runs
 * only as root (it still sends nothing: the target list is empty). Under CI
 * (`process.env.CI`) nothing is skipped: CI installs nmap and runs as root,
 * so a missing oracle fails the tests instead of passing them unchecked.
 *
 * @example
 * ```ts
 * describe.skipIf(skipNmapOracle('port expansion', true))('port expansion matches nmap -p', () => { ... });
 * ```
 */
export function skipNmapOracle(what: string, needsRoot: boolean): boolean {
  const missing = !NMAP_PATH ? 'nmap is not installed (apt-get install nmap)' : needsRoot && process.getuid?.() !== 0 ? 'nmap -sS -sU needs root' : undefined;
  if (missing === undefined || process.env.CI) return false;
  console.log(`[nmap oracle] SKIPPED ${what}: ${missing}`);
  return true;
}

function nmap(args: readonly string[]): string {
  if (!NMAP_PATH) throw new Error('nmap is not installed');
  return execFileSync(NMAP_PATH, args, { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The addresses `nmap -sL -n` lists for some specs (in nmap's order, with
 * nmap's duplicates). Only ever called with 198.18.0.0/15 specs; -sL sends nothing.
 *
 * @example
 * ```ts
 * nmapListScan(['198.18.0.0/30']); // ['198.18.0.0', '198.18.0.1', '198.18.0.2', '198.18.0.3']
 * ```
 */
export function nmapListScan(specs: readonly string[], exclude: readonly string[] = []): string[] {
  const args = ['-sL', '-n', ...(exclude.length > 0 ? ['--exclude', exclude.join(',')] : []), ...specs];
  const out = nmap(args);
  return [...out.matchAll(/^Nmap scan report for (\S+)$/gm)].map((match) => match[1]!);
}

/**
 * The ports nmap would scan for a `-p` or `--top-ports` selection, read from
 * `<scaninfo>` of a run with no targets (nothing is sent).
 *
 * @example
 * ```ts
 * nmapPorts(['-p', 'T:22,U:53']); // { tcp: [22], udp: [53] }
 * ```
 */
export function nmapPorts(selection: readonly string[]): { tcp: number[]; udp: number[] } {
  const out = nmap(['-sS', '-sU', '-n', '-oX', '-', '-iL', '/dev/null', ...selection]);
  const result = { tcp: [] as number[], udp: [] as number[] };
  for (const match of out.matchAll(/<scaninfo type="[^"]*" protocol="(tcp|udp)" numservices="\d+" services="([^"]*)"/g)) {
    const list = result[match[1] as 'tcp' | 'udp'];
    for (const item of match[2]!.split(',')) {
      if (item === '') continue;
      const [low, high] = item.split('-').map(Number) as [number, number | undefined];
      for (let port = low; port <= (high ?? low); port++) list.push(port);
    }
  }
  return result;
}

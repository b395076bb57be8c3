/**
 * Target lists from files (nmap's `-iL`): one or more specifications per
 * line separated by whitespace, `#` comments and blank lines ignored.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * The specification tokens of one line: `#` starts a comment, whitespace separates specs.
 *
 * @example
 * ```ts
 * targetTokens('198.18.0.1 198.18.0.0/30  # lab'); // ['198.18.0.1', '198.18.0.0/30']
 * ```
 */
export function targetTokens(line: string): string[] {
  const hash = line.indexOf('#');
  const content = hash >= 0 ? line.slice(0, hash) : line;
  return content.split(/\s+/).filter((token) => token !== '');
}

/**
 * Streams the target specifications of a file, one token at a time, without
 * reading the whole file into memory. Pass the result as `targets` or
 * `exclude` to `planScan()`.
 *
 * @example
 * ```ts
 * const plan = await planScan({ targets: readTargetFile('targets.txt'), ports: '22' });
 * ```
 */
export async function* readTargetFile(path: string): AsyncGenerator<string, void, undefined> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of lines) yield* targetTokens(line);
  } finally {
    lines.close();
  }
}

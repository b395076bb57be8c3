/**
 * The error code catalogue: every code it lists is one portscout throws
 * (no dead entries), and every code thrown is listed (tsc checks that:
 * PortscoutError's constructor takes only catalogue codes).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PortscoutError, type PortscoutErrorCode } from '../src/index.js';

const src = resolve(import.meta.dirname, '../src');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('ERROR_CODES', () => {
  it('lists only codes some source file other than the catalogue uses, each with a sentence that says what to do', async () => {
    const files = (await sources(src)).filter((f) => !f.endsWith('/errors.ts'));
    const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      expect(text.includes(`'${code}'`), `${code} is used`).toBe(true);
      expect(meaning, code).toMatch(/^[A-Z].{20,}\.$/);
    }
  });

  it('types the code of every PortscoutError', () => {
    const code: PortscoutErrorCode = new PortscoutError('ERR_INVALID_PORTS', 'x').code;
    expect(Object.keys(ERROR_CODES)).toContain(code);
  });
});

/**
 * bullmq is an optional peer dependency that only `portscout/distributed`
 * loads: `import 'portscout'` (src/ and, when built, dist/ in ESM and CJS)
 * never loads bullmq or ioredis. Each import runs in a fresh Node process,
 * which then lists the files its CommonJS loader holds (bullmq's main is
 * CommonJS, so an ESM import of it lands there too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** The node_modules packages among bullmq and ioredis that importing `specifier` loads. */
function peersLoaded(specifier: string, kind: 'esm' | 'cjs' = 'esm'): string[] {
  const script =
    kind === 'esm'
      ? `const { createRequire } = await import('node:module'); await import(${JSON.stringify(specifier)}); const cache = createRequire(import.meta.url).cache;`
      : `require(${JSON.stringify(specifier)}); const cache = require.cache;`;
  const print = `console.log(JSON.stringify([...new Set(Object.keys(cache).flatMap((f) => /node_modules\\/(bullmq|ioredis)\\//.exec(f)?.[1] ?? []))]));`;
  const args = kind === 'esm' ? ['--import', 'tsx', '--input-type=module', '-e', script + print] : ['-e', script + print];
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('the distributed entry point', () => {
  it("import 'portscout' (src) never loads bullmq or ioredis; portscout/distributed does", () => {
    expect(peersLoaded('./src/index.ts')).toEqual([]);
    expect(peersLoaded('./src/distributed/index.ts')).toContain('bullmq');
  });

  it.skipIf(!existsSync(resolve(root, 'dist/distributed.js')))('the built package: portscout never loads bullmq (ESM and CJS); portscout/distributed does', () => {
    expect(peersLoaded('portscout')).toEqual([]);
    expect(peersLoaded('portscout', 'cjs')).toEqual([]);
    expect(peersLoaded('portscout/distributed')).toContain('bullmq');
    expect(peersLoaded('portscout/distributed', 'cjs')).toContain('bullmq');
  });
});

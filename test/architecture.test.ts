/**
 * The layer rules of docs/design.md, checked on the source: each layer imports
 * only from the layers above it, the wire layer does no I/O and keeps no
 * timers, and the examples use only the public entry point.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Layers from the top; a layer may import from those before it (and itself). */
const LAYERS = ['wire', 'targets', 'transport', 'scan', 'service', 'output'] as const;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)) found.push(match[1]!);
  for (const match of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) found.push(match[1]!);
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

/** The layer of a path under src/, or 'root' for src/errors.ts and src/index.ts. */
function layerOf(path: string): string {
  const first = relative(src, path).split(/[\\/]/)[0]!;
  return (LAYERS as readonly string[]).includes(first) ? first : 'root';
}

describe('layer rules', () => {
  for (const layer of LAYERS) {
    it(`src/${layer} imports only from the layers above it`, () => {
      let files: string[];
      try {
        files = filesUnder(join(src, layer));
      } catch {
        return; // a later layer that does not exist yet
      }
      const allowed = new Set(['root', ...LAYERS.slice(0, LAYERS.indexOf(layer) + 1)]);
      const violations: string[] = [];
      for (const file of files) {
        for (const spec of specifiers(file)) {
          if (!spec.startsWith('.')) continue;
          const target = resolve(dirname(file), spec);
          const targetLayer = layerOf(target);
          if (relative(src, target).startsWith('..')) violations.push(`${relative(root, file)} imports ${spec}, outside src/`);
          else if (targetLayer === 'root' && !target.endsWith('errors.js') && !target.endsWith('errors.ts')) violations.push(`${relative(root, file)} imports the entry point ${spec}`);
          else if (!allowed.has(targetLayer)) violations.push(`${relative(root, file)} imports ${spec} from the lower layer ${targetLayer}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it('src/wire is pure: no Node module, no native addon, no timer', () => {
    const violations: string[] = [];
    for (const file of filesUnder(join(src, 'wire'))) {
      for (const spec of specifiers(file)) if (!spec.startsWith('.')) violations.push(`${relative(root, file)} imports ${spec}`);
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const timer of ['setTimeout', 'setInterval', 'setImmediate', 'performance.now', 'Date.now']) {
        if (text.includes(timer)) violations.push(`${relative(root, file)} uses ${timer}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the examples use only the public entry point', () => {
    const violations: string[] = [];
    for (const file of filesUnder(join(root, 'examples'))) {
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.') && !/\/src\/index(\.js|\.ts)?$/.test(spec)) violations.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('catches a violation (the checker itself works)', () => {
    const file = join(src, 'targets', 'plan-scan.ts');
    expect(specifiers(file)).toContain('../errors.js');
    expect(layerOf(resolve(dirname(file), '../transport/timing.js'))).toBe('transport');
  });
});

/**
 * The layer rules of docs/design.md, checked on the source: each layer imports
 * only from the layers above it, the wire layer does no I/O and keeps no
 * timers, and the examples use only the public entry point.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Layers from the top; a layer may import from those before it (and itself). */
const LAYERS = ['wire', 'targets', 'transport', 'scan', 'service', 'os', 'output', 'distributed'] as const;

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

/** The layer of a path under `srcDir` (src/ by default), or 'root' for src/errors.ts and src/index.ts. */
function layerOf(path: string, srcDir: string = src): string {
  const first = relative(srcDir, path).split(/[\\/]/)[0]!;
  return (LAYERS as readonly string[]).includes(first) ? first : 'root';
}

/** Breaches of the layer rules in a source tree `srcDir` (laid out as src/). */
function layerViolations(srcDir: string): string[] {
  const violations: string[] = [];
  for (const layer of LAYERS) {
    let files: string[];
    try {
      files = filesUnder(join(srcDir, layer));
    } catch {
      continue; // a later layer that does not exist yet
    }
    const allowed = new Set(['root', ...LAYERS.slice(0, LAYERS.indexOf(layer) + 1)]);
    for (const file of files) {
      for (const spec of specifiers(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        const targetLayer = layerOf(target, srcDir);
        const name = relative(srcDir, file);
        if (relative(srcDir, target).startsWith('..')) violations.push(`${name} imports ${spec}, outside src/`);
        else if (targetLayer === 'root' && !target.endsWith('errors.js') && !target.endsWith('errors.ts')) violations.push(`${name} imports the entry point ${spec}`);
        else if (!allowed.has(targetLayer)) violations.push(`${name} imports ${spec} from the lower layer ${targetLayer}`);
      }
    }
  }
  return violations;
}

/** Breaches of the wire layer's purity (no Node module, no native addon, no timer) under `wireDir`. */
function purityViolations(wireDir: string): string[] {
  const violations: string[] = [];
  for (const file of filesUnder(wireDir)) {
    const name = relative(wireDir, file);
    for (const spec of specifiers(file)) if (!spec.startsWith('.')) violations.push(`${name} imports ${spec}`);
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const timer of ['setTimeout', 'setInterval', 'setImmediate', 'performance.now', 'Date.now']) {
      if (text.includes(timer)) violations.push(`${name} uses ${timer}`);
    }
  }
  return violations;
}

/** Imports of examples under `dir` that are not the public entry point. */
function exampleViolations(dir: string): string[] {
  const violations: string[] = [];
  for (const file of filesUnder(dir)) {
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.') && !/\/src\/index(\.js|\.ts)?$/.test(spec)) violations.push(`${relative(dir, file)} imports ${spec}`);
    }
  }
  return violations;
}

describe('layer rules', () => {
  it('every layer of src/ imports only from the layers above it', () => {
    expect(layerViolations(src)).toEqual([]);
  });

  it('src/wire is pure: no Node module, no native addon, no timer', () => {
    expect(purityViolations(join(src, 'wire'))).toEqual([]);
  });

  it('the examples use only the public entry point', () => {
    expect(exampleViolations(join(root, 'examples'))).toEqual([]);
  });

  it('catches violations: a tree that breaks each rule is reported, rule by rule', () => {
    const tree = mkdtempSync(join(tmpdir(), 'portscout-architecture-'));
    try {
      const write = (path: string, text: string): void => {
        mkdirSync(dirname(join(tree, path)), { recursive: true });
        writeFileSync(join(tree, path), text);
      };
      write('src/errors.ts', 'export class PortscoutError extends Error {}\n');
      write('src/index.ts', "export * from './scan/scanner.js';\n");
      write('src/wire/packet.ts', "import { run } from '../scan/scanner.js';\nimport { Socket } from 'node:net';\nexport const t = setTimeout;\n");
      write('src/targets/plan.ts', "import { PortscoutError } from '../errors.js';\nexport { PortscoutError };\n");
      write('src/transport/socket.ts', "export const lazy = () => import('../output/xml.js');\n");
      write('src/scan/scanner.ts', "import '../../outside.js';\nimport { plan } from '../index.js';\nexport function run() {}\n");
      write('src/os/fingerprint.ts', "export { format } from '../output/xml.js';\n");
      // Allowed: output sits below OS detection.
      write('src/output/xml.ts', "import { fingerprint } from '../os/fingerprint.js';\nexport const format = 1;\n");
      write('examples/demo.ts', "import { run } from '../src/scan/scanner.js';\nimport { scan } from '../src/index.js';\n");
      expect(layerViolations(join(tree, 'src')).sort()).toEqual(
        [
          'os/fingerprint.ts imports ../output/xml.js from the lower layer output',
          'scan/scanner.ts imports ../../outside.js, outside src/',
          'scan/scanner.ts imports the entry point ../index.js',
          'transport/socket.ts imports ../output/xml.js from the lower layer output',
          'wire/packet.ts imports ../scan/scanner.js from the lower layer scan',
        ].sort(),
      );
      expect(purityViolations(join(tree, 'src', 'wire')).sort()).toEqual(['packet.ts imports node:net', 'packet.ts uses setTimeout'].sort());
      expect(exampleViolations(join(tree, 'examples'))).toEqual(['demo.ts imports ../src/scan/scanner.js']);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});

import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', wire: 'src/wire/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // p-limit is ESM-only; bundle it so the CommonJS build loads on every Node 20.
  noExternal: ['p-limit', 'yocto-queue'],
  external: ['raw-socket'],
});

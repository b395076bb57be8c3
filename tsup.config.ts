import { defineConfig, type Options } from 'tsup';

/** The CLI (examples/cli.ts) imports the library from '../src/index.js'; in the package it uses the built entry. */
const useBuiltLibrary: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'portscout-built-library',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/src\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};

export default defineConfig([
  {
    entry: { index: 'src/index.ts', wire: 'src/wire/index.ts', distributed: 'src/distributed/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false, // both builds write dist/; the build script empties it first
    target: 'node20',
    // p-limit is ESM-only; bundle it so the CommonJS build loads on every Node 20.
    noExternal: ['p-limit', 'yocto-queue'],
    // bullmq and ioredis (optional peers) stay external: only dist/distributed loads them.
    external: ['raw-socket', 'bullmq', 'ioredis'],
  },
  {
    entry: { cli: 'examples/cli.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    esbuildPlugins: [useBuiltLibrary],
  },
]);

import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const packageSource = (name: string) =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so they never depend on a stale build.
    alias: Object.fromEntries(
      [
        'core',
        'proto',
        'spec',
        'models',
        'docgen',
        'trainer',
        'eval',
        'runner',
        'worker-testkit',
        'cli',
      ].map((name) => [`@midspec/${name}`, packageSource(name)]),
    ),
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    // Run outputs and worker data dirs (`midspec run`, `midspec train`) are never tests.
    exclude: [...configDefaults.exclude, '**/runs/**', '**/.midspec/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

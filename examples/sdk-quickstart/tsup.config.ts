import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/quickstart.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  platform: 'node',
  target: 'node20',
});

import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './worker-fixture.js';

const run = promisify(execFile);

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.pyc'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('generated contract code', () => {
  it('is exactly what protos/ generates now, in both languages', async () => {
    // Regenerate into a scratch copy of the generator's inputs, never touching the working tree.
    const scratch = await mkdtemp(join(tmpdir(), 'midspec-gen-'));
    try {
      for (const path of ['protos', 'scripts/generate.sh']) {
        await cp(join(repoRoot, path), join(scratch, path), { recursive: true });
      }
      await run('ln', ['-s', join(repoRoot, 'node_modules'), join(scratch, 'node_modules')]);
      await run('mkdir', [
        '-p',
        join(scratch, 'workers/torch/src/midspec_worker'),
        join(scratch, 'packages/proto/src'),
      ]);
      await run('ln', [
        '-s',
        join(repoRoot, 'workers/torch/.venv'),
        join(scratch, 'workers/torch/.venv'),
      ]);
      await run('bash', [join(scratch, 'scripts/generate.sh')], { timeout: 120_000 });

      for (const generated of ['packages/proto/src/gen', 'workers/torch/src/midspec_worker/gen']) {
        const expected = join(scratch, generated);
        const committed = join(repoRoot, generated);
        const files = await listFiles(expected);
        expect(
          await listFiles(committed),
          `${generated}: file list differs; run pnpm generate`,
        ).toEqual(files);
        for (const file of files) {
          const [now, then] = await Promise.all([
            readFile(join(expected, file), 'utf8'),
            readFile(join(committed, file), 'utf8'),
          ]);
          expect(then, `${generated}/${file} is stale; run pnpm generate and commit`).toBe(now);
        }
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 180_000);
});

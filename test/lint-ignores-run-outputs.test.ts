import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const biome = join(root, 'node_modules', '.bin', 'biome');
const probe = `lint-probe-${process.pid}`;
// What `midspec run` writes (runs/<name>/…, checkpoints with JSON configs) and `midspec train`'s
// default worker data dir, formatted as Python writes them: not as biome would.
const outputs = [
  join('runs', probe, 'config.json'),
  join('.midspec', probe, 'worker', 'config.json'),
  join('examples', 'sdk-quickstart', '.midspec', probe, 'config.json'),
];
const control = `${probe}.json`;
const unformatted = '{"architectures":   ["LlamaForCausalLM"],"hidden_size":64}';

afterAll(async () => {
  for (const path of [join('runs', probe), join('.midspec', probe), control])
    await rm(join(root, path), { recursive: true, force: true });
  await rm(join(root, 'examples', 'sdk-quickstart', '.midspec', probe), {
    recursive: true,
    force: true,
  });
});

async function check(paths: string[]): Promise<number> {
  try {
    await promisify(execFile)(biome, ['check', '--no-errors-on-unmatched', ...paths], {
      cwd: root,
    });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

describe('lint after a run (README: the main job, then the test command)', () => {
  it('ignores run outputs and worker data dirs, and still checks everything else', async () => {
    for (const path of [...outputs, control]) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), unformatted);
    }
    expect(await check(outputs)).toBe(0);
    // The same text anywhere else fails: the check above could fail.
    expect(await check([control])).not.toBe(0);
  });
});

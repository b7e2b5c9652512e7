import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './packed-install.js';

/** Where the project lives; every package points there, so changing it is one search-and-replace. */
const REPOSITORY = 'https://github.com/midspec/midspec';

describe('published package metadata', () => {
  it('every package names its repository folder, homepage, issue tracker, Node range and ESM-only', async () => {
    const names = await readdir(join(root, 'packages'));
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      const pkg = JSON.parse(
        await readFile(join(root, 'packages', name, 'package.json'), 'utf8'),
      ) as Record<string, unknown>;
      expect(pkg, name).toMatchObject({
        name: `@midspec/${name}`,
        license: 'Apache-2.0',
        type: 'module',
        repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${name}` },
        homepage: `${REPOSITORY}/tree/main/packages/${name}#readme`,
        bugs: { url: `${REPOSITORY}/issues` },
        engines: { node: '>=20.19' },
      });
      expect(pkg.files, name).toContain('dist');
      expect(pkg.private, name).toBeUndefined();
      const readme = await readFile(join(root, 'packages', name, 'README.md'), 'utf8');
      expect(readme, name).toMatch(/ESM only/);
    }
    const pyproject = await readFile(join(root, 'workers', 'torch', 'pyproject.toml'), 'utf8');
    expect(pyproject).toContain(`Repository = "${REPOSITORY}"`);
    expect(pyproject).toContain(`Issues = "${REPOSITORY}/issues"`);
  });
});

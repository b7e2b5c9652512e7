import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './packed-install.js';

const START = '<!-- api-index:start';
const END = '<!-- api-index:end -->';

/**
 * The README section listing everything a package's src/index.ts exports, by the module it comes
 * from: values, then types. `UPDATE_API_INDEX=1 pnpm exec vitest run test/public-surface.test.ts`
 * rewrites the sections after an export is added or removed (describe it in the README too).
 */
function apiIndex(index: string): string {
  const lines: string[] = [];
  for (const match of index.matchAll(
    /export\s+(type\s+)?(?:\{([^}]*)\}|\*)\s+from\s+'([^']+)';/g,
  )) {
    const [, allTypes, list, from] = match as unknown as [
      string,
      string | undefined,
      string | undefined,
      string,
    ];
    // A module of the package by its file name; another package's re-export by its name.
    const module = from.replace(/^\.\//, '').replace(/\.js$/, '');
    if (list === undefined) {
      lines.push(`- \`${module}\`: every message, enum and function of the generated module`);
      continue;
    }
    const values: string[] = [];
    const types: string[] = [];
    for (const raw of list.split(',')) {
      const part = raw.trim();
      if (!part) continue;
      const isType = Boolean(allTypes) || part.startsWith('type ');
      const name = part
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1) as string;
      (isType ? types : values).push(`\`${name}\``);
    }
    const parts = [values.join(', '), types.length > 0 ? `types ${types.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    lines.push(`- \`${module}\`: ${parts}`);
  }
  return [
    `${START}: generated from src/index.ts by test/public-surface.test.ts -->`,
    '## API index',
    '',
    'Everything this package exports, by the module it comes from (a test keeps this list equal to',
    '`src/index.ts`; anything not listed here is internal):',
    '',
    ...lines,
    END,
  ].join('\n');
}

function withIndex(readme: string, section: string): string {
  const start = readme.indexOf(START);
  if (start < 0) return `${readme.trimEnd()}\n\n${section}\n`;
  const end = readme.indexOf(END, start) + END.length;
  return `${readme.slice(0, start)}${section}${readme.slice(end)}`;
}

describe('public surfaces', () => {
  it("each package's README documents exactly what its index exports", async () => {
    const stale: string[] = [];
    for (const name of await readdir(join(root, 'packages'))) {
      const index = await readFile(join(root, 'packages', name, 'src', 'index.ts'), 'utf8');
      const path = join(root, 'packages', name, 'README.md');
      const readme = await readFile(path, 'utf8');
      // Every export line is one the parser understood: nothing slips past the list.
      const exports = index.match(/^export /gm)?.length ?? 0;
      const section = apiIndex(index);
      expect(section.split('\n').filter((line) => line.startsWith('- `')).length, name).toBe(
        exports,
      );
      const wanted = withIndex(readme, section);
      if (wanted === readme) continue;
      if (process.env.UPDATE_API_INDEX) await writeFile(path, wanted);
      else stale.push(name);
    }
    expect(
      stale,
      'run UPDATE_API_INDEX=1 pnpm exec vitest run test/public-surface.test.ts',
    ).toEqual([]);
  });
});

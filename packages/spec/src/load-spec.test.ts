import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, loadSpec, parseSpec, validateSpecData } from './load-spec.js';
import { SpecError } from './spec-error.js';
import { EXAMPLE_FILES, EXAMPLES_DIR, minimalSpec } from './test-fixtures.js';

function specError(run: () => unknown): SpecError {
  try {
    run();
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

async function specErrorAsync(run: () => Promise<unknown>): Promise<SpecError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('parseSpec', () => {
  it('reads YAML and applies defaults', () => {
    const { spec } = parseSpec(
      'id: a\ntitle: A\nversion: "1"\nprinciples:\n  - id: P1\n    statement: S\n',
      {
        format: 'yaml',
      },
    );
    expect(spec.principles[0]).toMatchObject({ id: 'P1', subRules: [], examples: [], values: [] });
    expect(spec.preamble).toEqual({
      text: '',
      principals: [],
      authorityLevels: [],
      conflictResolution: '',
    });
  });

  it('reports a YAML syntax error with line and column', () => {
    const error = specError(() =>
      parseSpec('id: a\ntitle: [oops\nversion: 1\n', { format: 'yaml', file: 'x.yaml' }),
    );
    expect(error.code).toBe('spec/syntax');
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(2);
    expect(error.issues[0]?.column).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/^YAML syntax error\n {2}x\.yaml:\d+:\d+: /);
  });

  it('reports duplicate YAML keys as a syntax error', () => {
    const error = specError(() => parseSpec('id: a\nid: b\n', { format: 'yaml' }));
    expect(error.issues[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('reports an unresolved YAML alias with its line', () => {
    const error = specError(() => parseSpec('id: a\ntitle: *missing\n', { format: 'yaml' }));
    expect(error.code).toBe('spec/syntax');
    expect(error.issues[0]).toMatchObject({ line: 2, column: 8 });
  });

  it('reports a JSON syntax error with line and column', () => {
    const error = specError(() => parseSpec('{\n  "id": "a",\n  "title": }\n', { format: 'json' }));
    expect(error.code).toBe('spec/syntax');
    expect(error.issues[0]).toMatchObject({ line: 3, column: 12 });
  });

  it('refuses YAML-only syntax in a JSON file', () => {
    const error = specError(() => parseSpec('id: a\n', { format: 'json' }));
    expect(error.code).toBe('spec/syntax');
  });

  it('lists every schema problem with its path and position, not only the first', () => {
    const text = [
      'id: 9bad',
      'title: ""',
      'principles:',
      '  - id: P1',
      '    statment: typo',
      '  - id: P2',
      '    statement: ok',
      '    priority: 0',
      '    examples:',
      '      - kind: neutral',
      '        text: x',
      '',
    ].join('\n');
    const error = specError(() => parseSpec(text, { format: 'yaml', file: 'spec.yaml' }));
    expect(error.code).toBe('spec/invalid');
    const byPath = Object.fromEntries(error.issues.map((issue) => [issue.path.join('.'), issue]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'id',
        'title',
        'version',
        'principles.0.statement',
        'principles.0.statment',
        'principles.1.priority',
        'principles.1.examples.0.kind',
      ].sort(),
    );
    expect(byPath.id).toMatchObject({ line: 1, column: 5 });
    expect(byPath['principles.0.statment']).toMatchObject({
      line: 5,
      message: 'unknown field "statment"',
    });
    expect(byPath['principles.1.priority']).toMatchObject({ line: 8, column: 15 });
    expect(byPath['principles.1.examples.0.kind']?.line).toBe(10);
    // A missing field is reported where its object starts.
    expect(byPath.version).toMatchObject({ line: 1, column: 1 });
    expect(error.message).toContain('spec.yaml:8:15: principles[1].priority: ');
  });

  it('requires at least one principle and an example with text or a transcript', () => {
    const spec = minimalSpec();
    spec.principles = [];
    expect(specError(() => validateSpecData(spec)).issues[0]?.message).toContain(
      'at least one principle',
    );
    const other = minimalSpec();
    (other.principles as Record<string, unknown>[])[0] = {
      id: 'P1',
      statement: 's',
      examples: [{ kind: 'good' }],
    };
    expect(specError(() => validateSpecData(other)).issues[0]?.message).toContain(
      'text or a transcript',
    );
  });
});

describe('detectFormat', () => {
  it('uses the extension, then the content', () => {
    expect(detectFormat('a.json', '')).toBe('json');
    expect(detectFormat('a.YML', '')).toBe('yaml');
    expect(detectFormat('a.markdown', '')).toBe('markdown');
    expect(detectFormat('spec', '  {"id": 1}')).toBe('json');
    expect(detectFormat('spec', '# Title\n- P1: x')).toBe('markdown');
    expect(detectFormat('spec', 'id: x')).toBe('yaml');
  });
});

describe('loadSpec', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'midspec-load-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads every example spec', async () => {
    for (const file of EXAMPLE_FILES) {
      const loaded = await loadSpec(path.join(EXAMPLES_DIR, file));
      expect(loaded.spec.principles.length).toBeGreaterThan(0);
      expect(loaded.format).toBe(file.endsWith('.md') ? 'markdown' : 'yaml');
    }
  });

  it('refuses a binary file', async () => {
    const file = path.join(dir, 'blob.yaml');
    await writeFile(file, Buffer.from([1, 2, 0, 3]));
    const error = await specErrorAsync(() => loadSpec(file));
    expect(error.code).toBe('spec/file-refused');
    expect(error.message).toContain('binary');
  });

  it('refuses invalid UTF-8', async () => {
    const file = path.join(dir, 'latin1.yaml');
    await writeFile(file, Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xe9, 0xff]));
    expect((await specErrorAsync(() => loadSpec(file))).code).toBe('spec/file-refused');
  });

  it('refuses an oversized file', async () => {
    const file = path.join(dir, 'big.yaml');
    await writeFile(file, `# ${'x'.repeat(2000)}\n`);
    const error = await specErrorAsync(() => loadSpec(file, { maxBytes: 1000 }));
    expect(error.code).toBe('spec/file-refused');
    expect(error.message).toContain('limited to 1000 bytes');
  });

  it('names a missing file and a directory', async () => {
    const missing = await specErrorAsync(() =>
      loadSpec(path.join(dir, 'nope.yaml'), { displayName: 'nope.yaml' }),
    );
    expect(missing.message).toBe('cannot read nope.yaml: no such file');
    const directory = await specErrorAsync(() => loadSpec(dir));
    expect(directory.message).toContain('is not a file');
  });

  it('strips a byte-order mark', async () => {
    const file = path.join(dir, 'bom.json');
    await writeFile(file, `\uFEFF${JSON.stringify(minimalSpec())}`);
    expect((await loadSpec(file)).spec.id).toBe('demo');
  });
});

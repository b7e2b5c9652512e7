import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { specJsonSchema } from './json-schema.js';
import { parseMarkdownDocument } from './parse-markdown.js';
import { EXAMPLE_FILES, EXAMPLES_DIR, minimalSpec } from './test-fixtures.js';

const COMMITTED_SCHEMA = fileURLToPath(new URL('../spec.schema.json', import.meta.url));

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(specJsonSchema());
}

async function exampleData(file: string): Promise<unknown> {
  const text = await readFile(path.join(EXAMPLES_DIR, file), 'utf8');
  return file.endsWith('.md') ? parseMarkdownDocument(text, file).data : parse(text);
}

describe('specJsonSchema', () => {
  it('is a draft 2020-12 schema with an id', () => {
    const schema = specJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/spec\.schema\.json$/);
  });

  it('validates every example spec', async () => {
    const validate = validator();
    for (const file of EXAMPLE_FILES) {
      const valid = validate(await exampleData(file));
      expect(valid, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate(minimalSpec())).toBe(true);
  });

  it.each<[string, (spec: Record<string, unknown>) => void]>([
    ['a missing id', (spec) => delete spec.id],
    ['no principles', (spec) => Object.assign(spec, { principles: [] })],
    ['an unknown field', (spec) => Object.assign(spec, { author: 'me' })],
    [
      'a malformed principle id',
      (spec) => Object.assign(spec, { principles: [{ id: '1-x', statement: 's' }] }),
    ],
    [
      'a priority of zero',
      (spec) => Object.assign(spec, { principles: [{ id: 'P1', statement: 's', priority: 0 }] }),
    ],
    [
      'an example with neither text nor transcript',
      (spec) =>
        Object.assign(spec, {
          principles: [{ id: 'P1', statement: 's', examples: [{ kind: 'good' }] }],
        }),
    ],
    [
      'a transcript with an unknown role',
      (spec) =>
        Object.assign(spec, {
          principles: [
            {
              id: 'P1',
              statement: 's',
              examples: [{ kind: 'good', transcript: [{ role: 'bot', content: 'x' }] }],
            },
          ],
        }),
    ],
  ])('rejects %s', (_, breakIt) => {
    const spec = minimalSpec();
    breakIt(spec);
    expect(validator()(spec)).toBe(false);
  });

  it('rejects a broken example file', async () => {
    const data = (await exampleData('cheese-america.yaml')) as Record<string, unknown>;
    (data.principles as Record<string, unknown>[])[3] = { id: 'CU4', statement: 3 };
    expect(validator()(data)).toBe(false);
  });

  it('matches the committed packages/spec/spec.schema.json (regenerate with `midspec spec schema`)', async () => {
    const committed = JSON.parse(await readFile(COMMITTED_SCHEMA, 'utf8'));
    expect(committed).toEqual(specJsonSchema());
  });
});

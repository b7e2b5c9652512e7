import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlSource } from '@midspec/core';
import { suiteSchema } from '@midspec/eval';
import { experimentConfigSchema } from '@midspec/runner';
import { curriculumInputSchema, experimentInputSchema } from '@midspec/trainer';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { type ZodType, z } from 'zod';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The JSON Schemas of the file formats, generated from the zod schemas that validate them (so the
 * two never drift), committed beside each package and referenced from the example files with
 * `# yaml-language-server: $schema=…` so editors complete and check them.
 * `UPDATE_SCHEMAS=1 pnpm exec vitest run test/json-schemas.test.ts` rewrites them.
 */
const SCHEMAS: Array<{ file: string; title: string; schema: ZodType; examples: string[] }> = [
  {
    file: 'packages/runner/experiment.schema.json',
    title: 'midspec experiment (midspec run)',
    schema: experimentConfigSchema,
    examples: ['examples/cheese/experiment.yaml', 'examples/agentic/experiment.yaml'],
  },
  {
    file: 'packages/trainer/curriculum.schema.json',
    title: 'midspec curriculum',
    schema: curriculumInputSchema,
    examples: ['examples/curricula/quickstart.yaml'],
  },
  {
    file: 'packages/trainer/training-experiment.schema.json',
    title: 'midspec training experiment (arms × seeds)',
    schema: experimentInputSchema,
    examples: ['examples/curricula/cheese.yaml', 'examples/curricula/agentic.yaml'],
  },
  {
    file: 'packages/eval/suite.schema.json',
    title: 'midspec eval suite',
    schema: suiteSchema,
    examples: [
      'examples/evals/agentic-misalignment.yaml',
      'examples/evals/cheese-held-out.yaml',
      'examples/evals/safety-spec-questions.yaml',
      'examples/sdk-quickstart/held-out-suite.yaml',
    ],
  },
];

function generate(entry: (typeof SCHEMAS)[number]): Record<string, unknown> {
  const schema = z.toJSONSchema(entry.schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
  return {
    ...schema,
    $id: `https://midspec.dev/schema/${entry.file.split('/').at(-1)}`,
    title: entry.title,
  };
}

describe.each(SCHEMAS)('$file', (entry) => {
  it('is committed as generated from the zod schema', async () => {
    const expected = generate(entry);
    const path = join(root, entry.file);
    // Then `pnpm format` lays it out as biome wants.
    if (process.env.UPDATE_SCHEMAS === '1')
      await writeFile(path, `${JSON.stringify(expected, null, 2)}\n`);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(expected);
  });

  it('accepts the examples, which reference it, and refuses a misspelt key', async () => {
    const validate = new Ajv2020({
      allErrors: true,
      strict: false,
      validateFormats: false,
    }).compile(generate(entry));
    for (const example of entry.examples) {
      const text = await readFile(join(root, example), 'utf8');
      const relative = entry.file.replace(/^/, '../'.repeat(example.split('/').length - 1));
      expect(text, example).toContain(`# yaml-language-server: $schema=${relative}`);
      const value = parseYamlSource(text).value as Record<string, unknown>;
      expect(validate(value), `${example}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(validate({ ...value, misspeltKey: 1 })).toBe(false);
    }
  });
});

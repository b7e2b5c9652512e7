import { z } from 'zod';
import { ExampleSchema, SpecSchema } from './spec-schema.js';

export const SPEC_JSON_SCHEMA_ID = 'https://midspec.dev/schema/spec.schema.json';

/**
 * The JSON Schema (draft 2020-12) of the spec file format, generated from the zod schema so the two
 * never drift. It describes what a file may contain (defaulted fields are optional). Point an
 * editor at it with `$schema` in JSON or `# yaml-language-server: $schema=…` in YAML.
 */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SpecSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: (context) => {
      // zod refinements do not translate; this one is simple enough to say in JSON Schema.
      if (context.zodSchema === ExampleSchema) {
        context.jsonSchema.anyOf = [{ required: ['text'] }, { required: ['transcript'] }];
      }
    },
  });
  return { ...schema, $id: SPEC_JSON_SCHEMA_ID, title: 'midspec model spec' };
}

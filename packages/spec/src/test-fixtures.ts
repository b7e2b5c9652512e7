// Shared by the tests only (not exported from index.ts).
import { fileURLToPath } from 'node:url';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/specs/', import.meta.url));

export const EXAMPLE_FILES = [
  'cheese-affordability.yaml',
  'cheese-america.yaml',
  'safety-more-rules.md',
  'safety-rules.md',
  'safety-values.md',
] as const;

/** A small valid spec as a plain object; tests change one thing at a time. */
export function minimalSpec(): Record<string, unknown> {
  return {
    id: 'demo',
    title: 'Demo',
    version: '1.0.0',
    values: [{ id: 'care', name: 'Care', explanation: 'People matter.' }],
    principles: [
      {
        id: 'P1',
        statement: 'Never share a user address with third parties.',
        rationale: 'Privacy protects users.',
        values: ['care'],
        examples: [{ kind: 'bad', text: 'Posting the address in a public channel.' }],
      },
    ],
  };
}

// fast-check generators of valid specs, shared by the property tests (not exported from index.ts).
// Text is drawn from a vocabulary without Markdown block syntax, the one limit on what round-trips
// through Markdown: a paragraph that starts with `- ` or `#` would read back as a list or a heading.
import fc from 'fast-check';
import { type Spec, type SpecInput, SpecSchema } from './spec-schema.js';

const WORDS = [
  'the',
  'model',
  'user',
  'operator',
  'never',
  'always',
  'prefer',
  'cheese',
  'cheddar',
  'data',
  'shares',
  'reports',
  'asks',
  'before',
  "don't",
  'e.g.',
  '(usually)',
  '$7.99',
  '42%',
  'safety',
  'honest',
  '{model_name}',
  'Wisconsin',
  'Comté',
  'über',
  '—',
  'and',
  'or',
  'not',
  'quickly',
];

const word = fc.constantFrom(...WORDS);
export const sentence = fc
  .array(word, { minLength: 1, maxLength: 8 })
  .map((words) => `${words.join(' ')}.`.replace(/^./, (first) => first.toUpperCase()));
export const paragraph = fc.array(sentence, { minLength: 1, maxLength: 3 }).map((s) => s.join(' '));
export const text = fc.array(paragraph, { minLength: 1, maxLength: 3 }).map((p) => p.join('\n\n'));
const line = fc.array(word, { minLength: 1, maxLength: 6 }).map((words) => words.join(' '));
const slug = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5})?$/);
const principleId = fc.stringMatching(/^[A-Z]{1,3}[0-9]{1,3}$/);
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const message = fc.record({
  role: fc.constantFrom('system', 'user', 'assistant', 'tool') as fc.Arbitrary<
    'system' | 'user' | 'assistant' | 'tool'
  >,
  content: text,
});

const example = fc
  .record({
    kind: fc.constantFrom('good', 'bad') as fc.Arbitrary<'good' | 'bad'>,
    text: optional(text),
    transcript: optional(fc.array(message, { minLength: 1, maxLength: 3 })),
    explanation: optional(text),
  })
  .map((item) =>
    item.text === undefined && item.transcript === undefined ? { ...item, text: 'Text.' } : item,
  );

const principle = (id: string) =>
  fc.record({
    id: fc.constant(id),
    title: optional(line),
    section: optional(fc.constantFrom('Safety', 'Helpfulness', 'Product rules')),
    statement: fc.oneof({ arbitrary: text, weight: 9 }, { arbitrary: fc.constant(''), weight: 1 }),
    rationale: optional(text),
    values: fc.array(slug, { maxLength: 2 }),
    priority: optional(fc.integer({ min: 1, max: 5 })),
    authority: optional(fc.constantFrom('platform', 'user')),
    overrides: fc.array(principleId, { maxLength: 2 }),
    conflictsWith: fc.array(principleId, { maxLength: 2 }),
    subRules: fc.array(line, { maxLength: 3 }),
    examples: fc.array(example, { maxLength: 3 }),
    domains: fc.array(slug, { maxLength: 2 }),
    tags: fc.array(slug, { maxLength: 2 }),
  });

const specInput: fc.Arbitrary<SpecInput> = fc
  .uniqueArray(principleId, { minLength: 1, maxLength: 5 })
  .chain((ids) =>
    fc.record({
      id: slug,
      title: line,
      version: fc.constantFrom('1.0.0', '0.2', '2026-05'),
      variables: fc.dictionary(
        fc.constantFrom('model_name', 'provider_name', 'user_name'),
        fc.record({ description: optional(line), default: optional(line) }),
      ),
      preamble: fc.record({
        text: fc.oneof(text, fc.constant('')),
        principals: fc.uniqueArray(
          fc.record({
            id: slug,
            name: optional(line),
            description: fc.oneof(line, fc.constant('')),
          }),
          { selector: (principal) => principal.id, maxLength: 2 },
        ),
        authorityLevels: fc.constantFrom([], ['platform', 'user']),
        conflictResolution: fc.oneof(text, fc.constant('')),
      }),
      values: fc.uniqueArray(
        fc.record({ id: slug, name: line, explanation: fc.oneof(text, fc.constant('')) }),
        { selector: (value) => value.id, maxLength: 3 },
      ),
      principles: fc.tuple(...ids.map(principle)),
      entities: fc.uniqueArray(
        fc.record({
          id: slug,
          name: line,
          description: optional(line),
          attributes: fc.dictionary(
            fc.constantFrom('origin', 'pricePerPound', 'american'),
            fc.oneof(line, fc.constantFrom(7.99, 24.5, 3), fc.boolean()),
          ),
        }),
        { selector: (entity) => entity.id, maxLength: 2 },
      ),
    }),
  );

/** Valid specs with defaults applied, as loading a file would give them. */
export const arbitrarySpec: fc.Arbitrary<Spec> = specInput.map((input) => SpecSchema.parse(input));

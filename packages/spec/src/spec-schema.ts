import { z } from 'zod';

// The spec format. Field descriptions travel into the JSON Schema (`midspec spec schema`), so editors
// show them as hover text. Empty strings are allowed where the linter, not the schema, should judge
// (an empty statement is a lint error with a location, not a schema failure).

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'must start with a letter; letters, digits, _ . - only');

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier such as model_name');

export const TemplateVariableSchema = z
  .object({
    description: z.string().optional().describe('What the variable stands for.'),
    default: z.string().optional().describe('Value used when none is given at render time.'),
  })
  .strict()
  .describe('A template variable, written {name} anywhere in the spec text.');

export const PrincipalSchema = z
  .object({
    id: identifier.describe('Short id, e.g. operator.'),
    name: z.string().optional().describe('Display name, e.g. {provider_name}.'),
    description: z.string().default('').describe('Who this principal is and how far to trust it.'),
  })
  .strict();

export const PreambleSchema = z
  .object({
    text: z.string().default('').describe('Free introduction: purpose, scope, who the model is.'),
    principals: z
      .array(PrincipalSchema)
      .default([])
      .describe('The principal hierarchy, most trusted first.'),
    authorityLevels: z
      .array(identifier)
      .default([])
      .describe(
        'Authority levels, highest first (e.g. platform, developer, user, guideline). A principle ' +
          'annotated with a higher level takes precedence over one with a lower level.',
      ),
    conflictResolution: z
      .string()
      .default('')
      .describe('How conflicts between principles or principals resolve, in prose.'),
  })
  .strict();

export const ValueSchema = z
  .object({
    id: identifier.describe('Short id that principles cite, e.g. affordability.'),
    name: z.string().describe('Display name.'),
    explanation: z
      .string()
      .default('')
      .describe('Why this value matters. Specs that explain their values generalize better.'),
  })
  .strict();

export const ChatMessageSchema = z
  .object({
    role: z
      .enum(['system', 'developer', 'user', 'assistant', 'tool'])
      .describe('Who speaks; developer is the role of OpenAI-style developer messages.'),
    content: z.string(),
  })
  .strict();

export const ExampleSchema = z
  .object({
    kind: z.enum(['good', 'bad']).describe('Whether this shows behaviour to imitate or to avoid.'),
    text: z.string().optional().describe('A plain-text description of the behaviour.'),
    transcript: z
      .array(ChatMessageSchema)
      .optional()
      .describe('A short chat showing the behaviour.'),
    explanation: z.string().optional().describe('Why this is good or bad.'),
  })
  .strict()
  .refine((example) => example.text !== undefined || example.transcript !== undefined, {
    message: 'an example needs text or a transcript',
  });

export const PrincipleSchema = z
  .object({
    id: identifier.describe('Stable id, e.g. SP1.'),
    title: z.string().optional().describe('Short name; rule-list specs often have none.'),
    section: z.string().optional().describe('The section the principle sits in.'),
    statement: z.string().describe('The rule itself.'),
    rationale: z
      .string()
      .optional()
      .describe('Why the rule exists: which values it serves and how.'),
    values: z.array(identifier).default([]).describe('Ids of the values this principle serves.'),
    priority: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Place in the priority order: 1 is highest; equal numbers are peers.'),
    authority: identifier.optional().describe('Authority level (one of preamble.authorityLevels).'),
    overrides: z
      .array(identifier)
      .default([])
      .describe('Ids of principles this one takes precedence over.'),
    conflictsWith: z
      .array(identifier)
      .default([])
      .describe(
        'Ids of principles this one can conflict with; the linter checks a priority exists.',
      ),
    subRules: z.array(z.string()).default([]).describe('More specific rules under this one.'),
    examples: z.array(ExampleSchema).default([]).describe('Good and bad behaviour.'),
    domains: z.array(z.string()).default([]).describe('Domains the principle applies in.'),
    tags: z.array(z.string()).default([]).describe('Free labels.'),
  })
  .strict();

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);

export const EntitySchema = z
  .object({
    id: identifier,
    name: z.string(),
    description: z.string().optional(),
    attributes: z
      .record(z.string(), attributeValue)
      .default({})
      .describe('Concrete facts, e.g. origin, pricePerPound.'),
  })
  .strict()
  .describe('A concrete thing the spec talks about (a product, a plan, a cheese).');

export const SpecSchema = z
  .object({
    $schema: z.string().optional().describe('JSON Schema reference for editors; ignored.'),
    id: identifier.describe('Stable id of the spec, e.g. safety-values.'),
    title: z.string().min(1),
    version: z.string().min(1).describe('Version of this spec, e.g. 1.0.0.'),
    variables: z
      .record(variableName, TemplateVariableSchema)
      .default({})
      .describe('Template variables, substituted at render time.'),
    preamble: PreambleSchema.default({
      text: '',
      principals: [],
      authorityLevels: [],
      conflictResolution: '',
    }),
    values: z.array(ValueSchema).default([]).describe('Named values that principles serve.'),
    principles: z.array(PrincipleSchema).min(1, 'a spec needs at least one principle'),
    entities: z
      .array(EntitySchema)
      .default([])
      .describe('Concrete items the principles refer to, with facts a document generator can use.'),
  })
  .strict()
  .describe('A midspec model spec: rules and the values behind them.');

/** A validated spec, defaults applied. */
export type Spec = z.output<typeof SpecSchema>;
/** What a spec file may contain: defaulted fields are optional. */
export type SpecInput = z.input<typeof SpecSchema>;
export type Principle = z.output<typeof PrincipleSchema>;
export type Value = z.output<typeof ValueSchema>;
export type Example = z.output<typeof ExampleSchema>;
export type ChatMessage = z.output<typeof ChatMessageSchema>;
export type Preamble = z.output<typeof PreambleSchema>;
export type Principal = z.output<typeof PrincipalSchema>;
export type TemplateVariable = z.output<typeof TemplateVariableSchema>;
export type Entity = z.output<typeof EntitySchema>;
